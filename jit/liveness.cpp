#include "jit/liveness.hpp"

namespace ebpf::jit {
namespace {

constexpr int32_t bpf_func_tail_call = 12;

constexpr uint16_t bit(int r) {
    return static_cast<uint16_t>(1u << r);
}
constexpr uint16_t args = 0b111110;      // R1-R5
constexpr uint16_t clobbered = 0b111111; // R0-R5
constexpr uint16_t all_but_r10 = 0x3ff;  // R0-R9

struct Effect {
    uint16_t uses = 0;
    uint16_t defs = 0;
};

Effect effect(const Program& prog, size_t i) {
    const Slot& s = prog.slots()[i];
    const OpcodeInfo& row = info(s.op);
    const uint8_t code = row.opcode;
    const bool by_reg = bpf_srcbit(code) == BPF_X;
    switch (bpf_class(code)) {
    case BPF_ALU:
    case BPF_ALU64:
        if (bpf_op(code) == BPF_MOV) return {by_reg ? bit(s.src) : uint16_t{0}, bit(s.dst)};
        return {static_cast<uint16_t>(bit(s.dst) | (by_reg ? bit(s.src) : 0)), bit(s.dst)};
    case BPF_LD:
        if (s.op == Op::lddw) return {0, bit(s.dst)};
        return {bpf_mode(code) == BPF_IND ? bit(s.src) : uint16_t{0}, bit(BPF_REG_0)};
    case BPF_LDX: return {bit(s.src), bit(s.dst)};
    case BPF_ST: return {bit(s.dst), 0};
    case BPF_STX: {
        Effect e{static_cast<uint16_t>(bit(s.dst) | bit(s.src)), 0};
        if (bpf_mode(code) != BPF_ATOMIC) return e;
        if (row.key_value == BPF_CMPXCHG) {
            e.uses |= bit(BPF_REG_0);
            e.defs = bit(BPF_REG_0);
        } else if (row.key_value & BPF_FETCH || row.key_value == BPF_XCHG) {
            e.defs = bit(s.src);
        }
        return e;
    }
    default: // BPF_JMP, BPF_JMP32
        switch (s.op) {
        // A function's caller sees R1-R5 as the callee left them (in unverified programs, it may
        // read them); R6-R9 come back from the frame.
        case Op::exit: return {clobbered, 0};
        case Op::ja:
        case Op::gotol: return {};
        // A tail call's target, a callx's helper and a local call's callee are not followed:
        // take them to read every register they could. A helper's R1-R5 are gone after it (the
        // generated code does not keep them); a callee may leave them as they were.
        case Op::callx: return {static_cast<uint16_t>(all_but_r10 | bit(s.dst)), clobbered};
        case Op::call_local: return {all_but_r10, 0};
        case Op::call_helper:
        case Op::call_kfunc:
            return {prog.insns()[i].imm == bpf_func_tail_call ? all_but_r10 : args, clobbered};
        default: return {static_cast<uint16_t>(bit(s.dst) | (by_reg ? bit(s.src) : 0)), 0};
        }
    }
}

} // namespace

std::vector<uint16_t> live_out(const Program& prog) {
    const auto& slots = prog.slots();
    const size_t n = slots.size();
    std::vector<Effect> effects(n);
    std::vector<bool> lddw_tail(n, false); // the second slot of an lddw, never executed
    for (size_t i = 0; i < n; ++i) {
        effects[i] = effect(prog, i);
        if (slots[i].op == Op::lddw) lddw_tail[++i] = true;
    }
    std::vector<uint16_t> in(n, 0), out(n, 0);
    const auto live_in = [&](size_t t) { return t < n ? in[t] : uint16_t{0}; };
    // Backward passes until nothing changes; jumps go both ways, so a few passes may be needed.
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t k = n; k-- > 0;) {
            const Slot& s = slots[k];
            if (lddw_tail[k]) continue;
            const size_t next = s.op == Op::lddw ? k + 2 : k + 1;
            uint16_t live = 0;
            switch (s.op) {
            case Op::exit: break;
            case Op::ja:
            case Op::gotol: live = live_in(static_cast<size_t>(s.off)); break;
            default: {
                live = live_in(next);
                const uint8_t cls = bpf_class(info(s.op).opcode);
                const bool call = s.op == Op::call_helper || s.op == Op::callx ||
                                  s.op == Op::call_local || s.op == Op::call_kfunc;
                if ((cls == BPF_JMP || cls == BPF_JMP32) && !call)
                    live |= live_in(static_cast<size_t>(s.off)); // a conditional jump
                break;
            }
            }
            const auto new_in = static_cast<uint16_t>(effects[k].uses | (live & ~effects[k].defs));
            changed |= new_in != in[k] || live != out[k];
            in[k] = new_in;
            out[k] = live;
            if (s.op == Op::lddw) out[k + 1] = live;
        }
    }
    return out;
}

} // namespace ebpf::jit
