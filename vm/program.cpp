#include "vm/program.hpp"

#include "vm/isa/validate.hpp"

namespace ebpf {
namespace {

// What an lddw loads: its immediate, a map, a map value's address, or a callback's index.
Result<uint64_t> lddw_value(Insns insns, size_t i, std::span<Map* const> maps) {
    const Insn& insn = insns[i];
    const Insn& next = insns[i + 1];
    switch (insn.src) {
    case 0:
        return static_cast<uint32_t>(insn.imm) |
               (static_cast<uint64_t>(static_cast<uint32_t>(next.imm)) << 32);
    case BPF_PSEUDO_FUNC: return static_cast<uint64_t>(static_cast<int64_t>(i) + insn.imm + 1);
    case BPF_PSEUDO_MAP_FD:
    case BPF_PSEUDO_MAP_IDX:
    case BPF_PSEUDO_MAP_VALUE:
    case BPF_PSEUDO_MAP_IDX_VALUE: {
        if (insn.imm < 0 || static_cast<size_t>(insn.imm) >= maps.size() ||
            !maps[static_cast<size_t>(insn.imm)])
            return error_at(i, "lddw refers to map " + std::to_string(insn.imm) +
                                   ", which the program does not have");
        Map* map = maps[static_cast<size_t>(insn.imm)];
        if (insn.src == BPF_PSEUDO_MAP_FD || insn.src == BPF_PSEUDO_MAP_IDX)
            return reinterpret_cast<uint64_t>(map);
        uint8_t* value = map->direct_value(static_cast<uint32_t>(next.imm));
        if (!value)
            return error_at(i, "map '" + map->def().name + "' has no value at offset " +
                                   std::to_string(static_cast<uint32_t>(next.imm)));
        return reinterpret_cast<uint64_t>(value);
    }
    default: return error_at(i, "lddw with src " + std::to_string(insn.src) + " is not supported");
    }
}

} // namespace

Result<Program> Program::load(Insns insns, const HelperRegistry& helpers,
                              std::span<Map* const> maps) {
    if (auto err = validate(insns)) return *err;

    Program prog;
    prog.insns_.assign(insns.begin(), insns.end());
    prog.helpers_ = &helpers;
    for (Map* map : maps) // holes are maps the program cannot name (LoadedObject::maps)
        if (map) prog.maps_.push_back(map);
    prog.slots_.reserve(insns.size());
    for (size_t i = 0; i < insns.size(); ++i) {
        const Insn& insn = insns[i];
        const Op op = *lookup_op(insn); // validate() refused instructions without a row
        Slot slot{op, insn.dst, insn.src, insn.off,
                  static_cast<uint64_t>(static_cast<int64_t>(insn.imm))};
        const int64_t here = static_cast<int64_t>(i);
        const uint8_t cls = bpf_class(insn.opcode);
        switch (op) {
        case Op::lddw: {
            auto value = lddw_value(insns, i, maps);
            if (!value) return value.error();
            slot.imm = *value;
            break;
        }
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
