// What the JIT does beyond computing: it ends runs early exactly where and how the interpreter
// does, keeps frames apart and zeroed, refuses checked runs, runs on many threads at once, and
// keeps its code in memory that is never writable and executable at once.
#include "jit/jit.hpp"
#include "vm/isa/assembler.hpp"
#include "vm/vm.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace ebpf;

namespace {

uint64_t faulting_helper(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, RunState* state) {
    if (r1 == 13) state->fault("unlucky r1");
    return r1 + 1;
}
constexpr int32_t faulting_id = 0x20000;

std::string describe(const Result<RunResult>& r) {
    return r ? "r0 = " + std::to_string(r->r0) : r.error().to_string();
}

// Runs `text` in the interpreter's fast mode and through the JIT, with the same memory and
// packet, and requires the same outcome; returns the JIT's.
Result<RunResult> same_as_interpreter(const char* text, std::vector<uint8_t> packet = {}) {
    auto insns = assemble(text);
    INFO((insns ? std::string() : insns.error().to_string()));
    REQUIRE(insns.ok());
    Vm vm;
    vm.register_helper(faulting_id, "faulting", &faulting_helper);
    auto prog = vm.load(*insns);
    INFO((prog ? std::string() : prog.error().to_string()));
    REQUIRE(prog.ok());
    auto jitted = jit_compile(*prog);
    REQUIRE(jitted.ok());
    const auto run = [&](auto&& engine) {
        RunState state;
        state.packet = packet.data();
        state.packet_len = packet.size();
        return engine(RunArgs{}, state);
    };
    auto expected = run([&](const RunArgs& a, RunState& s) { return interpret(*prog, a, s); });
    auto got = run([&](const RunArgs& a, RunState& s) { return jitted->run(a, s); });
    INFO("interpreter: " << describe(expected) << "; JIT: " << describe(got));
    REQUIRE(expected.ok() == got.ok());
    if (got)
        CHECK(got->r0 == expected->r0);
    else
        CHECK(got.error().to_string() == expected.error().to_string());
    return got;
}

} // namespace

TEST_CASE("a helper fault ends the JIT's run with the helper's message at the call") {
    auto r = same_as_interpreter(
        "r1 = 12\ncall faulting#131072\nr1 = r0\ncall faulting#131072\nr0 = 7\nexit");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().insn == 3u);
    CHECK(r.error().message == "unlucky r1");
    CHECK(same_as_interpreter("r1 = 1\ncall faulting#131072\nexit")->r0 == 2);
}

TEST_CASE("callx finds helpers by id at run time and names a register with none") {
    CHECK(same_as_interpreter("r1 = 8\ncallx r1\nr0 = 5\nexit")->r0 == 5);
    CHECK(same_as_interpreter("r1 = 1\nr6 = 131072\ncallx r6\nexit")->r0 == 2);
    auto r = same_as_interpreter("r7 = 4242\nr0 = 1\ncallx r7\nexit");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().insn == 2u);
    CHECK_THAT(r.error().message, Catch::Contains("r7 = 0x1092, which is no helper id"));
    // A fault inside a helper reached through callx.
    r = same_as_interpreter("r1 = 13\nr2 = 131072\ncallx r2\nexit");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "unlucky r1");
}

TEST_CASE("local calls nest up to eight frames, and no further") {
    // Each frame counts r1 down and calls the next while r1 is not zero.
    const char* countdown = R"(
        r0 = 0
        call f
        exit
    f:
        r0 += 1
        if r1 == 0x0 goto done
        r1 -= 1
        call f
    done:
        exit
    )";
    std::string seven = std::string("r1 = 6\n") + countdown; // 7 calls: 8 frames
    CHECK(same_as_interpreter(seven.c_str())->r0 == 7);
    std::string eight = std::string("r1 = 7\n") + countdown;
    auto r = same_as_interpreter(eight.c_str());
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::Contains("over 8 frames"));
    CHECK(r.error().insn == 7u);
    r = same_as_interpreter("call pc-1\nexit");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().insn == 0u);
}

TEST_CASE("every frame starts with a zeroed stack and keeps r6-r9 for its caller") {
    const char* prog = R"(
        r6 = 6
        r9 = 9
        call dirty
        call read
        r0 += r6
        r0 += r9
        exit
    dirty:
        r1 = -1
        *(u64 *)(r10 -8) = r1
        *(u64 *)(r10 -512) = r1
        r6 = 100
        r9 = 100
        exit
    read:
        r0 = *(u64 *)(r10 -8)
        r1 = *(u64 *)(r10 -512)
        r0 |= r1
        exit
    )";
    CHECK(same_as_interpreter(prog)->r0 == 15);
}

TEST_CASE("code that runs into a function's first instruction continues in its frame") {
    CHECK(same_as_interpreter("r0 = 1\ncall f\nr0 += 1\nf:\nr0 += 10\nexit")->r0 == 22);
}

TEST_CASE("legacy packet loads read network order and end the run past the packet") {
    const std::vector<uint8_t> packet{0, 0, 0x12, 0x34, 0, 0, 0, 1};
    CHECK(same_as_interpreter("r0 = *(u16 *)skb[2]\nr7 = r0\nr1 = 4\n"
                              "r0 = *(u32 *)skb[r1 + 0]\nr0 += r7\nexit",
                              packet)
              ->r0 == 0x1234 + 1);
    CHECK(same_as_interpreter("r0 = *(u8 *)skb[3]\nexit", packet)->r0 == 0x34);
    CHECK(same_as_interpreter("r1 = 5\nr0 = *(u32 *)skb[r1 + 0]\nr0 = 9\nexit", packet)->r0 == 0);
    CHECK(same_as_interpreter("r1 = -1\nr0 = *(u8 *)skb[r1 + 1]\nexit", packet)->r0 == 0);
    CHECK(same_as_interpreter("r1 = -2\nr0 = *(u8 *)skb[r1 + 1]\nr0 = 9\nexit", packet)->r0 == 0);
    CHECK(same_as_interpreter("r0 = 9\ncall f\nr0 = 8\nexit\nf:\nr0 = *(u8 *)skb[8]\nexit", packet)
              ->r0 == 0);
}

TEST_CASE("the JIT refuses checked runs") {
    Vm vm;
    auto prog = vm.load(*assemble("r0 = 1\nexit"));
    REQUIRE(prog.ok());
    auto jitted = jit_compile(*prog);
    REQUIRE(jitted.ok());
    RunState state;
    RunArgs args;
    args.mode = Mode::checked;
    auto r = jitted->run(args, state);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::Contains("fast mode only"));
}

TEST_CASE("one compiled program runs on many threads at once") {
    Vm vm;
    auto prog = vm.load(*assemble("r2 = 1\nlock *(u64 *)(r1 +0) += r2\nr0 = 1\nexit"));
    REQUIRE(prog.ok());
    auto jitted = jit_compile(*prog);
    REQUIRE(jitted.ok());
    alignas(8) uint64_t counter = 0;
    constexpr int threads = 4, runs = 20'000;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&] {
            for (int i = 0; i < runs; ++i) {
                RunState state;
                RunArgs args;
                args.r1 = reinterpret_cast<uint64_t>(&counter);
                (void)jitted->run(args, state);
            }
        });
    for (auto& t : pool)
        t.join();
    CHECK(counter == uint64_t{threads} * runs);
}

TEST_CASE("instruction offsets locate each instruction's code") {
    Vm vm;
    auto prog = vm.load(*assemble("r0 = 0x123456789 ll\nr0 += 1\ncall f\nexit\nf:\nexit"));
    REQUIRE(prog.ok());
    auto jitted = jit_compile(*prog);
    REQUIRE(jitted.ok());
    const auto offsets = jitted->insn_offsets();
    REQUIRE(offsets.size() == prog->insns().size() + 1);
    CHECK(offsets[0] == 0);
    for (size_t i = 1; i < offsets.size(); ++i)
        CHECK(offsets[i - 1] <= offsets[i]);
    CHECK(offsets[0] < offsets[1]);  // lddw emits code
    CHECK(offsets[1] == offsets[2]); // its second slot is where the next insn starts
    CHECK(offsets.back() < jitted->code().size());
}

#if defined(__linux__)
TEST_CASE("generated code is mapped read+execute, never writable") {
    Vm vm;
    auto prog = vm.load(*assemble("r0 = 1\nexit"));
    REQUIRE(prog.ok());
    auto jitted = jit_compile(*prog);
    REQUIRE(jitted.ok());
    const auto code = reinterpret_cast<uintptr_t>(jitted->code().data());
    std::ifstream maps("/proc/self/maps");
    std::string line, perms;
    bool found = false;
    while (std::getline(maps, line)) {
        uintptr_t lo = 0, hi = 0;
        char p[5] = {};
        if (std::sscanf(line.c_str(), "%lx-%lx %4s", &lo, &hi, p) != 3) continue;
        if (code >= lo && code < hi) {
            found = true;
            perms = p;
        }
    }
    REQUIRE(found);
    CHECK(perms.substr(0, 3) == "r-x");
}
#endif
