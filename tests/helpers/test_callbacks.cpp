// bpf_loop and bpf_for_each_map_elem: callbacks run through the engine, the kernel's counts,
// stops and errors.
#include "tests/helpers/helper_test.hpp"

#include "helpers/kernel_helpers.hpp"
#include "maps/kernel_errno.hpp"

using namespace ebpf;
using namespace helper_test;

namespace {

// bpf_loop(5, cb, &sum, 0) where cb adds its index to sum and stops at index 3:
// R0 = loops done + 100 * sum.
const char* loop_prog = R"(
    *(u64 *)(r10 -8) = 0
    r1 = 5
    r2 = subprog[+9]
    r3 = r10
    r3 += -8
    r4 = 0
    call bpf_loop#181
    r6 = *(u64 *)(r10 -8)
    r6 *= 100
    r0 += r6
    exit
    r0 = *(u64 *)(r2 +0)
    r0 += r1
    *(u64 *)(r2 +0) = r0
    r0 = 0
    if r1 != 0x3 goto done
    r0 = 1
done:
    exit
)";

// bpf_for_each_map_elem(map, cb, &sum, 0) where cb adds each value to sum and stops at key 2:
// R0 = elements visited + 100 * sum.
const char* for_each_prog = R"(
    *(u64 *)(r10 -8) = 0
    r1 = map[idx:0]
    r2 = subprog[+9]
    r3 = r10
    r3 += -8
    r4 = 0
    call bpf_for_each_map_elem#164
    r6 = *(u64 *)(r10 -8)
    r6 *= 100
    r0 += r6
    exit
    r5 = *(u64 *)(r3 +0)
    r0 = *(u64 *)(r4 +0)
    r0 += r5
    *(u64 *)(r4 +0) = r0
    r0 = 0
    r5 = *(u32 *)(r2 +0)
    if r5 != 0x2 goto done
    r0 = 1
done:
    exit
)";

} // namespace

TEST_CASE("bpf_loop calls back with the index and the context until told to stop",
          "[helpers][callbacks]") {
    auto prog = load(loop_prog);
    for (Mode mode : both_modes) {
        RunState state;
        auto r0 = run(prog, state, mode);
        INFO(mode_name(mode));
        REQUIRE(r0);
        CHECK(*r0 == 4 + 100 * (0 + 1 + 2 + 3));
    }
}

TEST_CASE("bpf_loop refuses flags and more than BPF_MAX_LOOPS", "[helpers][callbacks]") {
    RunState state;
    CHECK(helpers::loop(1, 0, 0, 1, 0, &state) == neg(kerr::einval));
    CHECK(helpers::loop((1u << 23) + 1, 0, 0, 0, 0, &state) == neg(kerr::e2big));
    // No engine to call back through (the JIT does not run callbacks): a fault, not a crash.
    CHECK(helpers::loop(1, 0, 0, 0, 0, &state) == 0);
    CHECK(state.faulted());
    RunState zero;
    CHECK(helpers::loop(0, 0, 0, 0, 0, &zero) == 0);
}

TEST_CASE("bpf_for_each_map_elem walks an array, counting the element it stops at",
          "[helpers][callbacks]") {
    auto map = make_map(MapType::array, 4, 8, 4);
    for (uint32_t k = 0; k < 4; ++k) {
        const uint64_t v = 10 * (k + 1);
        REQUIRE(map->update(&k, &v, BPF_ANY, 0) == 0);
    }
    auto prog = load(for_each_prog, {map.get()});
    for (Mode mode : both_modes) {
        RunState state;
        auto r0 = run(prog, state, mode);
        INFO(mode_name(mode));
        REQUIRE(r0);
        CHECK(*r0 == 3 + 100 * (10 + 20 + 30));
    }
}

TEST_CASE("bpf_for_each_map_elem walks a hash map and this CPU's per-CPU values",
          "[helpers][callbacks]") {
    auto hash = make_map(MapType::hash, 4, 8, 8);
    for (uint32_t k : {5u, 7u, 9u}) {
        const uint64_t v = k;
        REQUIRE(hash->update(&k, &v, BPF_ANY, 0) == 0);
    }
    auto prog = load(for_each_prog, {hash.get()}); // no key 2: visits all
    auto percpu = make_map(MapType::percpu_array, 4, 8, 3, 2);
    for (uint32_t k = 0; k < 3; ++k) {
        const uint64_t v0 = 1, v1 = 1000;
        REQUIRE(percpu->update(&k, &v0, BPF_ANY, 0) == 0);
        REQUIRE(percpu->update(&k, &v1, BPF_ANY, 1) == 0);
    }
    auto percpu_prog = load(for_each_prog, {percpu.get()});
    for (Mode mode : both_modes) {
        INFO(mode_name(mode));
        RunState state;
        auto r0 = run(prog, state, mode);
        REQUIRE(r0);
        CHECK(*r0 == 3 + 100 * (5 + 7 + 9));
        RunState on_cpu1;
        on_cpu1.cpu = 1;
        r0 = run(percpu_prog, on_cpu1, mode);
        REQUIRE(r0);
        CHECK(*r0 == 3 + 100 * 3000);
    }
}

TEST_CASE("bpf_for_each_map_elem survives a callback that deletes what it visits",
          "[helpers][callbacks]") {
    auto hash = make_map(MapType::hash, 4, 8, 8);
    for (uint32_t k = 1; k <= 5; ++k) {
        const uint64_t v = k;
        REQUIRE(hash->update(&k, &v, BPF_ANY, 0) == 0);
    }
    // cb(map, key, value, ctx): delete key; 0
    auto prog = load(R"(
        r1 = map[idx:0]
        r2 = subprog[+5]
        r3 = 0
        r4 = 0
        call bpf_for_each_map_elem#164
        exit
        r2 = r2
        call bpf_map_delete_elem#3
        r0 = 0
        exit
    )",
                     {hash.get()});
    RunState state;
    auto r0 = run(prog, state, Mode::checked);
    REQUIRE(r0);
    CHECK(*r0 == 5);
    uint32_t key;
    CHECK(hash->get_next_key(nullptr, &key) == -kerr::enoent);
}

TEST_CASE("bpf_for_each_map_elem refuses flags and kinds without a for-each callback",
          "[helpers][callbacks]") {
    auto array = make_map(MapType::array, 4, 8, 1);
    auto queue = make_map(MapType::queue, 0, 8, 1);
    RunState state;
    CHECK(helpers::for_each_map_elem(reinterpret_cast<uint64_t>(array.get()), 0, 0, 1, 0, &state) ==
          neg(kerr::einval));
    state.call_subprog = [](RunState*, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t,
                            uint64_t) -> uint64_t { return 0; };
    CHECK(helpers::for_each_map_elem(reinterpret_cast<uint64_t>(queue.get()), 0, 0, 0, 0, &state) ==
          0);
    CHECK(state.faulted());
    CHECK(state.fault_message().find("queue") != std::string::npos);
}
