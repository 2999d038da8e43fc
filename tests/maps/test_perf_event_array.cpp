// BPF_MAP_TYPE_PERF_EVENT_ARRAY.
#include "maps/perf_event_array.hpp"
#include "tests/maps/map_test_support.hpp"

#include <thread>

using namespace ebpf;
using test::map_def;

namespace {

std::shared_ptr<PerfEventArrayMap> perf_array(uint32_t max_entries, uint32_t ncpus) {
    auto map = std::dynamic_pointer_cast<PerfEventArrayMap>(
        test::make_map(map_def(MapType::perf_event_array, 4, 4, max_entries), ncpus));
    REQUIRE(map);
    return map;
}

} // namespace

TEST_CASE("perf event array: records per CPU, in order", "[maps][perf]") {
    auto map = perf_array(4, 2);
    CHECK(map->output(0, BPF_F_CURRENT_CPU, "one", 3) == 0);
    CHECK(map->output(1, BPF_F_CURRENT_CPU, "two", 3) == 0);
    CHECK(map->output(0, 0, "three", 5) == 0); // slot 0 named, from CPU 0
    const auto cpu0 = map->consume(0);
    REQUIRE(cpu0.size() == 2);
    CHECK(cpu0[0] == std::vector<uint8_t>{'o', 'n', 'e'});
    CHECK(cpu0[1] == std::vector<uint8_t>{'t', 'h', 'r', 'e', 'e'});
    CHECK(map->consume(0).empty());
    const auto cpu1 = map->consume(1);
    REQUIRE(cpu1.size() == 1);
    CHECK(cpu1[0] == std::vector<uint8_t>{'t', 'w', 'o'});
    CHECK(map->consume(5).empty());
    CHECK(map->output(0, BPF_F_CURRENT_CPU, nullptr, 0) == 0);
    const auto empty = map->consume(0);
    REQUIRE(empty.size() == 1);
    CHECK(empty[0].empty());
}

TEST_CASE("perf event array: bpf_perf_event_output's errors", "[maps][perf]") {
    auto map = perf_array(4, 2);
    CHECK(map->output(0, uint64_t{1} << 60, "x", 1) == -kerr::einval);
    CHECK(map->output(0, BPF_F_CURRENT_CPU | (uint64_t{5} << 32), "x", 1) == 0); // ctx length bits
    CHECK(map->output(0, 4, "x", 1) == -kerr::e2big);
    CHECK(map->output(0, 2, "x", 1) == -kerr::enoent);     // slots past ncpus hold no event
    CHECK(map->output(0, 1, "x", 1) == -kerr::eopnotsupp); // slot 1's event is on CPU 1
    uint32_t key = 0;
    CHECK(map->sys_delete(&key) == 0);
    CHECK(map->sys_delete(&key) == -kerr::enoent);
    CHECK(map->output(0, BPF_F_CURRENT_CPU, "x", 1) == -kerr::enoent);
    key = 4;
    CHECK(map->sys_delete(&key) == -kerr::e2big);
    uint32_t fd = 3;
    key = 0;
    CHECK(map->sys_update(&key, &fd, BPF_NOEXIST) == -kerr::einval);
    CHECK(map->sys_update(&key, &fd, BPF_ANY) == -kerr::ebadf);
    uint32_t out;
    CHECK(map->sys_lookup(&key, &out) == -kerr::enotsupp);
    CHECK(map->get_next_key(nullptr, &out) == 0);
    CHECK(out == 0);
}

TEST_CASE("perf event array: a full buffer loses records; the ring wraps", "[maps][perf]") {
    auto map = perf_array(1, 1);
    std::vector<uint8_t> data(1000);
    for (size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<uint8_t>(i * 7);
    uint64_t sent = 0;
    while (map->output(0, BPF_F_CURRENT_CPU, data.data(), data.size()) == 0)
        ++sent;
    CHECK(sent == PerfEventArrayMap::buffer_size / 1016); // 8 + 4 + 1000 rounded up to 8
    CHECK(map->output(0, BPF_F_CURRENT_CPU, data.data(), data.size()) == -kerr::enospc);
    CHECK(map->output(0, BPF_F_CURRENT_CPU, data.data(), uint64_t{1} << 40) == -kerr::enospc);
    CHECK(map->lost(0) == 3);
    CHECK(map->consume(0).size() == sent);
    // the next records cross the end of the ring
    for (int i = 0; i < 3; ++i)
        CHECK(map->output(0, BPF_F_CURRENT_CPU, data.data(), data.size()) == 0);
    const auto records = map->consume(0);
    REQUIRE(records.size() == 3);
    for (const auto& record : records)
        CHECK(record == data);
}

TEST_CASE("perf event array: CPUs output at once", "[maps][perf][threads]") {
    auto map = perf_array(2, 2);
    auto sender = [&](uint32_t cpu) {
        for (uint32_t i = 0; i < 1000; ++i)
            map->output(cpu, BPF_F_CURRENT_CPU, &i, 4);
    };
    std::thread a(sender, 0), b(sender, 1);
    a.join();
    b.join();
    for (uint32_t cpu = 0; cpu < 2; ++cpu) {
        const auto records = map->consume(cpu);
        REQUIRE(records.size() == 1000);
        for (uint32_t i = 0; i < 1000; ++i)
            CHECK(test::load<uint32_t>(records[i].data()) == i);
    }
}
