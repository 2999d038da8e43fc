// Interpreter semantics the conformance suite leaves implicit, and checked mode's faults. Every
// program runs in both modes where it can; checked mode must agree with fast mode.
#include "vm/isa/assembler.hpp"
#include "vm/vm.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace ebpf;

namespace {

std::vector<Insn> assembled(const char* text) {
    auto insns = assemble(text);
    INFO((insns ? std::string() : insns.error().to_string()));
    REQUIRE(insns.ok());
    return *insns;
}

// r0 in both modes, which must agree.
uint64_t run_both(const char* text, std::vector<uint8_t> memory = {}) {
    Vm vm;
    auto prog = vm.load(assembled(text));
    INFO((prog ? std::string() : prog.error().to_string()));
    REQUIRE(prog.ok());
    auto fast_memory = memory;
    auto checked = vm.run(*prog, memory, Mode::checked);
    INFO((checked ? std::string() : checked.error().to_string()));
    REQUIRE(checked.ok());
    auto fast = vm.run(*prog, fast_memory, Mode::fast);
    REQUIRE(fast.ok());
    CHECK(*fast == *checked);
    CHECK(fast_memory == memory);
    return *checked;
}

Error checked_fault(const char* text, std::vector<uint8_t> memory = {}) {
    Vm vm;
    auto prog = vm.load(assembled(text));
    REQUIRE(prog.ok());
    auto r0 = vm.run(*prog, memory, Mode::checked);
    REQUIRE_FALSE(r0.ok());
    return r0.error();
}

} // namespace

TEST_CASE("32-bit operations zero-extend into the 64-bit register") {
    CHECK(run_both("r0 = -1\nw0 += 0\nexit") == 0xffffffffu);
    CHECK(run_both("r0 = -1\nw0 = w0\nexit") == 0xffffffffu);
    CHECK(run_both("r0 = 1\nr0 <<= 40\nw0 = -w0\nexit") == 0);
    CHECK(run_both("r0 = -8\nw0 s>>= 1\nexit") == 0xfffffffcu);
}

TEST_CASE("division and modulo by zero follow the kernel") {
    CHECK(run_both("r0 = 7\nr1 = 0\nr0 /= r1\nexit") == 0);
    CHECK(run_both("r0 = 7\nr1 = 0\nr0 %= r1\nexit") == 7);
    CHECK(run_both("r0 = -1\nr1 = 0\nw0 %= w1\nexit") == 0xffffffffu);
    CHECK(run_both("r0 = -7\nr1 = 0\nr0 s%= r1\nexit") == static_cast<uint64_t>(-7));
    CHECK(run_both("r0 = 1\nr0 <<= 63\nr0 s/= -1\nexit") == 0x8000000000000000u);
    CHECK(run_both("r0 = 1\nr0 <<= 63\nr0 s%= -1\nexit") == 0);
}

TEST_CASE("shift counts are masked") {
    CHECK(run_both("r0 = 1\nr1 = 65\nr0 <<= r1\nexit") == 2);
    CHECK(run_both("w0 = 1\nw1 = 33\nw0 <<= w1\nexit") == 2);
}

TEST_CASE("local calls preserve r6-r9 and give each frame its own stack") {
    const char* prog = R"(
        r6 = 6
        *(u64 *)(r10 -8) = r6
        call pc+3
        r1 = *(u64 *)(r10 -8)
        r0 += r1
        exit
        r6 = 100
        *(u64 *)(r10 -8) = r6
        r0 = *(u64 *)(r10 -8)
        exit
    )";
    CHECK(run_both(prog) == 106);
}

TEST_CASE("deep recursion stops at eight frames") {
    auto err = checked_fault("call pc-1\nexit");
    CHECK_THAT(err.message, Catch::Contains("8 frames"));
    CHECK(err.insn == 0u);
}

TEST_CASE("checked mode refuses memory outside the stack and the given regions") {
    auto err = checked_fault("r0 = *(u32 *)(r1 +4)\nexit", std::vector<uint8_t>(6));
    CHECK_THAT(err.message, Catch::Contains("invalid read of 4 bytes"));
    CHECK(err.insn == 0u);
    CHECK_THAT(checked_fault("*(u8 *)(r10 +0) = 1\nexit").message,
               Catch::Contains("invalid write of 1 bytes"));
    CHECK_THAT(checked_fault("r1 = 0x1000 ll\nr0 = *(u64 *)(r1 +0)\nexit").message,
               Catch::Contains("invalid read"));
    CHECK(run_both("r0 = *(u16 *)(r1 +4)\nexit", {1, 2, 3, 4, 5, 6}) == 0x0605);
    CHECK(run_both("*(u64 *)(r10 -512) = 3\nr0 = *(u64 *)(r10 -512)\nexit") == 3);
}

TEST_CASE("checked mode refuses misaligned atomics") {
    auto err = checked_fault("r2 = 1\nlock *(u64 *)(r10 -12) += r2\nexit");
    CHECK_THAT(err.message, Catch::Contains("misaligned atomic access"));
}

TEST_CASE("checked mode stops an endless loop at its budget") {
    Vm vm;
    auto prog = vm.load(assembled("r0 = 0\nr0 += 1\ngoto pc-2\nexit"));
    REQUIRE(prog.ok());
    RunState state;
    RunArgs args;
    args.mode = Mode::checked;
    args.insn_budget = 1000;
    auto r = vm.run(*prog, args, state);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::Contains("budget of 1000"));
}

TEST_CASE("checked mode counts executed instructions") {
    Vm vm;
    auto prog = vm.load(assembled("r0 = 3\nr0 -= 1\nif r0 != 0x0 goto pc-2\nexit"));
    REQUIRE(prog.ok());
    RunState state;
    RunArgs args;
    args.mode = Mode::checked;
    auto r = vm.run(*prog, args, state);
    REQUIRE(r.ok());
    CHECK(r->insns_executed == 1 + 3 * 2 + 1);
}

TEST_CASE("legacy packet loads read network order and end the program past the packet") {
    Vm vm;
    auto prog = vm.load(assembled(
        "r6 = r1\nr0 = *(u16 *)skb[2]\nr7 = r0\nr1 = 4\nr0 = *(u32 *)skb[r1 + 0]\nr0 += r7\nexit"));
    REQUIRE(prog.ok());
    std::vector<uint8_t> packet{0, 0, 0x12, 0x34, 0, 0, 0, 1};
    for (Mode mode : {Mode::fast, Mode::checked}) {
        RunState state;
        state.packet = packet.data();
        state.packet_len = packet.size();
        RunArgs args;
        args.mode = mode;
        auto r = vm.run(*prog, args, state);
        REQUIRE(r.ok());
        CHECK(r->r0 == 0x1234 + 1);
        state.packet_len = 6; // the 32-bit load at 4 now runs past the end: r0 = 0
        r = vm.run(*prog, args, state);
        REQUIRE(r.ok());
        CHECK(r->r0 == 0);
    }
}

TEST_CASE("callx calls the helper whose id is in the register") {
    CHECK(run_both("r1 = 8\ncallx r1\nr0 = 5\nexit") == 5);
    auto err = checked_fault("r1 = 4242\ncallx r1\nexit");
    CHECK_THAT(err.message, Catch::Contains("no helper id"));
}

TEST_CASE("atomics on the stack") {
    CHECK(run_both(R"(
        r1 = 10
        *(u64 *)(r10 -8) = r1
        r2 = 5
        r2 = atomic64_fetch_add((u64 *)(r10 -8), r2)
        r0 = *(u64 *)(r10 -8)
        r0 += r2
        exit)") == 25);
    CHECK(run_both(R"(
        r1 = 10
        *(u64 *)(r10 -8) = r1
        r0 = 10
        r2 = 99
        r0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r2)
        r0 = *(u64 *)(r10 -8)
        exit)") == 99);
}
