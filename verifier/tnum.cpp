#include "verifier/tnum.hpp"

#include <bit>
#include <cstdio>

namespace ebpf::verifier {

Tnum tnum_range(uint64_t min, uint64_t max) {
    const uint64_t chi = min ^ max;
    const int bits = chi ? 64 - std::countl_zero(chi) : 0;
    if (bits > 63) return tnum_unknown;
    const uint64_t delta = (1ULL << bits) - 1;
    return {min & ~delta, delta};
}

Tnum tnum_lshift(Tnum a, uint8_t shift) {
    return {a.value << shift, a.mask << shift};
}
Tnum tnum_rshift(Tnum a, uint8_t shift) {
    return {a.value >> shift, a.mask >> shift};
}

Tnum tnum_arshift(Tnum a, uint8_t min_shift, uint8_t insn_bitness) {
    // The sign bit's state shifts in from the left, whichever it is.
    if (insn_bitness == 32)
        return {static_cast<uint32_t>(static_cast<int32_t>(a.value) >> min_shift),
                static_cast<uint32_t>(static_cast<int32_t>(a.mask) >> min_shift)};
    return {static_cast<uint64_t>(static_cast<int64_t>(a.value) >> min_shift),
            static_cast<uint64_t>(static_cast<int64_t>(a.mask) >> min_shift)};
}

Tnum tnum_add(Tnum a, Tnum b) {
    const uint64_t sm = a.mask + b.mask;
    const uint64_t sv = a.value + b.value;
    const uint64_t sigma = sm + sv;
    const uint64_t chi = sigma ^ sv;
    const uint64_t mu = chi | a.mask | b.mask;
    return {sv & ~mu, mu};
}

Tnum tnum_sub(Tnum a, Tnum b) {
    const uint64_t dv = a.value - b.value;
    const uint64_t alpha = dv + a.mask;
    const uint64_t beta = dv - b.mask;
    const uint64_t chi = alpha ^ beta;
    const uint64_t mu = chi | a.mask | b.mask;
    return {dv & ~mu, mu};
}

Tnum tnum_neg(Tnum a) {
    return tnum_sub(tnum_const(0), a);
}

Tnum tnum_and(Tnum a, Tnum b) {
    const uint64_t alpha = a.value | a.mask;
    const uint64_t beta = b.value | b.mask;
    const uint64_t v = a.value & b.value;
    return {v, alpha & beta & ~v};
}

Tnum tnum_or(Tnum a, Tnum b) {
    const uint64_t v = a.value | b.value;
    const uint64_t mu = a.mask | b.mask;
    return {v, mu & ~v};
}

Tnum tnum_xor(Tnum a, Tnum b) {
    const uint64_t v = a.value ^ b.value;
    const uint64_t mu = a.mask | b.mask;
    return {v & ~mu, mu};
}

// Long multiplication: known bits of a times b, plus unknown partial products.
Tnum tnum_mul(Tnum a, Tnum b) {
    Tnum acc_v = tnum_const(a.value * b.value);
    Tnum acc_m{0, 0};
    while (a.value || a.mask) {
        if (a.value & 1)
            acc_m = tnum_add(acc_m, Tnum{0, b.mask});
        else if (a.mask & 1)
            acc_m = tnum_add(acc_m, Tnum{0, b.value | b.mask});
        a = tnum_rshift(a, 1);
        b = tnum_lshift(b, 1);
    }
    return tnum_add(acc_v, acc_m);
}

Tnum tnum_intersect(Tnum a, Tnum b) {
    const uint64_t v = a.value | b.value;
    const uint64_t mu = a.mask & b.mask;
    return {v & ~mu, mu};
}

Tnum tnum_union(Tnum a, Tnum b) {
    const uint64_t v = a.value & b.value;
    const uint64_t mu = a.mask | b.mask | (a.value ^ b.value);
    return {v & ~mu, mu};
}

Tnum tnum_cast(Tnum a, uint8_t size) {
    if (size >= 8) return a;
    const uint64_t keep = (1ULL << (size * 8)) - 1;
    return {a.value & keep, a.mask & keep};
}

std::string tnum_str(Tnum t) {
    char buf[48];
    if (tnum_is_const(t)) {
        std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(t.value));
        return buf;
    }
    std::snprintf(buf, sizeof buf, "(0x%llx; 0x%llx)", static_cast<unsigned long long>(t.value),
                  static_cast<unsigned long long>(t.mask));
    return buf;
}

} // namespace ebpf::verifier
