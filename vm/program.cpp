#include "vm/program.hpp"

#include "vm/isa/validate.hpp"

namespace ebpf {

Result<Program> Program::load(Insns insns, const HelperRegistry& helpers) {
    if (auto err = validate(insns)) return *err;

    Program prog;
    prog.insns_.assign(insns.begin(), insns.end());
    prog.helpers_ = &helpers;
    prog.slots_.reserve(insns.size());
    for (size_t i = 0; i < insns.size(); ++i) {
        const Insn& insn = insns[i];
        const Op op = *lookup_op(insn); // validate() refused instructions without a row
        Slot slot{op, insn.dst, insn.src, insn.off,
                  static_cast<uint64_t>(static_cast<int64_t>(insn.imm))};
        const int64_t here = static_cast<int64_t>(i);
        const uint8_t cls = bpf_class(insn.opcode);
        switch (op) {
        case Op::lddw:
            if (insn.src != 0)
                return error_at(i, "lddw with src " + std::to_string(insn.src) +
                                       " refers to a map; raw programs have none");
            slot.imm = static_cast<uint32_t>(insn.imm) |
                       (static_cast<uint64_t>(static_cast<uint32_t>(insns[i + 1].imm)) << 32);
            break;
        case Op::call_helper: {
            const Helper* h = helpers.find(insn.imm);
            if (!h) return error_at(i, "unknown func #" + std::to_string(insn.imm));
            slot.imm = reinterpret_cast<uint64_t>(h->fn);
            break;
        }
        case Op::call_kfunc: return error_at(i, "kernel function calls are not supported");
        case Op::call_local: slot.off = static_cast<int32_t>(here + insn.imm + 1); break;
        case Op::gotol: slot.off = static_cast<int32_t>(here + insn.imm + 1); break;
        default:
            if ((cls == BPF_JMP || cls == BPF_JMP32) && op != Op::exit && op != Op::callx)
                slot.off = static_cast<int32_t>(here + insn.off + 1);
            break;
        }
        prog.slots_.push_back(slot);
        if (op == Op::lddw) {
            prog.slots_.push_back(Slot{Op::lddw, 0, 0, 0, 0}); // the tail, jumped over
            ++i;
        }
    }
    return prog;
}

} // namespace ebpf
