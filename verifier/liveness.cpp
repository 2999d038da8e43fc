// Which registers each instruction may still read before writing them (a backward dataflow over
// the control-flow graph). States differing only in dead registers are equal for pruning, as the
// kernel's compute_live_registers makes them.
#include "helpers/proto.hpp"
#include "verifier/env.hpp"

namespace ebpf::verifier {
namespace {

constexpr uint16_t bit(int r) {
    return static_cast<uint16_t>(1u << r);
}
constexpr uint16_t args_r1_r5 = bit(1) | bit(2) | bit(3) | bit(4) | bit(5);
constexpr uint16_t caller_saved = bit(0) | args_r1_r5;

// The argument registers a helper reads, from its prototype (all five when unknown).
uint16_t helper_args(int32_t id) {
    const HelperProto* proto = kernel_helper_proto(id);
    if (!proto) return args_r1_r5;
    uint16_t use = 0;
    for (size_t i = 0; i < proto->args.size() && proto->args[i] != ArgType::dontcare; ++i)
        use |= bit(static_cast<int>(i) + 1);
    return use;
}

struct UseDef {
    uint16_t use = 0, def = 0;
};

UseDef use_def(const Insn& insn) {
    const uint8_t cls = bpf_class(insn.opcode);
    const bool x = bpf_srcbit(insn.opcode) == BPF_X;
    UseDef u;
    switch (cls) {
    case BPF_ALU:
    case BPF_ALU64:
        if (bpf_op(insn.opcode) == BPF_MOV) {
            if (x) u.use |= bit(insn.src & 0xf);
        } else {
            u.use |= bit(insn.dst & 0xf);
            if (x && bpf_op(insn.opcode) != BPF_END && bpf_op(insn.opcode) != BPF_NEG)
                u.use |= bit(insn.src & 0xf);
        }
        u.def |= bit(insn.dst & 0xf);
        break;
    case BPF_LDX:
        u.use |= bit(insn.src & 0xf);
        u.def |= bit(insn.dst & 0xf);
        break;
    case BPF_ST: u.use |= bit(insn.dst & 0xf); break;
    case BPF_STX:
        u.use |= bit(insn.dst & 0xf) | bit(insn.src & 0xf);
        if (bpf_mode(insn.opcode) == BPF_ATOMIC) {
            if (insn.imm == BPF_CMPXCHG) {
                u.use |= bit(0);
                u.def |= bit(0);
            } else if (insn.imm & BPF_FETCH) {
                u.def |= bit(insn.src & 0xf);
            }
        }
        break;
    case BPF_LD:
        if (insn.opcode == BPF_LDDW) {
            u.def |= bit(insn.dst & 0xf);
        } else {
            // LD_ABS / LD_IND: the kernel takes every register as read and none as written
            // (they may end the program), and pruning depends on it.
            u.use = 0x7ff;
        }
        break;
    case BPF_JMP:
    case BPF_JMP32:
        switch (bpf_op(insn.opcode)) {
        case BPF_JA: break;
        case BPF_CALL:
            u.use |= insn.src == 0 ? helper_args(insn.imm) : args_r1_r5;
            u.def |= caller_saved;
            break;
        case BPF_EXIT: u.use |= bit(0); break;
        default:
            u.use |= bit(insn.dst & 0xf);
            if (x) u.use |= bit(insn.src & 0xf);
        }
        break;
    }
    u.use &= 0x7ff;
    u.def &= 0x7ff;
    return u;
}

} // namespace

void Env::compute_live_registers() {
    const size_t n = insns_.size();
    std::vector<UseDef> ud(n);
    std::vector<std::vector<uint32_t>> succ(n);
    for (uint32_t i = 0; i < n; ++i) {
        const Insn& insn = insns_[i];
        ud[i] = use_def(insn);
        const uint8_t cls = bpf_class(insn.opcode);
        auto add = [&](int64_t t) {
            if (t >= 0 && t < static_cast<int64_t>(n)) succ[i].push_back(static_cast<uint32_t>(t));
        };
        if (insn.opcode == BPF_LDDW) {
            add(i + 2);
            ++i;
            continue;
        }
        if (cls != BPF_JMP && cls != BPF_JMP32) {
            add(i + 1);
            continue;
        }
        switch (bpf_op(insn.opcode)) {
        case BPF_EXIT: break;
        case BPF_CALL: add(i + 1); break;
        case BPF_JA:
            add(static_cast<int64_t>(i) + 1 + (cls == BPF_JMP32 ? insn.imm : insn.off));
            break;
        default: add(i + 1); add(static_cast<int64_t>(i) + 1 + insn.off);
        }
    }
    live_in_.assign(n, 0);
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t k = n; k-- > 0;) {
            uint16_t out = 0;
            for (uint32_t s : succ[k])
                out |= live_in_[s];
            const uint16_t in = static_cast<uint16_t>(ud[k].use | (out & ~ud[k].def)) | bit(10);
            if (in != live_in_[k]) {
                live_in_[k] = in;
                changed = true;
            }
        }
    }
}

} // namespace ebpf::verifier
