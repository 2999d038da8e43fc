// The loader's structural checks, one rule at a time, with the kernel's messages.
#include "vm/isa/validate.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace ebpf;

namespace {

const Insn exit_insn = make_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
Insn mov_imm(uint8_t dst, int32_t imm) {
    return make_insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}

Error refused(std::vector<Insn> prog) {
    auto err = validate(prog);
    REQUIRE(err.has_value());
    return *err;
}

} // namespace

TEST_CASE("a well-formed program passes") {
    std::vector<Insn> prog{mov_imm(0, 1), make_insn(BPF_LDDW, 1, 0, 0, 5), make_insn(0, 0, 0, 0, 7),
                           make_insn(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, -4, 3), exit_insn};
    CHECK_FALSE(validate(prog).has_value());
}

TEST_CASE("empty and unknown") {
    CHECK(refused({}).message == "program has no instructions");
    auto err = refused({make_insn(0xff, 0, 0, 0, 0), exit_insn});
    CHECK(err.message == "unknown opcode ff");
    CHECK(err.insn == 0u);
}

TEST_CASE("reserved fields name the kernel's class") {
    CHECK(refused({mov_imm(0, 0), make_insn(BPF_JMP | BPF_EXIT, 1, 0, 0, 0)}).message ==
          "BPF_EXIT uses reserved fields");
    CHECK(refused({make_insn(BPF_ALU64 | BPF_ADD | BPF_X, 0, 1, 0, 3), exit_insn}).message ==
          "BPF_ALU uses reserved fields");
    CHECK(refused({make_insn(BPF_ALU | BPF_END | BPF_TO_BE, 0, 1, 0, 16), exit_insn}).message ==
          "BPF_END uses reserved fields");
    CHECK(refused({make_insn(BPF_ALU64 | BPF_MOV | BPF_X, 0, 1, 7, 0), exit_insn}).message ==
          "BPF_MOV uses reserved fields");
    CHECK(refused({make_insn(BPF_LDX | BPF_MEM | BPF_W, 0, 1, 0, 1), exit_insn}).message ==
          "BPF_LDX uses reserved fields");
    CHECK(refused({make_insn(BPF_STX | BPF_ATOMIC | BPF_DW, 1, 2, 0, 0x33), exit_insn}).message ==
          "BPF_ATOMIC uses invalid atomic opcode 33");
}

TEST_CASE("registers past r10 are invalid") {
    auto err = refused({mov_imm(11, 1), exit_insn});
    CHECK(err.message == "R11 is invalid");
    CHECK(refused({make_insn(BPF_ALU64 | BPF_ADD | BPF_X, 0, 12, 0, 0), exit_insn}).message ==
          "R12 is invalid");
}

TEST_CASE("lddw must be whole") {
    CHECK(refused({mov_imm(0, 0), make_insn(BPF_LDDW, 0, 0, 0, 1)}).message ==
          "invalid bpf_ld_imm64 insn");
    CHECK(refused({make_insn(BPF_LDDW, 0, 0, 0, 1), mov_imm(0, 0), exit_insn}).message ==
          "invalid bpf_ld_imm64 insn");
    CHECK(refused({make_insn(BPF_LDDW, 0, 7, 0, 1), make_insn(0, 0, 0, 0, 0), exit_insn}).message ==
          "unrecognized bpf_ld_imm64 insn");
}

TEST_CASE("jumps stay inside the program and off lddw tails") {
    auto err = refused({make_insn(BPF_JMP | BPF_JA, 0, 0, 3, 0), exit_insn});
    CHECK(err.message == "jump out of range from insn 0 to 4");
    CHECK(err.insn == 0u);
    CHECK(refused({make_insn(BPF_JMP32 | BPF_JA, 0, 0, 0, -2), exit_insn}).message ==
          "jump out of range from insn 0 to -1");
    CHECK(refused({make_insn(BPF_JMP | BPF_JA, 0, 0, 1, 0), make_insn(BPF_LDDW, 0, 0, 0, 1),
                   make_insn(0, 0, 0, 0, 0), exit_insn})
              .message == "jump into the middle of ldimm64 insn 1");
    CHECK(refused({make_insn(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 5), exit_insn}).message ==
          "call to invalid destination");
}

TEST_CASE("a program cannot fall off its end") {
    auto err = refused({mov_imm(0, 0)});
    CHECK(err.message == "last insn is not an exit or jmp");
    CHECK(refused({mov_imm(0, 0), make_insn(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, -2, 0)}).message ==
          "last insn is not an exit or jmp");
    CHECK_FALSE(validate(std::vector<Insn>{exit_insn, make_insn(BPF_JMP | BPF_JA, 0, 0, -2, 0)})
                    .has_value());
}
