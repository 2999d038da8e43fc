// The x86-64 code generator's rewrites of common instruction patterns (folded address arithmetic,
// inverted loop tests, rotations, multiplications by small constants, switch jump tables) and its
// layout of blocks that leave loops give the interpreter's results, including where the pattern's
// registers live on or other paths enter it.
#include "jit/jit.hpp"
#include "jit/listing.hpp"
#include "jit/loop_exits.hpp"
#include "jit/switch_tree.hpp"
#include "vm/isa/assembler.hpp"
#include "vm/vm.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstring>
#include <string>

using namespace ebpf;

namespace {

// Runs `text` with r1 = a 64-byte buffer (filled with 1, 2, 3, ...) and r2 = `r2` in the
// interpreter and the JIT; requires the same r0 and buffer. Returns r0.
uint64_t same_as_interpreter(const std::string& text, uint64_t r2 = 0) {
    auto insns = assemble(text);
    INFO((insns ? std::string() : insns.error().to_string()));
    REQUIRE(insns.ok());
    Vm vm;
    auto prog = vm.load(*insns);
    INFO((prog ? std::string() : prog.error().to_string()));
    REQUIRE(prog.ok());
    auto jitted = jit_compile(*prog);
    REQUIRE(jitted.ok());
    std::array<uint8_t, 64> expected_memory{}, memory{};
    for (size_t i = 0; i < memory.size(); ++i)
        expected_memory[i] = memory[i] = static_cast<uint8_t>(i + 1);
    RunState s1, s2;
    auto expected = interpret(*prog, {reinterpret_cast<uint64_t>(expected_memory.data()), r2}, s1);
    auto got = jitted->run({reinterpret_cast<uint64_t>(memory.data()), r2}, s2);
    REQUIRE(expected.ok());
    REQUIRE(got.ok());
    INFO(text << "\nr2 = " << r2);
    CHECK(got->r0 == expected->r0);
    CHECK(memory == expected_memory);
    return got->r0;
}

} // namespace

TEST_CASE("address arithmetic folds into the accesses it serves, or becomes an lea") {
    // rX dies in the accesses: a load and a store through [r1 + r2 + off].
    CHECK(same_as_interpreter(R"(
        r3 = r1
        r3 += r2
        r4 = *(u8 *)(r3 +1)
        *(u8 *)(r3 +2) = r4
        r0 = *(u8 *)(r1 +6)
        exit
    )",
                              4) == 6);
    // rX read later: it is computed too.
    same_as_interpreter("r3 = r1\nr3 += 8\nr0 = *(u64 *)(r3 +0)\nr0 += r3\nr0 -= r1\nexit");
    // The load overwrites rX, or the base rA, ending the fold.
    same_as_interpreter("r3 = r1\nr3 += r2\nr3 = *(u8 *)(r3 +3)\nr0 = r3\nexit", 5);
    same_as_interpreter(
        "r3 = r1\nr3 += r2\nr1 = *(u8 *)(r3 +0)\nr0 = *(u8 *)(r3 +1)\nr0 += r1\nexit", 7);
    // A store of rX itself needs rX (kept relative to the buffer, which differs between runs).
    CHECK(same_as_interpreter("r3 = r1\nr3 += 16\n*(u64 *)(r3 +0) = r3\nr0 = *(u64 *)(r3 +0)\n"
                              "r0 -= r1\n*(u64 *)(r3 +0) = r0\nexit") == 16);
    // Immediate and negative displacements, stores of immediates, sign-extending loads.
    same_as_interpreter(
        "r3 = r1\nr3 += 40\n*(u32 *)(r3 -8) = -3\nr0 = *(s32 *)(r3 -8)\nr0 += r3\nr0 -= r1\nexit");
    same_as_interpreter("r3 = r1\nr3 += 40\n*(u16 *)(r3 -30) = 77\nr0 = *(s8 *)(r3 -1)\nexit");
    // R10 as the base, as clang passes stack buffers.
    same_as_interpreter("r2 = 5\n*(u64 *)(r10 -16) = r2\nr3 = r10\nr3 += -16\n"
                        "r0 = *(u64 *)(r3 +0)\nexit");
    // A jump into the middle of the pattern runs the instructions as written.
    same_as_interpreter("r3 = r1\nif r2 == 0x1 goto pc+1\nr3 += r2\nr0 = *(u8 *)(r3 +0)\nexit", 1);
    same_as_interpreter("r3 = r1\nr3 += r2\nif r2 == 0x1 goto pc+0\nr0 = *(u8 *)(r3 +0)\nexit", 3);
}

TEST_CASE("a conditional jump over a goto becomes the inverted jump") {
    // Sums the buffer's first ten bytes: the loop's test jumps out, a goto jumps back.
    CHECK(same_as_interpreter(R"(
        r0 = 0
        r2 = 0
    loop:
        r3 = r1
        r3 += r2
        r3 = *(u8 *)(r3 +0)
        r0 += r3
        r2 += 1
        if r2 == 0xa goto pc+1
        goto loop
        exit
    )") == 55);
    // JMP32 and jset forms.
    same_as_interpreter(
        "r0 = 0\nr2 = 3\nr0 += 1\nr2 += -1\nif w2 s< 0x1 goto pc+1\ngoto pc-4\nexit");
    same_as_interpreter("r0 = 0\nr2 = 8\nr0 += r2\nr2 >>= 1\nif r2 & 0x1 goto pc+1\ngoto pc-4\n"
                        "exit");
}

TEST_CASE("rotations become rol, and the temporary is kept when read") {
    for (uint64_t x : {0x0123456789abcdefull, 0x80000001ull, 0xffffffffffffffffull}) {
        const std::string set = "r1 = " + std::to_string(x) + " ll\n";
        // 32-bit, temporary shifted right then left, temporary dead.
        CHECK(same_as_interpreter(set + "w4 = w1\nw4 >>= 19\nw1 <<= 13\nw1 |= w4\nr0 = r1\nexit") ==
              ((static_cast<uint32_t>(x) << 13) | (static_cast<uint32_t>(x) >> 19)));
        // 64-bit, the other order, temporary read afterwards.
        same_as_interpreter(set +
                            "r4 = r1\nr4 <<= 7\nr1 >>= 57\nr1 |= r4\nr0 = r1\nr0 ^= r4\nexit");
        // Not a rotation: the shifts do not add up to the width.
        same_as_interpreter(set + "w4 = w1\nw4 >>= 18\nw1 <<= 13\nw1 |= w4\nr0 = r1\nexit");
    }
}

TEST_CASE("multiplications by 2^k, 3, 5 and 9 give imul's results") {
    for (int k : {2, 3, 5, 8, 9, 1024, 1 << 30}) {
        for (const char* form : {"r1 *= ", "w1 *= "}) {
            const std::string text = "r1 = 0xfedcba9876543217 ll\n" + std::string(form) +
                                     std::to_string(k) + "\nr0 = r1\nexit";
            same_as_interpreter(text);
        }
    }
}

TEST_CASE("a switch's tree of compares gets a jump table that leads where the tree does") {
    // r2 picks one of eight outcomes through a tree of signed compares on w2; values outside
    // the constants' range (and paths entering below the root) still run the tree.
    const std::string tree = R"(
        if w2 s> 0x3 goto pc+6
        if w2 s> 0x1 goto pc+3
        if w2 == 0x0 goto pc+9
        r0 = 11
        exit
        if w2 == 0x2 goto pc+8
        goto pc+9
        if w2 s> 0x5 goto pc+2
        if w2 == 0x4 goto pc+9
        goto pc+10
        if w2 == 0x6 goto pc+11
        goto pc+12
        r0 = 10
        exit
        r0 = 12
        exit
        r0 = 13
        exit
        r0 = 14
        exit
        r0 = 15
        exit
        r0 = 16
        exit
        r0 = 17
        exit
    )";
    for (int64_t v = -3; v <= 10; ++v)
        same_as_interpreter(tree, static_cast<uint64_t>(v));
    same_as_interpreter(tree, 0x100000002ull); // only the low half counts

    // The tree was found.
    Vm vm;
    auto prog = vm.load(*assemble(tree));
    REQUIRE(prog.ok());
    const auto trees = jit::find_switch_trees(*prog);
    REQUIRE(trees.size() == 1);
    CHECK(trees[0].root == 0);
    CHECK(trees[0].lo == 0);
    CHECK(trees[0].leaves.size() == 7); // the constants span 0..6
}

namespace {

// A loop over the buffer's bytes while they differ from r2; the first equal one leaves it with
// r0 = the byte + 100 (through a goto past the loop), 32 differing ones with r0 = 7.
const std::string leaves_by_goto = R"(
    r0 = 0
    r3 = 0
    r4 = r1
    r4 += r3
    r5 = *(u8 *)(r4 +0)
    if r5 != r2 goto pc+3
    r0 = r5
    r0 += 100
    goto pc+4
    r3 += 1
    if r3 < 32 goto pc-9
    r0 = 7
    exit
    exit
)";

Program load(Vm& vm, const std::string& text) {
    auto insns = assemble(text);
    REQUIRE(insns.ok());
    auto prog = vm.load(*insns);
    REQUIRE(prog.ok());
    return std::move(*prog);
}

std::vector<uint32_t> exits_of(const std::string& text) {
    Vm vm;
    return jit::loop_exits(load(vm, text), {0});
}

} // namespace

TEST_CASE("blocks that leave a loop are found: entered from their branch alone, ending past it") {
    std::vector<uint32_t> expected(14, 0);
    expected[5] = 9;
    CHECK(exits_of(leaves_by_goto) == expected);
    // Ending in an exit.
    const std::string by_exit = "r0 = 0\nr3 = 0\nr4 = r1\nr4 += r3\nr5 = *(u8 *)(r4 +0)\n"
                                "if r5 != r2 goto pc+2\nr0 = r5\nexit\nr3 += 1\n"
                                "if r3 < 32 goto pc-8\nr0 = 7\nexit";
    expected.assign(12, 0);
    expected[5] = 8;
    CHECK(exits_of(by_exit) == expected);
    // Not in a loop; entered by another jump; a goto that stays in the loop: none.
    CHECK(exits_of("if r2 == 0x1 goto pc+2\nr0 = 1\nexit\nr0 = 2\nexit") ==
          std::vector<uint32_t>(5, 0));
    CHECK(exits_of("r3 = 0\nif r3 > 9 goto pc+2\nif r2 == 0x1 goto pc+2\nr0 = 1\nexit\nr3 += 1\n"
                   "if r3 < 32 goto pc-6\nexit") == std::vector<uint32_t>(8, 0));
    CHECK(exits_of("r3 = 0\nif r2 == 0x1 goto pc+2\nr3 += 2\ngoto pc+1\nr3 += 1\n"
                   "if r3 < 32 goto pc-5\nr0 = r3\nexit") == std::vector<uint32_t>(8, 0));
}

TEST_CASE("blocks that leave a loop run out of line with the interpreter's results") {
    for (uint64_t r2 : {0, 1, 5, 31, 32, 33, 64})
        same_as_interpreter(leaves_by_goto, r2);
    // One leaving block inside another, both branching to where the outer one ends.
    const std::string nested = R"(
        r0 = 0
        r3 = 0
        r4 = r1
        r4 += r3
        r5 = *(u8 *)(r4 +0)
        if r5 != r2 goto pc+5
        r0 = r5
        r0 += r3
        if r0 > 3 goto pc+2
        r0 += 100
        goto pc+3
        r3 += 1
        if r3 < 32 goto pc-11
        r0 = 7
        exit
    )";
    CHECK(exits_of(nested)[5] == 11);
    CHECK(exits_of(nested)[8] == 11);
    for (uint64_t r2 : {0, 1, 2, 3, 4, 20, 40})
        same_as_interpreter(nested, r2);

    // The block's code follows the loop's, and the listing says so.
    Vm vm;
    const Program prog = load(vm, leaves_by_goto);
    auto jitted = jit_compile(prog);
    REQUIRE(jitted.ok());
    const auto offsets = jitted->insn_offsets();
    CHECK(offsets[6] > offsets[13]);
    CHECK(offsets[2] % 32 == 0); // the loop's head, and the code is page-aligned
    CHECK(reinterpret_cast<uintptr_t>(jitted->code().data()) % 32 == 0);
    const auto layout = jitted->layout();
    CHECK(std::vector<uint32_t>(layout.begin(), layout.end()) ==
          std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 9, 10, 11, 12, 13, 6, 7, 8});
    auto listing = jit_listing(prog, *jitted);
    REQUIRE(listing.ok());
    CHECK(listing->find("; out of line: a block that leaves a loop (jit/loop_exits.hpp)\n"
                        "6: (bf) r0 = r5") != std::string::npos);
}

namespace {

// A loop entered at its test: clang's `goto test; body: ...; test: if (...) goto body`, with the
// body's tail before its head (log2's shape): sums the buffer's first r2 bytes (at most 32).
const std::string entered_at_test = R"(
    r0 = 0
    r3 = 0
    goto pc+4
    r0 += r5
    r3 += 1
    if r3 < 32 goto pc+1
    exit
    if r3 >= r2 goto pc+4
    r4 = r1
    r4 += r3
    r5 = *(u8 *)(r4 +0)
    goto pc-9
    exit
)";

} // namespace

TEST_CASE("loops entered at their test and loop heads after gotos give the interpreter's results") {
    for (uint64_t r2 : {0, 1, 2, 7, 31, 32, 40})
        same_as_interpreter(entered_at_test, r2);
    same_as_interpreter("if r2 == 0x0 goto pc+2\ngoto pc+3\nexit\nr0 = 1\ngoto pc+1\nr0 = 2\nexit",
                        1);
    // A local call whose function is entered at a goto.
    same_as_interpreter("r6 = r2\ncall pc+2\nr0 += r6\nexit\ngoto pc+2\nr0 = 3\nexit\nr0 = 5\n"
                        "goto pc-3",
                        4);
}
