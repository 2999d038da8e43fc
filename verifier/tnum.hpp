// Tristate numbers, the kernel's known-bits abstraction (kernel/bpf/tnum.c): each bit is known 0,
// known 1 (value) or unknown (mask). value & mask == 0 always.
#pragma once

#include <cstdint>
#include <string>

namespace ebpf::verifier {

struct Tnum {
    uint64_t value = 0;
    uint64_t mask = 0;

    friend bool operator==(const Tnum&, const Tnum&) = default;
};

inline constexpr Tnum tnum_unknown{0, ~0ULL};
inline constexpr Tnum tnum_const(uint64_t v) {
    return {v, 0};
}
Tnum tnum_range(uint64_t min, uint64_t max);

inline bool tnum_is_const(Tnum a) {
    return a.mask == 0;
}
inline bool tnum_is_unknown(Tnum a) {
    return a.mask == ~0ULL;
}
inline bool tnum_equals_const(Tnum a, uint64_t b) {
    return tnum_is_const(a) && a.value == b;
}
inline bool tnum_is_aligned(Tnum a, uint64_t size) {
    return size == 0 || ((a.value | a.mask) & (size - 1)) == 0;
}
// True when every value b can take is one a can take.
inline bool tnum_in(Tnum a, Tnum b) {
    if (b.mask & ~a.mask) return false;
    b.value &= ~a.mask;
    return a.value == b.value;
}

Tnum tnum_lshift(Tnum a, uint8_t shift);
Tnum tnum_rshift(Tnum a, uint8_t shift);
Tnum tnum_arshift(Tnum a, uint8_t min_shift, uint8_t insn_bitness);
Tnum tnum_add(Tnum a, Tnum b);
Tnum tnum_sub(Tnum a, Tnum b);
Tnum tnum_neg(Tnum a);
Tnum tnum_and(Tnum a, Tnum b);
Tnum tnum_or(Tnum a, Tnum b);
Tnum tnum_xor(Tnum a, Tnum b);
Tnum tnum_mul(Tnum a, Tnum b);
Tnum tnum_intersect(Tnum a, Tnum b);
Tnum tnum_union(Tnum a, Tnum b);
Tnum tnum_cast(Tnum a, uint8_t size); // keep the low size bytes

// The low 32 bits (subreg) and the high 32 bits.
inline Tnum tnum_subreg(Tnum a) {
    return tnum_cast(a, 4);
}
inline Tnum tnum_clear_subreg(Tnum a) {
    return tnum_lshift(tnum_rshift(a, 32), 32);
}
inline Tnum tnum_with_subreg(Tnum reg, Tnum subreg) {
    return tnum_or(tnum_clear_subreg(reg), tnum_subreg(subreg));
}
inline Tnum tnum_const_subreg(Tnum a, uint32_t value) {
    return tnum_with_subreg(a, tnum_const(value));
}
inline bool tnum_subreg_is_const(Tnum a) {
    return tnum_subreg(a).mask == 0;
}

// tnum_strn, as the kernel prints a tnum in messages: a known value as a number.
std::string tnum_str(Tnum t);

} // namespace ebpf::verifier
