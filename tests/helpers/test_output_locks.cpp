// The ring buffer helpers, bpf_spin_lock across host threads, and checked mode's argument checks
// driven by the prototypes.
#include "tests/helpers/helper_test.hpp"

#include "helpers/helper_errno.hpp"
#include "helpers/kernel_helpers.hpp"
#include "helpers/proto.hpp"
#include "maps/ringbuf.hpp"

#include <cstring>
#include <thread>

using namespace ebpf;
using namespace helper_test;

namespace {

uint64_t u(const void* p) {
    return reinterpret_cast<uint64_t>(p);
}

} // namespace

TEST_CASE("ringbuf output, reserve, submit, discard and query", "[helpers][ringbuf]") {
    auto map = make_map(MapType::ringbuf, 0, 0, 4096);
    auto& ring = static_cast<RingBufMap&>(*map);
    // output(8 bytes); reserve 4, write, submit; reserve 4, discard; R0 = query(AVAIL_DATA).
    auto prog = load(R"(
        *(u64 *)(r10 -8) = 0x1122
        r1 = map[idx:0]
        r2 = r10
        r2 += -8
        r3 = 8
        r4 = 0
        call bpf_ringbuf_output#130
        if r0 != 0x0 goto out
        r1 = map[idx:0]
        r2 = 4
        r3 = 0
        call bpf_ringbuf_reserve#131
        if r0 == 0x0 goto out
        *(u32 *)(r0 +0) = 0x3344
        r1 = r0
        r2 = 0
        call bpf_ringbuf_submit#132
        r1 = map[idx:0]
        r2 = 4
        r3 = 0
        call bpf_ringbuf_reserve#131
        if r0 == 0x0 goto out
        r1 = r0
        r2 = 0
        call bpf_ringbuf_discard#133
        r1 = map[idx:0]
        r2 = 0
        call bpf_ringbuf_query#134
    out:
        exit
    )",
                     {map.get()});
    for (Mode mode : both_modes) {
        RunState state;
        auto r0 = run(prog, state, mode);
        INFO(mode_name(mode));
        REQUIRE(r0);
        CHECK(*r0 == 16 + 16 + 16); // three records of header + data rounded to 8
        auto records = ring.consume();
        REQUIRE(records.size() == 2);
        CHECK(records[0].size() == 8);
        uint32_t second;
        std::memcpy(&second, records[1].data(), 4);
        CHECK(second == 0x3344);
    }
    RunState state;
    const uint64_t data = 1;
    CHECK(helpers::ringbuf_output(u(map.get()), u(&data), 8, 4, 0, &state) == neg(herr::einval));
    CHECK(helpers::ringbuf_reserve(u(map.get()), 8, 1, 0, 0, &state) == 0);
    CHECK(helpers::ringbuf_reserve(u(map.get()), 8192, 0, 0, 0, &state) == 0);
    CHECK(helpers::ringbuf_query(u(map.get()), 1, 0, 0, 0, &state) == 4096);
    // A record no ring of the run reserved.
    state.maps = {};
    CHECK(helpers::ringbuf_submit(u(&data), 0, 0, 0, 0, &state) == 0);
    CHECK(state.faulted());
}

TEST_CASE("bpf_spin_lock excludes programs on other host threads", "[helpers][spin_lock]") {
    // value: { u32 lock; u32 pad; u64 counter }; the program adds 1 under the lock.
    MapDef def;
    def.type = MapType::array;
    def.key_size = 4;
    def.value_size = 16;
    def.max_entries = 1;
    def.spin_lock_off = 0;
    auto map = create_map(def);
    REQUIRE(map);
    auto prog = load(R"(
        *(u32 *)(r10 -4) = 0
        r1 = map[idx:0]
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem#1
        if r0 == 0x0 goto out
        r6 = r0
        r1 = r6
        call bpf_spin_lock#93
        r1 = *(u64 *)(r6 +8)
        r1 += 1
        *(u64 *)(r6 +8) = r1
        r1 = r6
        call bpf_spin_unlock#94
    out:
        r0 = 0
        exit
    )",
                     {map->get()});
    constexpr int threads = 4, runs = 2000;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            for (int i = 0; i < runs; ++i) {
                RunState state;
                state.cpu = 0;
                (void)run(prog, state, t % 2 ? Mode::checked : Mode::fast);
            }
        });
    }
    for (auto& th : pool)
        th.join();
    const uint32_t key = 0;
    auto* value = static_cast<uint8_t*>((*map)->lookup(&key, 0));
    uint64_t counter;
    std::memcpy(&counter, value + 8, 8);
    CHECK(counter == threads * runs);
}

TEST_CASE("checked runs fault on a second lock, a stray unlock, and a lock held at the end",
          "[helpers][spin_lock]") {
    uint32_t lock = 0;
    RunState state;
    state.checked = true;
    CHECK(helpers::spin_unlock(u(&lock), 0, 0, 0, 0, &state) == 0);
    CHECK(state.faulted());
    {
        RunState holder;
        holder.checked = true;
        helpers::spin_lock(u(&lock), 0, 0, 0, 0, &holder);
        CHECK(lock != 0);
        helpers::spin_lock(u(&lock), 0, 0, 0, 0, &holder);
        CHECK(holder.faulted());
    }
    CHECK(lock == 0); // given back when the run's state went away
}

TEST_CASE("checked mode checks pointer arguments against the prototype", "[helpers][checked]") {
    auto map = make_map(MapType::hash, 8, 8, 2);
    auto other = make_map(MapType::hash, 8, 8, 2);
    struct Bad {
        const char* what;
        std::string text;
        const char* message;
    };
    const std::vector<Bad> bad = {
        {"a key past the stack",
         "r1 = map[idx:0]\nr2 = r10\nr2 += -4\ncall bpf_map_lookup_elem#1\nexit",
         "bpf_map_lookup_elem: R2 (8 bytes at"},
        {"a map the run does not have",
         "r1 = " + std::to_string(u(other.get())) +
             " ll\nr2 = r10\nr2 += -8\ncall bpf_map_lookup_elem#1\nexit",
         "is not a map of the run"},
        {"a value that is not there",
         "r1 = map[idx:0]\nr2 = r10\nr2 += -8\nr3 = 16\nr4 = 0\ncall bpf_map_update_elem#2\nexit",
         "bpf_map_update_elem: R3"},
        {"a buffer the helper would write past",
         "r1 = r10\nr1 += -8\nr2 = 16\ncall bpf_get_current_comm#16\nexit",
         "bpf_get_current_comm: R1 (16 bytes"},
        {"a misaligned lock", "r1 = r10\nr1 += -7\ncall bpf_spin_lock#93\nexit",
         "not a 4-byte aligned bpf_spin_lock"},
        {"a context that is not the run's", "r1 = r10\nr2 = 0\ncall bpf_skb_pull_data#39\nexit",
         "is not the run's context"},
    };
    for (const Bad& b : bad) {
        INFO(b.what);
        auto prog = load(b.text, {map.get()});
        RunState state;
        uint8_t ctx[8];
        state.ctx = ctx;
        auto r0 = run(prog, state, Mode::checked, u(ctx));
        REQUIRE_FALSE(r0);
        CHECK(r0.error().message.find(b.message) != std::string::npos);
    }
}

TEST_CASE("every kernel helper the VM registers has the kernel's prototype", "[helpers]") {
    const HelperRegistry& reg = vm().helpers();
    size_t n = 0;
    for (int32_t id = 1; id < 256; ++id) {
        if (!reg.find(id)) continue;
        INFO(kernel_helper_name(id));
        CHECK(kernel_helper_proto(id) != nullptr);
        ++n;
    }
    CHECK(n >= 48);
}
