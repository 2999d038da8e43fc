// bpf_map_*_elem, bpf_map_lookup_percpu_elem and bpf_tail_call: the kernel's answers, through
// programs in both modes and called directly for every error path.
#include "tests/helpers/helper_test.hpp"

#include "helpers/kernel_helpers.hpp"
#include "maps/kernel_errno.hpp"
#include "maps/map_in_map.hpp"
#include "maps/prog_array.hpp"

#include <cstring>

using namespace ebpf;
using namespace helper_test;

namespace {

uint64_t u(const void* p) {
    return reinterpret_cast<uint64_t>(p);
}

// update(key 7 = 42), lookup it and return the value plus 1000 * update's result; then delete
// and look up again: R0 = value + 1000 * (update's r0) + 100000 * (second lookup is null).
const char* hash_prog = R"(
    *(u32 *)(r10 -4) = 7
    *(u64 *)(r10 -16) = 42
    r1 = map[idx:0]
    r2 = r10
    r2 += -4
    r3 = r10
    r3 += -16
    r4 = 0
    call bpf_map_update_elem#2
    r6 = r0
    r6 *= 1000
    r1 = map[idx:0]
    r2 = r10
    r2 += -4
    call bpf_map_lookup_elem#1
    if r0 == 0 goto out
    r7 = *(u64 *)(r0 +0)
    r6 += r7
    r1 = map[idx:0]
    r2 = r10
    r2 += -4
    call bpf_map_delete_elem#3
    r1 = map[idx:0]
    r2 = r10
    r2 += -4
    call bpf_map_lookup_elem#1
    if r0 != 0 goto out
    r6 += 100000
out:
    r0 = r6
    exit
)";

} // namespace

TEST_CASE("map helpers update, look up and delete through a program", "[helpers][maps]") {
    for (Mode mode : both_modes) {
        auto map = make_map(MapType::hash, 4, 8, 4);
        auto prog = load(hash_prog, {map.get()});
        RunState state;
        auto r0 = run(prog, state, mode);
        INFO(mode_name(mode));
        REQUIRE(r0);
        CHECK(*r0 == 100042);
    }
}

TEST_CASE("map helpers give the maps' error codes", "[helpers][maps]") {
    RunState state;
    auto hash = make_map(MapType::hash, 4, 8, 1);
    const uint32_t k1 = 1, k2 = 2;
    const uint64_t v = 5;
    using helpers::map_delete_elem, helpers::map_update_elem, helpers::map_lookup_elem;
    CHECK(map_update_elem(u(hash.get()), u(&k1), u(&v), BPF_EXIST, 0, &state) == neg(kerr::enoent));
    CHECK(map_update_elem(u(hash.get()), u(&k1), u(&v), BPF_NOEXIST, 0, &state) == 0);
    CHECK(map_update_elem(u(hash.get()), u(&k1), u(&v), BPF_NOEXIST, 0, &state) ==
          neg(kerr::eexist));
    CHECK(map_update_elem(u(hash.get()), u(&k2), u(&v), BPF_ANY, 0, &state) == neg(kerr::e2big));
    CHECK(map_update_elem(u(hash.get()), u(&k1), u(&v), 7, 0, &state) == neg(kerr::einval));
    CHECK(map_delete_elem(u(hash.get()), u(&k2), 0, 0, 0, &state) == neg(kerr::enoent));
    CHECK(map_lookup_elem(u(hash.get()), u(&k2), 0, 0, 0, &state) == 0);

    auto array = make_map(MapType::array, 4, 8, 2);
    CHECK(map_update_elem(u(array.get()), u(&k2), u(&v), BPF_ANY, 0, &state) == neg(kerr::e2big));
    CHECK(map_update_elem(u(array.get()), u(&k1), u(&v), BPF_NOEXIST, 0, &state) ==
          neg(kerr::eexist));
    CHECK(map_delete_elem(u(array.get()), u(&k1), 0, 0, 0, &state) == neg(kerr::einval));
    const uint64_t got = map_lookup_elem(u(array.get()), u(&k1), 0, 0, 0, &state);
    REQUIRE(got);
    CHECK(*reinterpret_cast<const uint64_t*>(got) == 0);
}

TEST_CASE("push, pop and peek follow queue and stack order with the kernel's errors",
          "[helpers][maps]") {
    RunState state;
    using helpers::map_peek_elem, helpers::map_pop_elem, helpers::map_push_elem;
    auto queue = make_map(MapType::queue, 0, 4, 2);
    auto stack = make_map(MapType::stack, 0, 4, 2);
    for (auto* m : {queue.get(), stack.get()}) {
        uint32_t out = 99;
        CHECK(map_pop_elem(u(m), u(&out), 0, 0, 0, &state) == neg(kerr::enoent));
        CHECK(out == 0); // zeroed as the kernel does
        for (uint32_t v : {1u, 2u})
            CHECK(map_push_elem(u(m), u(&v), BPF_ANY, 0, 0, &state) == 0);
        const uint32_t three = 3;
        CHECK(map_push_elem(u(m), u(&three), BPF_ANY, 0, 0, &state) == neg(kerr::e2big));
        CHECK(map_push_elem(u(m), u(&three), BPF_NOEXIST, 0, 0, &state) == neg(kerr::einval));
        CHECK(map_push_elem(u(m), u(&three), BPF_EXIST, 0, 0, &state) == 0); // drops the oldest
        CHECK(map_peek_elem(u(m), u(&out), 0, 0, 0, &state) == 0);
        CHECK(out == (m == queue.get() ? 2u : 3u));
        CHECK(map_pop_elem(u(m), u(&out), 0, 0, 0, &state) == 0);
        CHECK(out == (m == queue.get() ? 2u : 3u));
        CHECK(map_pop_elem(u(m), u(&out), 0, 0, 0, &state) == 0);
        CHECK(out == (m == queue.get() ? 3u : 2u));
    }
}

TEST_CASE("push and pop through a program in both modes", "[helpers][maps]") {
    const char* text = R"(
        *(u32 *)(r10 -4) = 11
        r1 = map[idx:0]
        r2 = r10
        r2 += -4
        r3 = 0
        call bpf_map_push_elem#87
        r1 = map[idx:0]
        r2 = r10
        r2 += -8
        call bpf_map_pop_elem#88
        r6 = r0
        r0 = *(u32 *)(r10 -8)
        r0 += r6
        exit
    )";
    for (Mode mode : both_modes) {
        auto queue = make_map(MapType::queue, 0, 4, 2);
        auto prog = load(text, {queue.get()});
        RunState state;
        auto r0 = run(prog, state, mode);
        INFO(mode_name(mode));
        REQUIRE(r0);
        CHECK(*r0 == 11);
    }
}

TEST_CASE("lookup_percpu_elem reads any CPU's copy and refuses CPUs past the map's",
          "[helpers][maps]") {
    RunState state;
    state.cpu = 0;
    auto map = make_map(MapType::percpu_array, 4, 8, 1, 4);
    const uint32_t key = 0;
    for (uint32_t cpu = 0; cpu < 4; ++cpu) {
        const uint64_t v = 100 + cpu;
        REQUIRE(map->update(&key, &v, BPF_ANY, cpu) == 0);
    }
    for (uint64_t cpu = 0; cpu < 4; ++cpu) {
        const uint64_t p =
            helpers::map_lookup_percpu_elem(u(map.get()), u(&key), cpu, 0, 0, &state);
        REQUIRE(p);
        CHECK(*reinterpret_cast<const uint64_t*>(p) == 100 + cpu);
    }
    CHECK(helpers::map_lookup_percpu_elem(u(map.get()), u(&key), 4, 0, 0, &state) == 0);
    const uint32_t bad_key = 1;
    CHECK(helpers::map_lookup_percpu_elem(u(map.get()), u(&bad_key), 1, 0, 0, &state) == 0);

    auto hash = make_map(MapType::percpu_hash, 4, 8, 2, 2);
    const uint64_t v = 9;
    REQUIRE(hash->update(&key, &v, BPF_ANY, 1) == 0);
    const uint64_t p = helpers::map_lookup_percpu_elem(u(hash.get()), u(&key), 1, 0, 0, &state);
    REQUIRE(p);
    CHECK(*reinterpret_cast<const uint64_t*>(p) == 9);

    // Not a per-CPU map: the verifier refuses it; the helper faults.
    auto array = make_map(MapType::array, 4, 8, 1);
    CHECK(helpers::map_lookup_percpu_elem(u(array.get()), u(&key), 0, 0, 0, &state) == 0);
    CHECK(state.faulted());
}

TEST_CASE("a lookup in a map of maps hands out a map a checked run may use", "[helpers][maps]") {
    auto inner = make_map(MapType::array, 4, 8, 1);
    MapDef outer_def;
    outer_def.type = MapType::array_of_maps;
    outer_def.key_size = 4;
    outer_def.value_size = 4;
    outer_def.max_entries = 1;
    auto outer = create_map_in_map(outer_def, inner->def());
    REQUIRE(outer);
    const uint32_t zero = 0;
    REQUIRE(static_cast<MapInMap&>(**outer).set(&zero, inner) == 0);
    const uint64_t v = 77;
    REQUIRE(inner->update(&zero, &v, BPF_ANY, 0) == 0);
    // Look the inner map up, then its element 0, and read it.
    auto prog = load(R"(
        *(u32 *)(r10 -4) = 0
        r1 = map[idx:0]
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem#1
        if r0 == 0 goto out
        r1 = r0
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem#1
        if r0 == 0 goto out
        r0 = *(u64 *)(r0 +0)
    out:
        exit
    )",
                     {outer->get()});
    for (Mode mode : both_modes) {
        RunState state;
        auto r0 = run(prog, state, mode);
        INFO(mode_name(mode));
        REQUIRE(r0);
        CHECK(*r0 == 77);
    }
}

namespace {

// Program 0 tail-calls slot r1's program of its prog array; the others return their slot.
struct TailCalls {
    std::shared_ptr<Map> array = make_map(MapType::prog_array, 4, 4, 4);
    std::vector<Program> progs;

    TailCalls() {
        for (int slot = 1; slot < 4; ++slot)
            progs.push_back(load("r0 = " + std::to_string(slot) + "\nexit\n"));
    }
    ProgArrayMap& slots() { return static_cast<ProgArrayMap&>(*array); }
};

} // namespace

TEST_CASE("tail calls switch programs, fall through on a bad index or an empty slot",
          "[helpers][tail_call]") {
    TailCalls t;
    REQUIRE(t.slots().set(1, &t.progs[0]) == 0);
    REQUIRE(t.slots().set(3, &t.progs[2]) == 0);
    auto caller = load(R"(
        r3 = r1
        r1 = 0
        r2 = map[idx:0]
        call bpf_tail_call#12
        r0 = 100
        exit
    )",
                       {t.array.get()});
    for (Mode mode : both_modes) {
        INFO(mode_name(mode));
        for (auto [index, expect] :
             {std::pair<uint64_t, uint64_t>{1, 1}, {3, 3}, {2, 100}, {4, 100}, {0x100000001, 1}}) {
            RunState state;
            auto r0 = run(caller, state, mode, index);
            INFO("index " << index);
            REQUIRE(r0);
            CHECK(*r0 == expect);
        }
    }
}

TEST_CASE("tail calls stop at MAX_TAIL_CALL_CNT (33)", "[helpers][tail_call]") {
    auto array = make_map(MapType::prog_array, 4, 4, 1);
    // Counts its runs in r6 (kept across tail calls) and tail-calls itself.
    auto self = load(R"(
        r6 += 1
        r1 = 0
        r2 = map[idx:0]
        r3 = 0
        call bpf_tail_call#12
        r0 = r6
        exit
    )",
                     {array.get()});
    REQUIRE(static_cast<ProgArrayMap&>(*array).set(0, &self) == 0);
    for (Mode mode : both_modes) {
        RunState state;
        auto r0 = run(self, state, mode);
        INFO(mode_name(mode));
        REQUIRE(r0);
        CHECK(*r0 == 34); // the first run and 33 tail calls
        CHECK(state.tail_call_cnt == 33);
    }
    // An empty slot still counts, as in the kernel.
    RunState state;
    auto empty = make_map(MapType::prog_array, 4, 4, 1);
    CHECK(helpers::tail_call(0, u(empty.get()), 0, 0, 0, &state) == 0);
    CHECK(state.tail_call_cnt == 1);
    CHECK(state.pending_tail_call == nullptr);
    CHECK(helpers::tail_call(0, u(empty.get()), 1, 0, 0, &state) == 0);
    CHECK(state.tail_call_cnt == 1);
}
