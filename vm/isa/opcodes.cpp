#include "vm/isa/opcodes.hpp"

#include <vector>

namespace ebpf {
namespace {

// Rows grouped by opcode byte, built once from the table.
const std::vector<Op>& rows_for(uint8_t opcode) {
    static const auto index = [] {
        std::array<std::vector<Op>, 256> by_opcode;
        for (const auto& row : opcode_table)
            by_opcode[row.opcode].push_back(row.op);
        return by_opcode;
    }();
    return index[opcode];
}

int32_t key_field(const Insn& insn, Key key) {
    switch (key) {
    case Key::off: return insn.off;
    case Key::imm: return insn.imm;
    case Key::src: return insn.src;
    case Key::none: break;
    }
    return 0;
}

} // namespace

std::optional<Op> lookup_op(const Insn& insn) {
    for (Op op : rows_for(insn.opcode)) {
        const auto& row = info(op);
        if (row.key == Key::none || key_field(insn, row.key) == row.key_value) return op;
    }
    return std::nullopt;
}

bool opcode_known(uint8_t opcode) {
    return !rows_for(opcode).empty();
}

const char* group_name(Group g) {
    switch (g) {
    case Group::base32: return "base32";
    case Group::base64: return "base64";
    case Group::atomic32: return "atomic32";
    case Group::atomic64: return "atomic64";
    case Group::divmul32: return "divmul32";
    case Group::divmul64: return "divmul64";
    case Group::callx: return "callx";
    case Group::packet: return "packet";
    }
    return "?";
}

} // namespace ebpf
