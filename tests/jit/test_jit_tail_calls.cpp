// Tail calls and callbacks through the JIT give the interpreter's results: chains through a prog
// array, the kernel's limit of 33, empty and out-of-range slots, tail calls from subprograms,
// bpf_loop-style callbacks (with faults and frame limits inside), and lazy compilation of targets
// from many threads at once.
#include "jit/jit.hpp"
#include "maps/prog_array.hpp"
#include "vm/isa/assembler.hpp"
#include "vm/vm.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <deque>
#include <thread>

using namespace ebpf;

namespace {

// The kernel's bpf_tail_call (kernel/bpf/core.c): an index past the array, the 34th tail call of
// a run or an empty slot leave the program running after the call.
uint64_t tail_call(uint64_t, uint64_t map, uint64_t index, uint64_t, uint64_t, RunState* state) {
    const auto& array = *reinterpret_cast<const ProgArrayMap*>(map);
    if (index >= array.def().max_entries) return 0;
    if (state->tail_call_cnt >= MAX_TAIL_CALL_CNT) return 0;
    ++state->tail_call_cnt;
    state->pending_tail_call = array.get(static_cast<uint32_t>(index));
    return 0;
}

// bpf_loop: calls the callback at instruction r2 with (i, r3) for i < r1 until it returns
// non-zero; returns the number of calls.
uint64_t test_loop(uint64_t nr, uint64_t callback, uint64_t ctx, uint64_t, uint64_t,
                   RunState* state) {
    for (uint64_t i = 0; i < nr; ++i) {
        const uint64_t r = state->call_subprog(state, callback, i, ctx, 0, 0, 0);
        if (state->faulted()) return 0;
        if (r != 0) return i + 1;
    }
    return nr;
}

uint64_t faulting(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, RunState* state) {
    if (r1 == 13) state->fault("unlucky r1");
    return r1 + 1;
}

constexpr int32_t loop_id = 0x20001; // "call test_loop#131073"
constexpr int32_t faulting_id = 0x20000;

// Programs sharing one prog array (map index 0) and the test helpers.
struct World {
    Vm vm;
    std::shared_ptr<Map> array;
    std::vector<Map*> maps;
    std::deque<Program> programs; // stable addresses for the prog array

    World() {
        vm.register_helper(12, "bpf_tail_call", &tail_call);
        vm.register_helper(loop_id, "test_loop", &test_loop);
        vm.register_helper(faulting_id, "faulting", &faulting);
        MapDef def;
        def.type = MapType::prog_array;
        def.key_size = def.value_size = 4;
        def.max_entries = 8;
        array = *create_map(def);
        maps = {array.get()};
    }

    const Program& load(const char* text, std::optional<uint32_t> slot = std::nullopt) {
        auto insns = assemble(text);
        INFO((insns ? std::string() : insns.error().to_string()));
        REQUIRE(insns.ok());
        auto prog = Program::load(*insns, vm.helpers(), maps);
        INFO((prog ? std::string() : prog.error().to_string()));
        REQUIRE(prog.ok());
        programs.push_back(std::move(*prog));
        if (slot) REQUIRE(static_cast<ProgArrayMap&>(*array).set(*slot, &programs.back()) == 0);
        return programs.back();
    }
};

struct Outcome {
    Result<RunResult> result;
    std::array<uint64_t, 4> memory{}; // what r1 points to
    uint32_t tail_calls = 0;
};

std::string describe(const Result<RunResult>& r) {
    return r ? "r0 = " + std::to_string(r->r0) : r.error().to_string();
}

template <typename Engine> Outcome run(Engine&& engine) {
    Outcome out{Error{"not run", std::nullopt}};
    RunState state;
    RunArgs args;
    args.r1 = reinterpret_cast<uint64_t>(out.memory.data());
    out.result = engine(args, state);
    out.tail_calls = state.tail_call_cnt;
    return out;
}

// Runs `prog` in the interpreter and the JIT and requires the same r0 or error, memory and
// number of tail calls; returns the JIT's outcome.
Outcome same_as_interpreter(const Program& prog) {
    auto jitted = jit_compile(prog);
    REQUIRE(jitted.ok());
    const Outcome expected =
        run([&](const RunArgs& a, RunState& s) { return interpret(prog, a, s); });
    const Outcome got = run([&](const RunArgs& a, RunState& s) { return jitted->run(a, s); });
    INFO("interpreter: " << describe(expected.result) << "; JIT: " << describe(got.result));
    REQUIRE(expected.result.ok() == got.result.ok());
    if (got.result)
        CHECK(got.result->r0 == expected.result->r0);
    else
        CHECK(got.result.error().to_string() == expected.result.error().to_string());
    CHECK(got.memory == expected.memory);
    CHECK(got.tail_calls == expected.tail_calls);
    return got;
}

// Counts its run in memory[0], leaves 7 on its stack and tail-calls slot 1.
constexpr const char* chain_head = R"(
    r6 = r1
    r2 = *(u64 *)(r6 +0)
    r2 += 1
    *(u64 *)(r6 +0) = r2
    r3 = 7
    *(u64 *)(r10 -8) = r3
    r2 = map[idx:0]
    r3 = 1
    call bpf_tail_call#12
    r0 = 99
    exit
)";
// Slot 1: counts in memory[1] through its R1, reads the stack it continues on, tail-calls slot 2.
constexpr const char* chain_middle = R"(
    r2 = *(u64 *)(r1 +8)
    r2 += 10
    *(u64 *)(r1 +8) = r2
    r3 = *(u64 *)(r10 -8)
    r3 *= 3
    *(u64 *)(r10 -8) = r3
    r2 = map[idx:0]
    r3 = 2
    call bpf_tail_call#12
    r0 = 98
    exit
)";
// Slot 2: combines what the chain left.
constexpr const char* chain_tail = R"(
    r0 = *(u64 *)(r1 +0)
    r2 = *(u64 *)(r1 +8)
    r2 *= 100
    r0 += r2
    r2 = *(u64 *)(r10 -8)
    r2 *= 1000
    r0 += r2
    exit
)";

} // namespace

TEST_CASE("a tail-call chain continues in each target's code, on the same stack") {
    World w;
    const Program& head = w.load(chain_head, 0);
    w.load(chain_middle, 1);
    w.load(chain_tail, 2);
    const Outcome got = same_as_interpreter(head);
    CHECK(got.result->r0 == 1 + 10 * 100 + 21 * 1000);
    CHECK(got.tail_calls == 2);
}

TEST_CASE("the 34th tail call of a run fails and the program goes on") {
    World w;
    // Slot 3 counts its runs in memory[2] and tail-calls itself.
    const Program& self = w.load(R"(
        r6 = r1
        r2 = *(u64 *)(r6 +16)
        r2 += 1
        *(u64 *)(r6 +16) = r2
        r1 = r6
        r2 = map[idx:0]
        r3 = 3
        call bpf_tail_call#12
        r0 = *(u64 *)(r6 +16)
        exit
    )",
                                 3);
    const Outcome got = same_as_interpreter(self);
    CHECK(got.result->r0 == 1 + MAX_TAIL_CALL_CNT);
    CHECK(got.tail_calls == MAX_TAIL_CALL_CNT);
}

TEST_CASE("a tail call to an empty slot or past the array falls through") {
    World w;
    const Program& prog = w.load(R"(
        r6 = r1
        r2 = map[idx:0]
        r3 = 5
        call bpf_tail_call#12
        r7 = 1
        r1 = r6
        r2 = map[idx:0]
        r3 = 100
        call bpf_tail_call#12
        r7 += 2
        r0 = r7
        exit
    )");
    const Outcome got = same_as_interpreter(prog);
    CHECK(got.result->r0 == 3);
    CHECK(got.tail_calls == 1); // the kernel counts the empty slot's attempt, not the index past
}

TEST_CASE("a tail call from a subprogram replaces that frame only") {
    World w;
    w.load(chain_tail, 2);
    const Program& prog = w.load(R"(
        r6 = r1
        r1 = 5
        *(u64 *)(r6 +0) = r1
        r1 = r6
        call f
        r0 += r6
        r0 -= r6
        r0 += 1000000
        exit
    f:
        r2 = map[idx:0]
        r3 = 2
        call bpf_tail_call#12
        r0 = 5
        exit
    )");
    CHECK(same_as_interpreter(prog).result->r0 == 1000005);
}

TEST_CASE("after a subprogram's tail call returns, callbacks and calls use the caller's program") {
    World w;
    // Slot 3 returns 100; the callback at instruction 11 exists only in the caller's program.
    w.load("r0 = 100\nexit", 3);
    const Program& prog = w.load(R"(
        r6 = r1
        call f
        r7 = r0
        r1 = 2
        r2 = subprog[+6]
        r3 = 0
        r4 = 0
        call test_loop#131073
        r0 += r7
        exit
        r0 = 0
        exit
    f:
        r2 = map[idx:0]
        r3 = 3
        call bpf_tail_call#12
        r0 = 5
        exit
    )");
    CHECK(same_as_interpreter(prog).result->r0 == 102);
}

TEST_CASE("a tail call's target faults at its own instruction") {
    World w;
    w.load("r1 = 13\nr0 = 0\ncall faulting#131072\nexit", 4);
    const Program& prog = w.load("r2 = map[idx:0]\nr3 = 4\ncall bpf_tail_call#12\nr0 = 1\nexit");
    auto r = same_as_interpreter(prog).result;
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().insn == 2u);
    CHECK(r.error().message == "unlucky r1");
}

TEST_CASE("targets compile once, lazily, however many threads reach them") {
    World w;
    const Program& head = w.load(chain_head, 0);
    w.load(chain_middle, 1);
    w.load(chain_tail, 2);
    auto jitted = jit_compile(head);
    REQUIRE(jitted.ok());
    constexpr int threads = 4, runs = 2000;
    std::atomic<int> right{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&] {
            for (int i = 0; i < runs; ++i) {
                std::array<uint64_t, 4> memory{};
                RunState state;
                auto r = jitted->run({reinterpret_cast<uint64_t>(memory.data())}, state);
                right += r && r->r0 == 1 + 10 * 100 + 21 * 1000;
            }
        });
    for (auto& t : pool)
        t.join();
    CHECK(right == threads * runs);

    JitCache cache;
    auto first = cache.get(head);
    REQUIRE(first.ok());
    CHECK(*cache.get(head) == *first);
}

TEST_CASE("callbacks run the program's subprograms with their arguments") {
    World w;
    // test_loop(10, cb, r6): cb adds each index to memory[0] and stops after index 6.
    const Program& prog = w.load(R"(
        r6 = r1
        r1 = 10
        r2 = subprog[+8]
        r3 = r6
        r4 = 0
        call test_loop#131073
        r0 <<= 8
        r1 = *(u64 *)(r6 +0)
        r0 += r1
        exit
        r0 = *(u64 *)(r2 +0)
        r0 += r1
        *(u64 *)(r2 +0) = r0
        r0 = 0
        if r1 != 0x6 goto pc+1
        r0 = 1
        exit
    )");
    const Outcome got = same_as_interpreter(prog);
    CHECK(got.result->r0 == (7u << 8) + 21);
    CHECK(got.memory[0] == 21);
}

TEST_CASE("a callback's frame is zeroed, keeps r6-r9 and makes local calls") {
    World w;
    // The callback writes its own stack and r6-r9, calls a function, and returns r1 + 1; the
    // caller's r6-r9 and stack are as they were after the loop.
    const Program& prog = w.load(R"(
        r6 = r1
        r7 = 70
        r1 = 99
        *(u64 *)(r10 -8) = r1
        r1 = 3
        r2 = subprog[+9]
        r3 = r6
        r4 = 0
        call test_loop#131073
        r0 = *(u64 *)(r10 -8)
        r0 += r7
        r1 = *(u64 *)(r6 +0)
        r0 += r1
        exit
        r0 = *(u64 *)(r10 -8)
        r6 = r2
        r7 = r1
        r1 = 5
        *(u64 *)(r10 -8) = r1
        call pc+5
        r1 = *(u64 *)(r6 +0)
        r1 += r0
        *(u64 *)(r6 +0) = r1
        r0 = 0
        exit
        r0 = r7
        r0 += 1
        exit
    )");
    const Outcome got = same_as_interpreter(prog);
    CHECK(got.result->r0 == 99 + 70 + 6);
}

TEST_CASE("a fault or a frame limit inside a callback ends the run as in the interpreter") {
    World w;
    // The callback hands its index + 12 to the faulting helper: index 1 faults.
    const Program& faults = w.load(R"(
        r1 = 4
        r2 = subprog[+5]
        r3 = 0
        r4 = 0
        call test_loop#131073
        exit
        r1 += 12
        call faulting#131072
        r0 = 0
        exit
    )");
    auto r = same_as_interpreter(faults).result;
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().insn == 5u);
    CHECK_THAT(r.error().message, Catch::Contains("unlucky r1"));

    // The callback recurses: frames run out below the helper's caller.
    const Program& deep = w.load(R"(
        r1 = 1
        r2 = subprog[+5]
        r3 = 0
        r4 = 0
        call test_loop#131073
        exit
        call pc-1
        exit
    )");
    r = same_as_interpreter(deep).result;
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::Contains("over 8 frames"));

    const Program& outside =
        w.load("r1 = 1\nr2 = 1000\nr3 = 0\nr4 = 0\ncall test_loop#131073\nexit");
    r = same_as_interpreter(outside).result;
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::Contains("callback at insn 1000 is outside the program"));
}

TEST_CASE("a callback must start a function of the JIT's program") {
    // The interpreter would run from any instruction; the verifier lets only functions through.
    World w;
    const Program& prog =
        w.load("r1 = 1\nr2 = 5\nr3 = 0\nr4 = 0\ncall test_loop#131073\nexit\nr0 = 0\nexit");
    auto jitted = jit_compile(prog);
    REQUIRE(jitted.ok());
    RunState state;
    auto r = jitted->run({}, state);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message,
               Catch::Contains("callback at insn 5 is not the start of a function"));
}
