#include "vm/isa/validate.hpp"

#include "vm/isa/opcodes.hpp"

#include <cstdio>
#include <vector>

namespace ebpf {
namespace {

std::string hex2(uint8_t v) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02x", v);
    return buf;
}

// The kernel names the offending class or operation in its "uses reserved fields" message.
const char* reserved_name(const Insn& insn) {
    const uint8_t code = insn.opcode;
    switch (bpf_class(code)) {
    case BPF_ALU:
    case BPF_ALU64:
        switch (bpf_op(code)) {
        case BPF_NEG: return "BPF_NEG";
        case BPF_END: return "BPF_END";
        case BPF_MOV: return "BPF_MOV";
        default: return "BPF_ALU";
        }
    case BPF_JMP:
    case BPF_JMP32:
        switch (bpf_op(code)) {
        case BPF_JA: return "BPF_JA";
        case BPF_CALL: return "BPF_CALL";
        case BPF_EXIT: return "BPF_EXIT";
        default: return "BPF_JMP/JMP32";
        }
    case BPF_LDX: return "BPF_LDX";
    case BPF_ST: return "BPF_ST";
    case BPF_STX: return bpf_mode(code) == BPF_ATOMIC ? "BPF_ATOMIC" : "BPF_STX";
    default: return bpf_mode(code) == BPF_IMM ? "BPF_LD_IMM" : "BPF_LD_[ABS|IND]";
    }
}

bool is_lddw(const Insn& insn) {
    return insn.opcode == BPF_LDDW;
}

} // namespace

Status check_fields(const Insn& insn, size_t index) {
    const auto op = lookup_op(insn);
    if (!op) {
        if (bpf_class(insn.opcode) == BPF_STX && bpf_mode(insn.opcode) == BPF_ATOMIC)
            return error_at(index,
                            "BPF_ATOMIC uses invalid atomic opcode " + hex2(insn.imm & 0xff));
        if (opcode_known(insn.opcode))
            return error_at(index, std::string(reserved_name(insn)) + " uses reserved fields");
        return error_at(index, "unknown opcode " + hex2(insn.opcode));
    }
    const auto& row = info(*op);
    const bool bad = ((row.zero & Zd) && insn.dst) || ((row.zero & Zs) && insn.src) ||
                     ((row.zero & Zo) && insn.off) || ((row.zero & Zi) && insn.imm);
    if (bad) {
        if (*op == Op::lddw) return error_at(index, "invalid BPF_LD_IMM insn");
        return error_at(index, std::string(reserved_name(insn)) + " uses reserved fields");
    }
    if (insn.dst >= MAX_BPF_REG)
        return error_at(index, "R" + std::to_string(insn.dst) + " is invalid");
    if (insn.src >= MAX_BPF_REG && !(row.key == Key::src) && !(row.zero & Zs) && *op != Op::lddw)
        return error_at(index, "R" + std::to_string(insn.src) + " is invalid");
    return std::nullopt;
}

Status validate(Insns prog) {
    const size_t n = prog.size();
    if (n == 0) return Error{"program has no instructions", std::nullopt};
    if (n > BPF_COMPLEXITY_LIMIT_INSNS)
        return Error{"program of " + std::to_string(n) + " insns is over the limit of " +
                         std::to_string(BPF_COMPLEXITY_LIMIT_INSNS),
                     std::nullopt};

    // First pass: fields, and which slots are the second half of an lddw.
    std::vector<bool> lddw_tail(n, false);
    for (size_t i = 0; i < n; ++i) {
        const Insn& insn = prog[i];
        if (auto err = check_fields(insn, i)) return err;
        if (!is_lddw(insn)) continue;
        if (i + 1 >= n) return error_at(i, "invalid bpf_ld_imm64 insn");
        const Insn& next = prog[i + 1];
        if (next.opcode || next.dst || next.src || next.off)
            return error_at(i, "invalid bpf_ld_imm64 insn");
        if (insn.src > BPF_PSEUDO_MAP_IDX_VALUE)
            return error_at(i, "unrecognized bpf_ld_imm64 insn");
        lddw_tail[i + 1] = true;
        ++i;
    }

    // Second pass: control flow stays inside the program and off lddw tails.
    for (size_t i = 0; i < n; ++i) {
        const Insn& insn = prog[i];
        if (is_lddw(insn)) {
            ++i;
            continue;
        }
        const uint8_t cls = bpf_class(insn.opcode);
        if (cls != BPF_JMP && cls != BPF_JMP32) continue;
        const uint8_t jop = bpf_op(insn.opcode);
        if (jop == BPF_EXIT) continue;
        int64_t target;
        if (jop == BPF_CALL) {
            if (insn.src != BPF_PSEUDO_CALL) continue;
            target = static_cast<int64_t>(i) + insn.imm + 1;
            if (target < 0 || target >= static_cast<int64_t>(n))
                return error_at(i, "call to invalid destination");
        } else {
            const int64_t delta = (cls == BPF_JMP32 && jop == BPF_JA) ? insn.imm : insn.off;
            target = static_cast<int64_t>(i) + delta + 1;
            if (target < 0 || target >= static_cast<int64_t>(n))
                return error_at(i, "jump out of range from insn " + std::to_string(i) + " to " +
                                       std::to_string(target));
        }
        if (lddw_tail[static_cast<size_t>(target)])
            return error_at(i,
                            "jump into the middle of ldimm64 insn " + std::to_string(target - 1));
    }

    const size_t last = lddw_tail[n - 1] ? n - 2 : n - 1;
    const Insn& tail = prog[last];
    const auto op = lookup_op(tail);
    if (!(op == Op::exit || op == Op::ja || op == Op::gotol))
        return error_at(last, "last insn is not an exit or jmp");
    return std::nullopt;
}

} // namespace ebpf
