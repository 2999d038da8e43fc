// The kernel's jhash2() (include/linux/jhash.h): Bob Jenkins' lookup3 hashword() over 32-bit
// words. Stack trace maps choose a trace's bucket with it and bloom filters their bits, so ids
// and answers match the kernel's only when this hash is bit for bit the kernel's.
#pragma once

#include <bit>
#include <cstdint>

namespace ebpf {

inline constexpr uint32_t JHASH_INITVAL = 0xdeadbeef;

namespace detail {

constexpr void jhash_mix(uint32_t& a, uint32_t& b, uint32_t& c) {
    a -= c, a ^= std::rotl(c, 4), c += b;
    b -= a, b ^= std::rotl(a, 6), a += c;
    c -= b, c ^= std::rotl(b, 8), b += a;
    a -= c, a ^= std::rotl(c, 16), c += b;
    b -= a, b ^= std::rotl(a, 19), a += c;
    c -= b, c ^= std::rotl(b, 4), b += a;
}

constexpr void jhash_final(uint32_t& a, uint32_t& b, uint32_t& c) {
    c ^= b, c -= std::rotl(b, 14);
    a ^= c, a -= std::rotl(c, 11);
    b ^= a, b -= std::rotl(a, 25);
    c ^= b, c -= std::rotl(b, 16);
    a ^= c, a -= std::rotl(c, 4);
    b ^= a, b -= std::rotl(a, 14);
    c ^= b, c -= std::rotl(b, 24);
}

} // namespace detail

// jhash2(k, length, initval): length counts 32-bit words, not bytes.
constexpr uint32_t jhash2(const uint32_t* k, uint32_t length, uint32_t initval) {
    uint32_t a = JHASH_INITVAL + (length << 2) + initval, b = a, c = a;
    for (; length > 3; length -= 3, k += 3) {
        a += k[0], b += k[1], c += k[2];
        detail::jhash_mix(a, b, c);
    }
    if (length == 0) return c;
    if (length == 3) c += k[2];
    if (length >= 2) b += k[1];
    a += k[0];
    detail::jhash_final(a, b, c);
    return c;
}

} // namespace ebpf
