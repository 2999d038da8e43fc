// How much stack each function's prologue zeroes: as much as the function can read, and the
// whole 512 bytes whenever the analysis cannot follow the frame pointer. Then the property that
// matters: reads of stack nobody wrote give zeros in the JIT, as in the interpreter.
#include "jit/jit.hpp"
#include "jit/stack_usage.hpp"
#include "vm/isa/assembler.hpp"
#include "vm/vm.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace ebpf;

namespace {

// The bytes zeroed for each function of `text` (functions at 0 and at local calls' targets).
std::vector<uint32_t> zeroed(const char* text, std::vector<uint32_t> functions = {0}) {
    auto insns = assemble(text);
    INFO((insns ? std::string() : insns.error().to_string()));
    REQUIRE(insns.ok());
    Vm vm;
    auto prog = vm.load(*insns);
    INFO((prog ? std::string() : prog.error().to_string()));
    REQUIRE(prog.ok());
    return jit::stack_to_zero(*prog, functions);
}

} // namespace

TEST_CASE("a function's stack is zeroed as far down as it reaches") {
    CHECK(zeroed("r0 = 1\nexit") == std::vector<uint32_t>{0});
    CHECK(zeroed("r0 = *(u64 *)(r10 -8)\nexit") == std::vector<uint32_t>{16});
    CHECK(zeroed("r1 = 1\n*(u32 *)(r10 -36) = r1\nr0 = 0\nexit") == std::vector<uint32_t>{48});
    // Through a copy of R10 moved by constants, and into a helper: it reads at r2 and above.
    CHECK(zeroed("r2 = r10\nr2 += -40\nr2 -= 8\nr0 = *(u8 *)(r2 +0)\nexit") ==
          std::vector<uint32_t>{48});
    CHECK(zeroed("r1 = r10\nr1 += -72\nr2 = 8\ncall bpf_ktime_get_ns#5\nexit") ==
          std::vector<uint32_t>{80});
    // Both branches count.
    CHECK(zeroed("if r1 == 0x0 goto pc+2\nr0 = *(u64 *)(r10 -8)\nexit\n"
                 "r0 = *(u64 *)(r10 -300)\nexit") == std::vector<uint32_t>{304});
    // Each function on its own.
    CHECK(zeroed("r0 = *(u64 *)(r10 -8)\ncall pc+1\nexit\nr0 = *(u64 *)(r10 -128)\nexit", {0, 3}) ==
          std::vector<uint32_t>{16, 128});
}

TEST_CASE("the whole stack is zeroed where the frame pointer cannot be followed") {
    const std::vector<uint32_t> all{512};
    // An offset only known at run time, or two offsets meeting.
    CHECK(zeroed("r2 = r10\nr2 += r1\nr0 = *(u8 *)(r2 -1)\nexit") == all);
    CHECK(zeroed("r2 = r10\nif r1 == 0x0 goto pc+1\nr2 += -200\nr0 = *(u64 *)(r2 -8)\nexit") ==
          all);
    // A pointer moved in a loop.
    CHECK(zeroed("r2 = r10\nr3 = 4\nr2 += -8\nr0 = *(u8 *)(r2 +0)\nr3 -= 1\n"
                 "if r3 != 0x0 goto pc-4\nexit") == all);
    // Stored to memory, passed to a local call.
    CHECK(zeroed("*(u64 *)(r10 -8) = r10\nr0 = 0\nexit") == all);
    CHECK(zeroed("r1 = r10\nr1 += -8\ncall pc+1\nexit\nr0 = *(u64 *)(r1 -100)\nexit", {0, 4}) ==
          std::vector<uint32_t>{512, 0});
    // A tail call or callx: the target continues on this frame.
    CHECK(zeroed("r0 = *(u64 *)(r10 -8)\ncall bpf_tail_call#12\nexit") == all);
    CHECK(zeroed("r0 = *(u64 *)(r10 -8)\nr1 = 5\ncallx r1\nexit") == all);
    // A helper may hand a stack pointer to a callback.
    CHECK(zeroed("r2 = subprog[+5]\nr3 = r10\nr3 += -8\ncall bpf_ktime_get_ns#5\nexit\n"
                 "r0 = 0\nexit") == all);
}

TEST_CASE("stack nobody wrote reads as zero in the JIT, as in the interpreter") {
    Vm vm;
    // A first run leaves data in the host stack where the next run's frame goes; the next run
    // reads every slot it reaches without writing any.
    auto dirty = vm.load(*assemble(R"(
        r1 = -1
        r2 = r10
        r2 += -512
        *(u64 *)(r2 +0) = r1
        *(u64 *)(r10 -8) = r1
        *(u64 *)(r10 -48) = r1
        r0 = 0
        exit
    )"));
    auto reader = vm.load(*assemble(R"(
        r0 = *(u64 *)(r10 -8)
        r1 = *(u64 *)(r10 -48)
        r0 |= r1
        r2 = r10
        r2 += -40
        r1 = *(u32 *)(r2 -4)
        r0 |= r1
        exit
    )"));
    REQUIRE(dirty.ok());
    REQUIRE(reader.ok());
    auto dirty_jit = jit_compile(*dirty);
    auto reader_jit = jit_compile(*reader);
    REQUIRE(dirty_jit.ok());
    REQUIRE(reader_jit.ok());
    for (int i = 0; i < 3; ++i) {
        RunState state;
        REQUIRE(dirty_jit->run({}, state).ok());
        auto r = reader_jit->run({}, state);
        REQUIRE(r.ok());
        CHECK(r->r0 == 0);
    }
}
