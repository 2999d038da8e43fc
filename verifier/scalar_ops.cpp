#include "verifier/scalar_ops.hpp"

#include "vm/isa/insn.hpp"

#include <algorithm>

namespace ebpf::verifier {
namespace {

constexpr int64_t S64_MIN = std::numeric_limits<int64_t>::min();
constexpr int64_t S64_MAX = std::numeric_limits<int64_t>::max();
constexpr int32_t S32_MIN = std::numeric_limits<int32_t>::min();
constexpr int32_t S32_MAX = std::numeric_limits<int32_t>::max();
constexpr uint32_t U32_MAX = std::numeric_limits<uint32_t>::max();

void mark_reg32_known(RegState& r, uint32_t v) {
    r.var_off = tnum_const_subreg(r.var_off, v);
    r.s32_min = r.s32_max = static_cast<int32_t>(v);
    r.u32_min = r.u32_max = v;
}

void update_reg32_from_tnum(RegState& r) {
    const Tnum v = tnum_subreg(r.var_off);
    r.s32_min = std::max(r.s32_min, static_cast<int32_t>(v.value | (v.mask & 0x80000000u)));
    r.s32_max = std::min(r.s32_max, static_cast<int32_t>(v.value | (v.mask & 0x7fffffffu)));
    r.u32_min = std::max(r.u32_min, static_cast<uint32_t>(v.value));
    r.u32_max = std::min(r.u32_max, static_cast<uint32_t>(v.value | v.mask));
}

void update_reg_bounds(RegState& r) {
    update_reg32_from_tnum(r);
    const Tnum v = r.var_off;
    r.smin = std::max(r.smin, static_cast<int64_t>(v.value | (v.mask & (1ULL << 63))));
    r.smax = std::min(r.smax, static_cast<int64_t>(v.value | (v.mask & ~(1ULL << 63))));
    r.umin = std::max(r.umin, v.value);
    r.umax = std::min(r.umax, v.value | v.mask);
}

// Unsigned results from a bitwise op: signed bounds follow when the range keeps its sign.
void s32_from_u32(RegState& r) {
    if (static_cast<int32_t>(r.u32_min) <= static_cast<int32_t>(r.u32_max)) {
        r.s32_min = static_cast<int32_t>(r.u32_min);
        r.s32_max = static_cast<int32_t>(r.u32_max);
    } else {
        r.s32_min = S32_MIN;
        r.s32_max = S32_MAX;
    }
}
void s64_from_u64(RegState& r) {
    if (static_cast<int64_t>(r.umin) <= static_cast<int64_t>(r.umax)) {
        r.smin = static_cast<int64_t>(r.umin);
        r.smax = static_cast<int64_t>(r.umax);
    } else {
        r.smin = S64_MIN;
        r.smax = S64_MAX;
    }
}

void add32(RegState& d, const RegState& s) {
    if (__builtin_add_overflow(d.s32_min, s.s32_min, &d.s32_min) ||
        __builtin_add_overflow(d.s32_max, s.s32_max, &d.s32_max)) {
        d.s32_min = S32_MIN;
        d.s32_max = S32_MAX;
    }
    const bool min_of = __builtin_add_overflow(d.u32_min, s.u32_min, &d.u32_min);
    const bool max_of = __builtin_add_overflow(d.u32_max, s.u32_max, &d.u32_max);
    if (!min_of && max_of) { // some sums wrap, others do not
        d.u32_min = 0;
        d.u32_max = U32_MAX;
    }
}
void add64(RegState& d, const RegState& s) {
    if (__builtin_add_overflow(d.smin, s.smin, &d.smin) ||
        __builtin_add_overflow(d.smax, s.smax, &d.smax)) {
        d.smin = S64_MIN;
        d.smax = S64_MAX;
    }
    const bool min_of = __builtin_add_overflow(d.umin, s.umin, &d.umin);
    const bool max_of = __builtin_add_overflow(d.umax, s.umax, &d.umax);
    if (!min_of && max_of) {
        d.umin = 0;
        d.umax = ~0ULL;
    }
}
void sub32(RegState& d, const RegState& s) {
    if (__builtin_sub_overflow(d.s32_min, s.s32_max, &d.s32_min) ||
        __builtin_sub_overflow(d.s32_max, s.s32_min, &d.s32_max)) {
        d.s32_min = S32_MIN;
        d.s32_max = S32_MAX;
    }
    const bool min_uf = __builtin_sub_overflow(d.u32_min, s.u32_max, &d.u32_min);
    const bool max_uf = __builtin_sub_overflow(d.u32_max, s.u32_min, &d.u32_max);
    if (min_uf && !max_uf) {
        d.u32_min = 0;
        d.u32_max = U32_MAX;
    }
}
void sub64(RegState& d, const RegState& s) {
    if (__builtin_sub_overflow(d.smin, s.smax, &d.smin) ||
        __builtin_sub_overflow(d.smax, s.smin, &d.smax)) {
        d.smin = S64_MIN;
        d.smax = S64_MAX;
    }
    const bool min_uf = __builtin_sub_overflow(d.umin, s.umax, &d.umin);
    const bool max_uf = __builtin_sub_overflow(d.umax, s.umin, &d.umax);
    if (min_uf && !max_uf) {
        d.umin = 0;
        d.umax = ~0ULL;
    }
}
template <typename U, typename S>
void mul_ranges(U& umin, U& umax, S& smin, S& smax, U sumin, U sumax, S ssmin, S ssmax) {
    if (__builtin_mul_overflow(umax, sumax, &umax) || __builtin_mul_overflow(umin, sumin, &umin)) {
        umin = 0;
        umax = std::numeric_limits<U>::max();
    }
    S p[4];
    if (__builtin_mul_overflow(smin, ssmin, &p[0]) || __builtin_mul_overflow(smin, ssmax, &p[1]) ||
        __builtin_mul_overflow(smax, ssmin, &p[2]) || __builtin_mul_overflow(smax, ssmax, &p[3])) {
        smin = std::numeric_limits<S>::min();
        smax = std::numeric_limits<S>::max();
    } else {
        smin = *std::min_element(p, p + 4);
        smax = *std::max_element(p, p + 4);
    }
}

void lsh32_bounds(RegState& d, uint64_t umin_val, uint64_t umax_val) {
    d.s32_min = S32_MIN;
    d.s32_max = S32_MAX;
    if (umax_val > 31 || d.u32_max > (1ULL << (31 - umax_val))) {
        d.u32_min = 0;
        d.u32_max = U32_MAX;
    } else {
        d.u32_min <<= umin_val;
        d.u32_max <<= umax_val;
    }
}
void lsh64_bounds(RegState& d, uint64_t umin_val, uint64_t umax_val) {
    // <<32 is the first half of the sign-extension idiom (<<32 s>>32): the s32 bounds move to
    // the upper half with their signs.
    const bool by_32 = umin_val == 32 && umax_val == 32;
    d.smax = by_32 ? static_cast<int64_t>(static_cast<uint64_t>(d.s32_max) << 32) : S64_MAX;
    d.smin = by_32 ? static_cast<int64_t>(static_cast<uint64_t>(d.s32_min) << 32) : S64_MIN;
    if (umax_val > 63 || d.umax > (1ULL << (63 - umax_val))) {
        d.umin = 0;
        d.umax = ~0ULL;
    } else {
        d.umin <<= umin_val;
        d.umax <<= umax_val;
    }
}

bool safe_to_compute(const RegState& src, uint8_t opcode, bool alu32) {
    const uint64_t bitness = alu32 ? 32 : 64;
    const bool src_const =
        alu32 ? (tnum_subreg_is_const(src.var_off) && src.s32_min == src.s32_max &&
                 src.u32_min == src.u32_max)
              : (tnum_is_const(src.var_off) && src.smin == src.smax && src.umin == src.umax);
    switch (opcode) {
    case BPF_ADD:
    case BPF_SUB:
    case BPF_NEG:
    case BPF_AND:
    case BPF_XOR:
    case BPF_OR:
    case BPF_MUL: return true;
    case BPF_LSH:
    case BPF_RSH:
    case BPF_ARSH: return src_const && (alu32 ? src.u32_max : src.umax) < bitness;
    default: return false;
    }
}

} // namespace

void scalar_alu(RegState& d, const RegState& src, uint8_t opcode, bool alu32) {
    if (!safe_to_compute(src, opcode, alu32)) {
        mark_unknown(d);
        return;
    }
    switch (opcode) {
    case BPF_ADD:
        add32(d, src);
        add64(d, src);
        d.var_off = tnum_add(d.var_off, src.var_off);
        break;
    case BPF_SUB:
        sub32(d, src);
        sub64(d, src);
        d.var_off = tnum_sub(d.var_off, src.var_off);
        break;
    case BPF_NEG: {
        const RegState old = d;
        mark_known(d, 0);
        sub32(d, old);
        sub64(d, old);
        d.var_off = tnum_neg(old.var_off);
        break;
    }
    case BPF_MUL:
        d.var_off = tnum_mul(d.var_off, src.var_off);
        mul_ranges<uint32_t, int32_t>(d.u32_min, d.u32_max, d.s32_min, d.s32_max, src.u32_min,
                                      src.u32_max, src.s32_min, src.s32_max);
        mul_ranges<uint64_t, int64_t>(d.umin, d.umax, d.smin, d.smax, src.umin, src.umax, src.smin,
                                      src.smax);
        break;
    case BPF_AND:
    case BPF_OR:
    case BPF_XOR: {
        const bool src32_known = tnum_subreg_is_const(src.var_off),
                   dst32_known = tnum_subreg_is_const(d.var_off);
        const bool src_known = tnum_is_const(src.var_off), dst_known = tnum_is_const(d.var_off);
        d.var_off = opcode == BPF_AND  ? tnum_and(d.var_off, src.var_off)
                    : opcode == BPF_OR ? tnum_or(d.var_off, src.var_off)
                                       : tnum_xor(d.var_off, src.var_off);
        const Tnum v32 = tnum_subreg(d.var_off);
        if (src32_known && dst32_known) {
            mark_reg32_known(d, static_cast<uint32_t>(v32.value));
        } else {
            if (opcode == BPF_AND) {
                d.u32_min = static_cast<uint32_t>(v32.value);
                d.u32_max = std::min(d.u32_max, src.u32_max);
            } else if (opcode == BPF_OR) {
                d.u32_min = std::max(d.u32_min, src.u32_min);
                d.u32_max = static_cast<uint32_t>(v32.value | v32.mask);
            } else {
                d.u32_min = static_cast<uint32_t>(v32.value);
                d.u32_max = static_cast<uint32_t>(v32.value | v32.mask);
            }
            s32_from_u32(d);
        }
        if (src_known && dst_known) {
            mark_known(d, d.var_off.value);
        } else {
            if (opcode == BPF_AND) {
                d.umin = d.var_off.value;
                d.umax = std::min(d.umax, src.umax);
            } else if (opcode == BPF_OR) {
                d.umin = std::max(d.umin, src.umin);
                d.umax = d.var_off.value | d.var_off.mask;
            } else {
                d.umin = d.var_off.value;
                d.umax = d.var_off.value | d.var_off.mask;
            }
            s64_from_u64(d);
            update_reg_bounds(d);
        }
        break;
    }
    case BPF_LSH:
        if (alu32) {
            const Tnum sub = tnum_subreg(d.var_off);
            lsh32_bounds(d, src.u32_min, src.u32_max);
            d.var_off = tnum_subreg(tnum_lshift(sub, static_cast<uint8_t>(src.u32_min)));
            mark_64_unbounded(d);
            update_reg32_from_tnum(d);
        } else {
            lsh64_bounds(d, src.umin, src.umax);
            lsh32_bounds(d, src.umin, src.umax);
            d.var_off = tnum_lshift(d.var_off, static_cast<uint8_t>(src.umin));
            update_reg_bounds(d);
        }
        break;
    case BPF_RSH:
        if (alu32) {
            const Tnum sub = tnum_subreg(d.var_off);
            d.s32_min = S32_MIN;
            d.s32_max = S32_MAX;
            d.var_off = tnum_rshift(sub, static_cast<uint8_t>(src.u32_min));
            d.u32_min >>= src.u32_max;
            d.u32_max >>= src.u32_min;
            mark_64_unbounded(d);
            update_reg32_from_tnum(d);
        } else {
            d.smin = S64_MIN;
            d.smax = S64_MAX;
            d.var_off = tnum_rshift(d.var_off, static_cast<uint8_t>(src.umin));
            d.umin >>= src.umax;
            d.umax >>= src.umin;
            mark_32_unbounded(d);
            update_reg_bounds(d);
        }
        break;
    case BPF_ARSH:
        if (alu32) {
            const uint8_t sh = static_cast<uint8_t>(src.u32_min);
            d.s32_min >>= sh;
            d.s32_max >>= sh;
            d.var_off = tnum_arshift(tnum_subreg(d.var_off), sh, 32);
            d.u32_min = 0;
            d.u32_max = U32_MAX;
            mark_64_unbounded(d);
            update_reg32_from_tnum(d);
        } else {
            const uint8_t sh = static_cast<uint8_t>(src.umin);
            d.smin >>= sh;
            d.smax >>= sh;
            d.var_off = tnum_arshift(d.var_off, sh, 64);
            d.umin = 0;
            d.umax = ~0ULL;
            mark_32_unbounded(d);
            update_reg_bounds(d);
        }
        break;
    default: mark_unknown(d); return;
    }
    if (alu32) zext_32_to_64(d);
    bounds_sync(d);
}

void coerce_reg_to_size(RegState& reg, int size) {
    reg.var_off = tnum_cast(reg.var_off, static_cast<uint8_t>(size));
    const uint64_t mask = (1ULL << (size * 8)) - 1;
    if ((reg.umin & ~mask) == (reg.umax & ~mask)) {
        reg.umin &= mask;
        reg.umax &= mask;
    } else {
        reg.umin = 0;
        reg.umax = mask;
    }
    reg.smin = static_cast<int64_t>(reg.umin);
    reg.smax = static_cast<int64_t>(reg.umax);
    if (size < 4) mark_32_unbounded(reg);
    bounds_sync(reg);
}

namespace {

int64_t sext(uint64_t v, int size) {
    switch (size) {
    case 1: return static_cast<int8_t>(v);
    case 2: return static_cast<int16_t>(v);
    default: return static_cast<int32_t>(v);
    }
}

} // namespace

void coerce_reg_to_size_sx(RegState& reg, int size) {
    if (tnum_is_const(reg.var_off)) {
        const RegType t = reg.type;
        mark_known(reg, static_cast<uint64_t>(sext(reg.var_off.value, size)));
        reg.type = t;
        return;
    }
    const int bits = size * 8;
    const uint64_t top_max = (static_cast<uint64_t>(reg.smax) >> bits) << bits;
    const uint64_t top_min = (static_cast<uint64_t>(reg.smin) >> bits) << bits;
    if (top_max == top_min) {
        const int64_t a = sext(static_cast<uint64_t>(reg.smax), size),
                      b = sext(static_cast<uint64_t>(reg.smin), size);
        const int64_t hi = std::max(a, b), lo = std::min(a, b);
        if ((hi >= 0) == (lo >= 0)) {
            reg.smin = lo;
            reg.smax = hi;
            reg.s32_min = static_cast<int32_t>(lo);
            reg.s32_max = static_cast<int32_t>(hi);
            reg.umin = static_cast<uint64_t>(lo);
            reg.umax = static_cast<uint64_t>(hi);
            reg.u32_min = static_cast<uint32_t>(lo);
            reg.u32_max = static_cast<uint32_t>(hi);
            reg.var_off = tnum_range(static_cast<uint64_t>(lo), static_cast<uint64_t>(hi));
            return;
        }
    }
    const int64_t smax = size == 1 ? INT8_MAX : size == 2 ? INT16_MAX : INT32_MAX;
    reg.smin = -smax - 1;
    reg.smax = smax;
    reg.s32_min = static_cast<int32_t>(-smax - 1);
    reg.s32_max = static_cast<int32_t>(smax);
    reg.umin = 0;
    reg.u32_min = 0;
    reg.umax = ~0ULL;
    reg.u32_max = U32_MAX;
    reg.var_off = tnum_unknown;
}

void coerce_subreg_to_size_sx(RegState& reg, int size) {
    if (tnum_is_const(reg.var_off)) {
        const uint32_t v = static_cast<uint32_t>(sext(reg.var_off.value, size));
        reg.var_off = tnum_const(v);
        reg.s32_min = reg.s32_max = static_cast<int32_t>(v);
        reg.u32_min = reg.u32_max = v;
        return;
    }
    const int bits = size * 8;
    const uint32_t top_max = (static_cast<uint32_t>(reg.s32_max) >> bits) << bits;
    const uint32_t top_min = (static_cast<uint32_t>(reg.s32_min) >> bits) << bits;
    if (top_max == top_min) {
        const int32_t a = static_cast<int32_t>(sext(static_cast<uint32_t>(reg.s32_max), size));
        const int32_t b = static_cast<int32_t>(sext(static_cast<uint32_t>(reg.s32_min), size));
        const int32_t hi = std::max(a, b), lo = std::min(a, b);
        if ((lo >= 0) == (hi >= 0)) {
            reg.s32_min = lo;
            reg.s32_max = hi;
            reg.u32_min = static_cast<uint32_t>(lo);
            reg.u32_max = static_cast<uint32_t>(hi);
            reg.var_off = tnum_subreg(tnum_range(static_cast<uint64_t>(static_cast<int64_t>(lo)),
                                                 static_cast<uint64_t>(static_cast<int64_t>(hi))));
            return;
        }
    }
    reg.s32_min = size == 1 ? INT8_MIN : INT16_MIN;
    reg.s32_max = size == 1 ? INT8_MAX : INT16_MAX;
    reg.u32_min = 0;
    reg.u32_max = U32_MAX;
    reg.var_off = tnum_subreg(tnum_unknown);
}

} // namespace ebpf::verifier
