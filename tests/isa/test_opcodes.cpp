// The opcode table: every row is reachable by lookup, and keyed rows are told apart.
#include "vm/isa/opcodes.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace ebpf;

namespace {

Insn example_of(const OpcodeInfo& row) {
    Insn insn = make_insn(row.opcode, 0, 0, 0, 0);
    switch (row.key) {
    case Key::off: insn.off = static_cast<int16_t>(row.key_value); break;
    case Key::imm: insn.imm = row.key_value; break;
    case Key::src: insn.src = static_cast<uint8_t>(row.key_value); break;
    case Key::none: break;
    }
    return insn;
}

} // namespace

TEST_CASE("every row is found from an instruction of its form") {
    for (const auto& row : opcode_table) {
        INFO(row.mnemonic);
        CHECK(lookup_op(example_of(row)) == row.op);
        CHECK(row.version >= 1);
        CHECK(row.version <= 4);
    }
}

TEST_CASE("no two rows claim the same form") {
    std::set<std::tuple<uint8_t, int, int32_t>> seen;
    for (const auto& row : opcode_table)
        CHECK(seen.insert({row.opcode, static_cast<int>(row.key), row.key_value}).second);
}

TEST_CASE("keys tell apart forms that share an opcode") {
    CHECK(lookup_op(make_insn(BPF_ALU64 | BPF_DIV | BPF_X, 1, 2, 1, 0)) == Op::sdiv64_reg);
    CHECK(lookup_op(make_insn(BPF_ALU64 | BPF_MOV | BPF_X, 1, 2, 16, 0)) == Op::movsx16_64);
    CHECK_FALSE(lookup_op(make_insn(BPF_ALU | BPF_MOV | BPF_X, 1, 2, 32, 0)).has_value());
    CHECK(lookup_op(make_insn(BPF_STX | BPF_ATOMIC | BPF_W, 1, 2, 0, BPF_CMPXCHG)) ==
          Op::atomic32_cmpxchg);
    CHECK(lookup_op(make_insn(BPF_JMP | BPF_CALL, 0, 1, 0, 4)) == Op::call_local);
    CHECK(lookup_op(make_insn(BPF_ALU64 | BPF_END, 1, 0, 0, 32)) == Op::bswap32);
    CHECK_FALSE(lookup_op(make_insn(BPF_ALU64 | BPF_END, 1, 0, 0, 8)).has_value());
    CHECK_FALSE(opcode_known(0xff));
    CHECK(std::string(group_name(info(Op::atomic64_xchg).group)) == "atomic64");
}
