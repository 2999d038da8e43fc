// The kernel's jhash() and jhash2() (include/linux/jhash.h): Bob Jenkins' lookup3 hashlittle()
// over bytes and hashword() over 32-bit words. Stack trace maps choose a trace's bucket with
// jhash2 and bloom filters their bits with either, so ids and answers match the kernel's only
// when these hashes are bit for bit the kernel's.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

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

// jhash(key, length, initval): length in bytes; whole words are read in the host's byte order,
// as the kernel's __get_unaligned_cpu32 reads them, and the tail byte by byte.
inline uint32_t jhash(const void* key, uint32_t length, uint32_t initval) {
    const auto* k = static_cast<const uint8_t*>(key);
    uint32_t a = JHASH_INITVAL + length + initval, b = a, c = a;
    const auto word = [](const uint8_t* p) {
        uint32_t w;
        std::memcpy(&w, p, 4);
        return w;
    };
    for (; length > 12; length -= 12, k += 12) {
        a += word(k), b += word(k + 4), c += word(k + 8);
        detail::jhash_mix(a, b, c);
    }
    if (length == 0) return c;
    // The last 1-12 bytes, each at its little-endian place in a, b or c.
    uint32_t tail[3] = {};
    for (uint32_t i = 0; i < length; ++i)
        tail[i / 4] += uint32_t{k[i]} << (8 * (i % 4));
    a += tail[0], b += tail[1], c += tail[2];
    detail::jhash_final(a, b, c);
    return c;
}

} // namespace ebpf
