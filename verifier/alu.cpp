// ALU instructions: field checks, operand checks, scalar transfer and pointer arithmetic, as
// the kernel's check_alu_op, adjust_reg_min_max_vals and adjust_ptr_min_max_vals.
#include "verifier/env.hpp"
#include "verifier/scalar_ops.hpp"

namespace ebpf::verifier {
namespace {

constexpr int64_t max_var_off = 1LL << 29;

const char* alu_string(uint8_t opcode) {
    static constexpr const char* names[] = {
        "+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "endian"};
    return names[(opcode >> 4) & 0xf];
}

} // namespace

int Env::check_alu_op(const Insn& insn) {
    const uint8_t opcode = bpf_op(insn.opcode);
    const bool alu64 = bpf_class(insn.opcode) == BPF_ALU64;
    const bool is_x = bpf_srcbit(insn.opcode) == BPF_X;
    auto& regs = cur_.cur().regs;

    if (opcode == BPF_END || opcode == BPF_NEG) {
        if (opcode == BPF_NEG) {
            if (is_x || insn.src || insn.off || insn.imm)
                return reject(-EINVAL_, "BPF_NEG uses reserved fields");
        } else if (insn.src || insn.off || (insn.imm != 16 && insn.imm != 32 && insn.imm != 64) ||
                   (alu64 && is_x)) {
            return reject(-EINVAL_, "BPF_END uses reserved fields");
        }
        if (int err = check_reg_arg(insn.dst, RegArg::src_op)) return err;
        if (!opts_.privileged && regs[insn.dst].is_pointer())
            return reject(-EACCES_, "R%u pointer arithmetic prohibited", insn.dst);
        if (opcode == BPF_NEG && regs[insn.dst].type == RegType::scalar) {
            if (int err = check_reg_arg(insn.dst, RegArg::dst_op_no_mark)) return err;
            scalar_alu(regs[insn.dst], regs[insn.dst], BPF_NEG, !alu64);
            return 0;
        }
        return check_reg_arg(insn.dst, RegArg::dst_op);
    }

    if (opcode == BPF_MOV) {
        if (is_x) {
            const bool off_ok =
                insn.off == 0 || insn.off == 8 || insn.off == 16 || (alu64 && insn.off == 32);
            if (!off_ok || insn.imm) return reject(-EINVAL_, "BPF_MOV uses reserved fields");
            if (int err = check_reg_arg(insn.src, RegArg::src_op)) return err;
        } else if (insn.src || insn.off) {
            return reject(-EINVAL_, "BPF_MOV uses reserved fields");
        }
        if (int err = check_reg_arg(insn.dst, RegArg::dst_op_no_mark)) return err;
        RegState& dst = regs[insn.dst];
        if (!is_x) {
            mark_unknown(dst);
            mark_known(dst, alu64 ? static_cast<uint64_t>(static_cast<int64_t>(insn.imm))
                                  : static_cast<uint32_t>(insn.imm));
            return 0;
        }
        RegState& src = regs[insn.src];
        const bool need_id = src.type == RegType::scalar && !src.id && !tnum_is_const(src.var_off);
        if (alu64) {
            if (insn.off == 0) {
                // A copy shares the source's id, so that bounds learnt on one apply to both.
                if (need_id) src.id = ++id_gen_;
                dst = src;
                return 0;
            }
            if (src.is_pointer()) {
                if (!opts_.privileged)
                    return reject(-EACCES_, "R%u sign-extension part of pointer", insn.src);
                mark_unknown(dst);
                return 0;
            }
            const bool no_sext = src.umax < (1ULL << (insn.off - 1));
            if (no_sext && need_id) src.id = ++id_gen_;
            dst = src;
            if (!no_sext) dst.id = 0;
            coerce_reg_to_size_sx(dst, insn.off >> 3);
            return 0;
        }
        if (src.is_pointer()) {
            if (!opts_.privileged) return reject(-EACCES_, "R%u partial copy of pointer", insn.src);
            mark_unknown(dst);
        } else if (insn.off == 0) {
            const bool src_u32 = src.umax <= 0xffffffffu;
            if (src_u32 && need_id) src.id = ++id_gen_;
            dst = src;
            if (!src_u32) dst.id = 0;
        } else {
            const bool no_sext = src.umax < (1ULL << (insn.off - 1));
            if (no_sext && need_id) src.id = ++id_gen_;
            dst = src;
            if (!no_sext) dst.id = 0;
            coerce_subreg_to_size_sx(dst, insn.off >> 3);
        }
        zext_32_to_64(dst);
        bounds_sync(dst);
        return 0;
    }

    if (opcode > BPF_END) return reject(-EINVAL_, "invalid BPF_ALU opcode %x", opcode);

    const bool off_bad = (insn.off != 0 && insn.off != 1) ||
                         (insn.off == 1 && opcode != BPF_MOD && opcode != BPF_DIV);
    if (is_x) {
        if (insn.imm != 0 || off_bad) return reject(-EINVAL_, "BPF_ALU uses reserved fields");
        if (int err = check_reg_arg(insn.src, RegArg::src_op)) return err;
    } else if (insn.src != 0 || off_bad) {
        return reject(-EINVAL_, "BPF_ALU uses reserved fields");
    }
    if (int err = check_reg_arg(insn.dst, RegArg::src_op)) return err;
    if ((opcode == BPF_MOD || opcode == BPF_DIV) && !is_x && insn.imm == 0)
        return reject(-EINVAL_, "div by zero");
    if ((opcode == BPF_LSH || opcode == BPF_RSH || opcode == BPF_ARSH) && !is_x) {
        const int size = alu64 ? 64 : 32;
        if (insn.imm < 0 || insn.imm >= size) return reject(-EINVAL_, "invalid shift %d", insn.imm);
    }
    if (int err = check_reg_arg(insn.dst, RegArg::dst_op_no_mark)) return err;
    return adjust_reg_min_max_vals(insn);
}

int Env::adjust_reg_min_max_vals(const Insn& insn) {
    auto& regs = cur_.cur().regs;
    RegState& dst = regs[insn.dst];
    const uint8_t opcode = bpf_op(insn.opcode);
    const bool alu32 = bpf_class(insn.opcode) == BPF_ALU;
    if (dst.type == RegType::scalar) dst.id = 0;

    RegState src;
    if (bpf_srcbit(insn.opcode) == BPF_X) {
        src = regs[insn.src];
        if (src.is_pointer()) {
            if (dst.is_pointer()) {
                // Two pointers combine only by subtraction, into a scalar.
                if (opcode == BPF_SUB && opts_.privileged) {
                    mark_unknown(dst);
                    return 0;
                }
                return reject(-EACCES_, "R%u pointer %s pointer prohibited", insn.dst,
                              alu_string(opcode));
            }
            // scalar += pointer: the result is the pointer moved by the scalar.
            mark_chain_precision(insn.dst);
            const RegState scalar = dst;
            return adjust_ptr_min_max_vals(insn, dst, src, scalar);
        }
        if (dst.is_pointer()) {
            mark_chain_precision(insn.src);
            const RegState ptr = dst;
            return adjust_ptr_min_max_vals(insn, dst, ptr, src);
        }
    } else {
        src.type = RegType::scalar;
        mark_known(src, static_cast<uint64_t>(static_cast<int64_t>(insn.imm)));
        if (dst.is_pointer()) {
            const RegState ptr = dst;
            return adjust_ptr_min_max_vals(insn, dst, ptr, src);
        }
    }
    scalar_alu(dst, src, opcode, alu32);
    return 0;
}

int Env::adjust_ptr_min_max_vals(const Insn& insn, RegState& dst, const RegState& ptr,
                                 const RegState& off) {
    const uint8_t opcode = bpf_op(insn.opcode);
    const bool known = tnum_is_const(off.var_off);
    const bool dst_was_scalar = !cur_.cur().regs[insn.dst].is_pointer();
    if ((known && (off.smin != off.smax || off.umin != off.umax)) || off.smin > off.smax ||
        off.umin > off.umax) {
        mark_unknown(dst);
        return 0;
    }
    if (bpf_class(insn.opcode) != BPF_ALU64) {
        if (opcode == BPF_SUB && opts_.privileged) {
            mark_unknown(dst);
            return 0;
        }
        return reject(-EACCES_, "R%u 32-bit pointer arithmetic prohibited", insn.dst);
    }
    if (ptr.maybe_null())
        return reject(-EACCES_, "R%u pointer arithmetic on %s prohibited, null-check it first",
                      insn.dst, reg_type_str(ptr).c_str());
    switch (ptr.type) {
    case RegType::ptr_to_ctx:
    case RegType::ptr_to_map_value:
    case RegType::ptr_to_map_key:
    case RegType::ptr_to_stack:
    case RegType::ptr_to_packet_meta:
    case RegType::ptr_to_packet:
    case RegType::ptr_to_tp_buffer:
    case RegType::ptr_to_mem:
    case RegType::ptr_to_buf:
    case RegType::ptr_to_func: break;
    case RegType::ptr_to_flow_keys:
        if (known) break;
        [[fallthrough]];
    case RegType::const_ptr_to_map:
        if (known && off.smin == 0 && opcode == BPF_ADD) break;
        [[fallthrough]];
    default:
        return reject(-EACCES_, "R%u pointer arithmetic on %s prohibited", insn.dst,
                      reg_type_str(ptr).c_str());
    }

    auto sane = [&](const RegState& reg, const RegState& type_of) -> bool {
        const std::string type = reg_type_str(type_of);
        const int64_t val = static_cast<int64_t>(reg.var_off.value);
        if (tnum_is_const(reg.var_off) && (val >= max_var_off || val <= -max_var_off)) {
            reject(-EACCES_, "math between %s pointer and %lld is not allowed", type.c_str(),
                   static_cast<long long>(val));
            return false;
        }
        if (reg.off >= max_var_off || reg.off <= -max_var_off) {
            reject(-EACCES_, "%s pointer offset %d is not allowed", type.c_str(), reg.off);
            return false;
        }
        if (reg.smin == std::numeric_limits<int64_t>::min()) {
            reject(-EACCES_,
                   "math between %s pointer and register with unbounded min value is not allowed",
                   type.c_str());
            return false;
        }
        if (reg.smin >= max_var_off || reg.smin <= -max_var_off) {
            reject(-EACCES_, "value %lld makes %s pointer be out of bounds",
                   static_cast<long long>(reg.smin), type.c_str());
            return false;
        }
        return true;
    };

    const RegState p = ptr, o = off; // dst may alias either
    dst = p;
    if (!sane(o, p) || !sane(p, p)) return -EACCES_;
    mark_32_unbounded(dst);
    SanitizeInfo sanitize;
    if (int err = sanitize_ptr_alu(insn, cur_insn_, p, o, dst_was_scalar, sanitize, false))
        return err;

    switch (opcode) {
    case BPF_ADD: {
        const int64_t fixed = static_cast<int64_t>(p.off) + o.smin;
        if (known && fixed == static_cast<int32_t>(fixed)) {
            dst.off = static_cast<int32_t>(fixed);
            break;
        }
        if (__builtin_add_overflow(p.smin, o.smin, &dst.smin) ||
            __builtin_add_overflow(p.smax, o.smax, &dst.smax)) {
            dst.smin = std::numeric_limits<int64_t>::min();
            dst.smax = std::numeric_limits<int64_t>::max();
        }
        if (__builtin_add_overflow(p.umin, o.umin, &dst.umin) ||
            __builtin_add_overflow(p.umax, o.umax, &dst.umax)) {
            dst.umin = 0;
            dst.umax = ~0ULL;
        }
        dst.var_off = tnum_add(p.var_off, o.var_off);
        if (p.is_packet()) {
            dst.id = ++id_gen_;
            dst.range = 0;
        }
        break;
    }
    case BPF_SUB: {
        if (dst_was_scalar)
            return reject(-EACCES_, "R%u tried to subtract pointer from scalar", insn.dst);
        if (p.type == RegType::ptr_to_stack)
            return reject(-EACCES_, "R%u subtraction from stack pointer prohibited", insn.dst);
        const int64_t fixed = static_cast<int64_t>(p.off) - o.smin;
        if (known && fixed == static_cast<int32_t>(fixed)) {
            dst.off = static_cast<int32_t>(fixed);
            break;
        }
        if (__builtin_sub_overflow(p.smin, o.smax, &dst.smin) ||
            __builtin_sub_overflow(p.smax, o.smin, &dst.smax)) {
            dst.smin = std::numeric_limits<int64_t>::min();
            dst.smax = std::numeric_limits<int64_t>::max();
        }
        if (p.umin < o.umax) {
            dst.umin = 0;
            dst.umax = ~0ULL;
        } else {
            dst.umin = p.umin - o.umax;
            dst.umax = p.umax - o.umin;
        }
        dst.var_off = tnum_sub(p.var_off, o.var_off);
        if (p.is_packet()) {
            dst.id = ++id_gen_;
            if (o.smin < 0) dst.range = 0;
        }
        break;
    }
    case BPF_AND:
    case BPF_OR:
    case BPF_XOR:
        return reject(-EACCES_, "R%u bitwise operator %s on pointer prohibited", insn.dst,
                      alu_string(opcode));
    default:
        return reject(-EACCES_, "R%u pointer arithmetic with %s operator prohibited", insn.dst,
                      alu_string(opcode));
    }
    if (!sane(dst, p)) return -EACCES_;
    bounds_sync(dst);
    if (int err = sanitize_check_bounds(insn, dst)) return err;
    return sanitize_ptr_alu(insn, cur_insn_, dst, o, dst_was_scalar, sanitize, true);
}

} // namespace ebpf::verifier
