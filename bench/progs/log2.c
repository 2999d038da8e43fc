// floor(log2(x | 1)) of each 32-bit word of the payload by branch-free bit tricks (Sean Anderson's
// "Bit Twiddling Hacks"), summed.
#include "bench.h"

static __always_inline __u32 log2_u32(__u32 v) {
    __u32 r, shift;
    r = (v > 0xFFFF) << 4;
    v >>= r;
    shift = (v > 0xFF) << 3;
    v >>= shift;
    r |= shift;
    shift = (v > 0xF) << 2;
    v >>= shift;
    r |= shift;
    shift = (v > 0x3) << 1;
    v >>= shift;
    r |= shift;
    return r | (v >> 1);
}

SEC("xdp")
int bench_log2(struct xdp_md* ctx) {
    __u8* data = (__u8*)(long)ctx->data;
    __u8* end = (__u8*)(long)ctx->data_end;
    const __u32* words = (const __u32*)(data + BENCH_HEADERS);
    if ((const __u8*)(words + BENCH_PAYLOAD / 4) > end) return XDP_ABORTED;
    __u32 sum = 0;
    for (__u32 i = 0; i < BENCH_PAYLOAD / 4; i++)
        sum += log2_u32(words[i] | 1);
    return (int)sum;
}

BENCH_LICENSE;
