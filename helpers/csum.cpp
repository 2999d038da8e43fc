// bpf_csum_diff (net/core/filter.c, as of Linux 6.13: the sums of both buffers, folded to 16 bits,
// with no scratch buffer and so no size limit) and the checksum arithmetic it shares.
#include "helpers/csum.hpp"

#include "helpers/kernel_helpers.hpp"

namespace ebpf {

uint32_t csum::partial(const void* buf, size_t len, uint32_t seed) {
    const auto* p = static_cast<const uint8_t*>(buf);
    uint64_t sum = seed;
    auto add64 = [&](uint64_t word) {
        sum += word;
        sum += sum < word;
    };
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t word;
        std::memcpy(&word, p, 8);
        add64(word);
    }
    if (len) {
        uint64_t word = 0;
        std::memcpy(&word, p, len);
        add64(word);
    }
    return add(static_cast<uint32_t>(sum >> 32), static_cast<uint32_t>(sum));
}

void csum::replace4(void* sum, uint32_t from, uint32_t to) {
    const uint32_t tmp = sub(~unfold(load16(sum)), from);
    store16(sum, fold(add(tmp, to)));
}

void csum::replace2(void* sum, uint16_t from, uint16_t to) {
    const auto old = static_cast<uint16_t>(~load16(sum));
    store16(sum, static_cast<uint16_t>(~add16(sub16(old, from), to)));
}

void csum::replace_by_diff(void* sum, uint32_t diff) {
    store16(sum, fold(add(diff, ~unfold(load16(sum)))));
}

namespace helpers {

uint64_t csum_diff(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, RunState*) {
    const auto* from = reinterpret_cast<const void*>(r1);
    const auto* to = reinterpret_cast<const void*>(r3);
    const auto from_size = static_cast<uint32_t>(r2), to_size = static_cast<uint32_t>(r4);
    const auto seed = static_cast<uint32_t>(r5);
    uint32_t ret = seed;
    if (from_size && to_size)
        ret = csum::sub(csum::partial(to, to_size, seed), csum::partial(from, from_size, 0));
    else if (to_size)
        ret = csum::partial(to, to_size, seed);
    else if (from_size)
        ret = ~csum::partial(from, from_size, ~seed);
    return csum::from32to16(ret);
}

} // namespace helpers

} // namespace ebpf
