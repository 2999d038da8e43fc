// 32-bit MurmurHash3 (x86_32) over the payload, four bytes at a time.
#include "bench.h"

static __always_inline __u32 rotl32(__u32 x, int r) {
    return (x << r) | (x >> (32 - r));
}

SEC("xdp")
int bench_murmur(struct xdp_md* ctx) {
    __u8* data = (__u8*)(long)ctx->data;
    __u8* end = (__u8*)(long)ctx->data_end;
    const __u32* words = (const __u32*)(data + BENCH_HEADERS);
    if ((const __u8*)(words + BENCH_PAYLOAD / 4) > end) return XDP_ABORTED;
    __u32 h = 0x9747b28c;
    for (__u32 i = 0; i < BENCH_PAYLOAD / 4; i++) {
        __u32 k = words[i];
        k *= 0xcc9e2d51;
        k = rotl32(k, 15);
        k *= 0x1b873593;
        h ^= k;
        h = rotl32(h, 13);
        h = h * 5 + 0xe6546b64;
    }
    h ^= BENCH_PAYLOAD;
    h ^= h >> 16;
    h *= 0x85ebca6b;
    h ^= h >> 13;
    h *= 0xc2b2ae35;
    h ^= h >> 16;
    return (int)(h & 0x7fffffff);
}

BENCH_LICENSE;
