// The unprivileged rules for pointer arithmetic (the kernel's Spectre v1 defences,
// sanitize_ptr_alu and sanitize_check_bounds): a register offset must have a sign, the pointer
// must be one whose speculative range can be masked (stack or map value) and stay inside it,
// and the result must point inside the stack or the map value.
#include "verifier/env.hpp"

namespace ebpf::verifier {
namespace {

enum class Reason { none, bounds, type, limit, paths };

// The kernel's BPF_ALU_* masking state bits.
constexpr uint32_t alu_sanitize_src = 1u << 0, alu_sanitize_dst = 1u << 1, alu_neg_value = 1u << 2,
                   alu_immediate = 1u << 4;

// retrieve_ptr_limit: how far the pointer may move in the masked direction (limit), or why not.
Reason ptr_limit(const RegState& ptr, bool mask_to_left, uint32_t& limit) {
    uint32_t max = 0;
    switch (ptr.type) {
    case RegType::ptr_to_stack:
        // Offset 0 is past the stack but a fine start leftwards (it is the frame pointer).
        max = MAX_BPF_STACK + (mask_to_left ? 1 : 0);
        limit = static_cast<uint32_t>(-(static_cast<int64_t>(ptr.var_off.value) + ptr.off));
        break;
    case RegType::ptr_to_map_value:
        max = reg_map_def(ptr).value_size;
        limit = static_cast<uint32_t>((mask_to_left ? ptr.smin : static_cast<int64_t>(ptr.umax)) +
                                      ptr.off);
        break;
    default: return Reason::type;
    }
    return limit >= max ? Reason::limit : Reason::none;
}

} // namespace

int Env::sanitize_ptr_alu(const Insn& insn, uint32_t insn_idx, const RegState& ptr,
                          const RegState& off, bool off_is_dst, SanitizeInfo& info, bool commit) {
    const uint8_t opcode = bpf_op(insn.opcode);
    // Constant offsets need no masking (can_skip_alu_sanitation).
    if (opts_.privileged || (opcode != BPF_ADD && opcode != BPF_SUB) ||
        bpf_srcbit(insn.opcode) == BPF_K)
        return 0;
    const bool off_is_neg = off.smin < 0;
    Reason reason = Reason::none;
    if (!commit) {
        if (!tnum_is_const(off.var_off) && (off.smin < 0) != (off.smax < 0))
            reason = Reason::bounds;
        info.mask_to_left = (opcode == BPF_ADD && off_is_neg) || (opcode == BPF_SUB && !off_is_neg);
    }
    uint32_t limit = 0;
    if (reason == Reason::none) reason = ptr_limit(ptr, info.mask_to_left, limit);
    if (reason == Reason::none && !commit) {
        // The first look: how the operation would be masked, before the pointer moves.
        info.alu_state = (off_is_neg ? alu_neg_value : 0) |
                         (tnum_is_const(off.var_off) ? alu_immediate : 0) |
                         (off_is_dst ? alu_sanitize_dst : alu_sanitize_src);
        info.alu_limit = limit;
        // Unknown offsets: pruning compares scalars exactly, to find other paths' masking.
        if (!tnum_is_const(off.var_off)) explore_alu_limits_ = true;
    } else if (reason == Reason::none) {
        // After it: the window narrowed to the move, which every path here must agree on.
        const uint32_t window =
            info.alu_limit > limit ? info.alu_limit - limit : limit - info.alu_limit;
        InsnAux& aux = aux_[insn_idx];
        if (aux.alu_state && (aux.alu_state != info.alu_state || aux.alu_limit != window))
            reason = Reason::paths;
        aux.alu_state = info.alu_state;
        aux.alu_limit = window;
    }
    const char* const err = "pointer arithmetic with it prohibited for !root";
    const char* const op = opcode == BPF_ADD ? "add" : "sub";
    const uint32_t ptr_regno = off_is_dst ? insn.src : insn.dst;
    const uint32_t off_regno = off_is_dst ? insn.dst : insn.src;
    switch (reason) {
    case Reason::none: return 0;
    case Reason::bounds:
        return reject(-EACCES_, "R%u has unknown scalar with mixed signed bounds, %s", off_regno,
                      err);
    case Reason::type:
        return reject(-EACCES_, "R%u has pointer with unsupported alu operation, %s", ptr_regno,
                      err);
    case Reason::limit:
        return reject(-EACCES_, "R%u tried to %s beyond pointer bounds, %s", insn.dst, op, err);
    case Reason::paths:
        return reject(-EACCES_, "R%u tried to %s from different maps, paths or scalars, %s",
                      insn.dst, op, err);
    }
    return 0;
}

int Env::sanitize_check_bounds(const Insn& insn, const RegState& dst) {
    if (opts_.privileged) return 0;
    switch (dst.type) {
    case RegType::ptr_to_stack: {
        const int64_t off = dst.off + static_cast<int64_t>(dst.var_off.value);
        if (!tnum_is_const(dst.var_off))
            return reject(-EACCES_,
                          "R%u variable stack access prohibited for !root, var_off=%s off=%d",
                          insn.dst, tnum_str(dst.var_off).c_str(), static_cast<int>(off));
        if (off >= 0 || off < -MAX_BPF_STACK)
            return reject(-EACCES_,
                          "R%u stack pointer arithmetic goes out of range, prohibited for !root; "
                          "off=%d",
                          insn.dst, static_cast<int>(off));
        return 0;
    }
    case RegType::ptr_to_map_value: {
        // check_map_access of one byte at the pointer.
        const uint32_t size = reg_map_def(dst).value_size;
        const bool inside = dst.smin + dst.off >= 0 &&
                            dst.umax + static_cast<uint64_t>(static_cast<int64_t>(dst.off)) < size;
        if (!inside)
            return reject(-EACCES_,
                          "R%u pointer arithmetic of map value goes out of range, prohibited for "
                          "!root",
                          insn.dst);
        return 0;
    }
    default: return 0;
    }
}

} // namespace ebpf::verifier
