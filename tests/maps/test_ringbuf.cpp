// BPF_MAP_TYPE_RINGBUF.
#include "maps/ringbuf.hpp"
#include "tests/maps/map_test_support.hpp"

#include <atomic>
#include <thread>

using namespace ebpf;
using test::load;
using test::map_def;

namespace {

std::shared_ptr<RingBufMap> ringbuf(uint32_t size = 4096) {
    auto map = std::dynamic_pointer_cast<RingBufMap>(
        test::make_map(map_def(MapType::ringbuf, 0, 0, size)));
    REQUIRE(map);
    return map;
}

} // namespace

TEST_CASE("ringbuf: reserve, submit, consume with the kernel's accounting", "[maps][ringbuf]") {
    auto rb = ringbuf();
    CHECK(rb->query(BPF_RB_RING_SIZE) == 4096);
    CHECK(rb->query(BPF_RB_AVAIL_DATA) == 0);
    CHECK(rb->query(99) == 0);
    auto* sample = static_cast<uint8_t*>(rb->reserve(5, 0));
    REQUIRE(sample);
    CHECK(reinterpret_cast<uintptr_t>(sample) % 8 == 0);
    std::memcpy(sample, "hello", 5);
    CHECK(rb->query(BPF_RB_PROD_POS) == 16);   // 8-byte header + 5, rounded up to 8
    CHECK(rb->query(BPF_RB_AVAIL_DATA) == 16); // a reserved record counts already
    CHECK(rb->records().empty());
    CHECK(rb->submit(sample, 0));
    CHECK_FALSE(rb->submit(sample, 0)); // not reserved any more
    CHECK(rb->output("abc", 3, BPF_RB_NO_WAKEUP) == 0);
    CHECK(rb->query(BPF_RB_PROD_POS) == 32);
    CHECK(rb->output(nullptr, 0, 0) == 0);
    CHECK(rb->query(BPF_RB_PROD_POS) == 40);
    const auto seen = rb->records();
    REQUIRE(seen.size() == 3);
    CHECK(seen[2].empty());
    CHECK(seen[0] == std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o'});
    CHECK(seen[1] == std::vector<uint8_t>{'a', 'b', 'c'});
    CHECK(rb->query(BPF_RB_CONS_POS) == 0);
    CHECK(rb->consume(1).size() == 1);
    CHECK(rb->query(BPF_RB_CONS_POS) == 16);
    CHECK(rb->query(BPF_RB_AVAIL_DATA) == 24);
    CHECK(rb->consume().size() == 2);
    CHECK(rb->query(BPF_RB_AVAIL_DATA) == 0);
    CHECK(rb->consume().empty());
}

TEST_CASE("ringbuf: flags, sizes and pointers the kernel refuses", "[maps][ringbuf]") {
    auto rb = ringbuf();
    CHECK(rb->reserve(8, 1) == nullptr);
    CHECK(rb->reserve(4089, 0) == nullptr); // more than the ring
    CHECK(rb->reserve(uint64_t{1} << 31, 0) == nullptr);
    CHECK(rb->output("x", 1, 4) == -kerr::einval);
    int local = 0;
    CHECK_FALSE(rb->submit(&local, 0));
    CHECK_FALSE(rb->discard(&local, 0));
    auto* sample = static_cast<uint8_t*>(rb->reserve(16, 0));
    REQUIRE(sample);
    CHECK_FALSE(rb->submit(sample + 8, 0)); // inside a record, not its start
    CHECK(rb->discard(sample, 0));
    CHECK_FALSE(rb->discard(sample, 0));
    uint8_t buf[4] = {};
    CHECK(rb->sys_lookup(nullptr, buf) == -kerr::enotsupp);
    CHECK(rb->sys_update(nullptr, buf, 0) == -kerr::enotsupp);
    CHECK(rb->get_next_key(nullptr, buf) == -kerr::enotsupp);
}

TEST_CASE("ringbuf: a reserved record holds back those after it", "[maps][ringbuf]") {
    auto rb = ringbuf();
    void* first = rb->reserve(4, 0);
    void* second = rb->reserve(4, 0);
    void* third = rb->reserve(4, 0);
    REQUIRE((first && second && third));
    std::memcpy(first, "AAAA", 4);
    std::memcpy(second, "BBBB", 4);
    std::memcpy(third, "CCCC", 4);
    CHECK(rb->submit(third, 0));
    CHECK(rb->discard(second, 0));
    CHECK(rb->consume().empty());
    CHECK(rb->query(BPF_RB_CONS_POS) == 0);
    CHECK(rb->submit(first, 0));
    const auto out = rb->consume();
    REQUIRE(out.size() == 2); // the discarded one is skipped
    CHECK(out[0] == std::vector<uint8_t>{'A', 'A', 'A', 'A'});
    CHECK(out[1] == std::vector<uint8_t>{'C', 'C', 'C', 'C'});
    CHECK(rb->query(BPF_RB_CONS_POS) == 48);
}

TEST_CASE("ringbuf: full until consumed, records wrap contiguously", "[maps][ringbuf]") {
    auto rb = ringbuf();
    // the producer may run at most size - 1 bytes ahead: 4088 bytes of records
    void* big = rb->reserve(4080, 0);
    REQUIRE(big);
    CHECK(rb->reserve(0, 0) == nullptr);
    CHECK(rb->output("x", 1, 0) == -kerr::eagain);
    CHECK(rb->submit(big, 0));
    CHECK(rb->output("x", 1, 0) == -kerr::eagain); // submitted is not consumed
    CHECK(rb->consume().size() == 1);
    // producer at 4088: the next record crosses the end of the ring
    auto* wrapped = static_cast<uint8_t*>(rb->reserve(100, 0));
    REQUIRE(wrapped);
    CHECK(rb->owns(reinterpret_cast<uint64_t>(wrapped), 100, true));
    for (int i = 0; i < 100; ++i)
        wrapped[i] = static_cast<uint8_t>(i);
    CHECK(rb->submit(wrapped, 0));
    auto* after = static_cast<uint8_t*>(rb->reserve(8, 0));
    REQUIRE(after);
    CHECK(after < wrapped); // back at the start of the ring
    std::memcpy(after, "12345678", 8);
    CHECK(rb->submit(after, 0));
    const auto out = rb->consume();
    REQUIRE(out.size() == 2);
    REQUIRE(out[0].size() == 100);
    for (int i = 0; i < 100; ++i)
        CHECK(out[0][i] == i);
    CHECK(out[1] == std::vector<uint8_t>{'1', '2', '3', '4', '5', '6', '7', '8'});
    CHECK(rb->query(BPF_RB_CONS_POS) == rb->query(BPF_RB_PROD_POS));
}

TEST_CASE("ringbuf: owns covers reserved data only", "[maps][ringbuf][checked]") {
    auto rb = ringbuf();
    auto* sample = static_cast<uint8_t*>(rb->reserve(12, 0));
    REQUIRE(sample);
    const auto addr = reinterpret_cast<uint64_t>(sample);
    CHECK(rb->owns(addr, 12, true));
    CHECK(rb->owns(addr + 4, 8, false));
    CHECK_FALSE(rb->owns(addr, 13, true));
    CHECK_FALSE(rb->owns(addr - 8, 4, false)); // the header
    CHECK(rb->submit(sample, 0));
    CHECK_FALSE(rb->owns(addr, 4, true));
}

TEST_CASE("ringbuf: producers on many threads, a consumer on another", "[maps][ringbuf][threads]") {
    auto rb = ringbuf(1 << 14);
    constexpr uint32_t per_thread = 20000;
    struct Record {
        uint32_t producer, seq;
    };
    std::atomic<int> producing{2};
    auto producer = [&](uint32_t id) {
        for (uint32_t seq = 0; seq < per_thread;) {
            if (seq % 2) {
                const Record r{id, seq};
                if (rb->output(&r, sizeof(r), 0) == 0) ++seq;
            } else if (auto* r = static_cast<Record*>(rb->reserve(sizeof(Record), 0))) {
                *r = Record{id, seq++};
                rb->submit(r, 0);
            }
        }
        --producing;
    };
    std::thread a(producer, 0), b(producer, 1);
    uint32_t next[2] = {0, 0};
    uint32_t out_of_order = 0;
    while (producing > 0 || rb->query(BPF_RB_AVAIL_DATA) > 0) {
        for (const auto& bytes : rb->consume()) {
            REQUIRE(bytes.size() == sizeof(Record));
            const auto r = load<Record>(bytes.data());
            REQUIRE(r.producer < 2);
            if (r.seq != next[r.producer]) ++out_of_order;
            next[r.producer] = r.seq + 1;
        }
    }
    a.join();
    b.join();
    CHECK(out_of_order == 0);
    CHECK(next[0] == per_thread);
    CHECK(next[1] == per_thread);
}
