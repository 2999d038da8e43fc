// The Internet checksum arithmetic of include/net/checksum.h and x86-64's csum_partial, for
// bpf_csum_diff and the program types' l3/l4_csum_replace. Values are as they sit in memory (the
// kernel's __be16/__be32/__wsum are raw memory words), so results match the kernel's bit for bit
// on little-endian hosts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ebpf::csum {

// csum_add: 32-bit one's complement addition, the carry wrapped around.
constexpr uint32_t add(uint32_t csum, uint32_t addend) {
    const uint32_t res = csum + addend;
    return res + (res < addend);
}
constexpr uint32_t sub(uint32_t csum, uint32_t addend) {
    return add(csum, ~addend);
}
// csum_fold: the 32-bit sum folded to 16 bits and complemented.
constexpr uint16_t fold(uint32_t csum) {
    uint32_t sum = (csum & 0xffff) + (csum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}
constexpr uint32_t unfold(uint16_t n) {
    return n;
}
// csum_from32to16: folded, not complemented.
constexpr uint16_t from32to16(uint32_t sum) {
    sum += (sum >> 16) | (sum << 16);
    return static_cast<uint16_t>(sum >> 16);
}
constexpr uint16_t add16(uint16_t csum, uint16_t addend) {
    const auto res = static_cast<uint16_t>(csum + addend);
    return static_cast<uint16_t>(res + (res < addend));
}
constexpr uint16_t sub16(uint16_t csum, uint16_t addend) {
    return add16(csum, static_cast<uint16_t>(~addend));
}

// x86-64's csum_partial: the buffer as little-endian 64-bit words (the last one zero-padded)
// summed with end-around carry into the seed, then folded to 32 bits.
uint32_t partial(const void* buf, size_t len, uint32_t seed);

// csum_replace4, csum_replace2, csum_replace_by_diff on the checksum field at sum (any alignment).
void replace4(void* sum, uint32_t from, uint32_t to);
void replace2(void* sum, uint16_t from, uint16_t to);
void replace_by_diff(void* sum, uint32_t diff);

inline uint16_t load16(const void* p) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
}
inline void store16(void* p, uint16_t v) {
    std::memcpy(p, &v, 2);
}

} // namespace ebpf::csum
