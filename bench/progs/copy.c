// A byte-by-byte copy of the payload's first 512 bytes over its second half; returns the last
// byte copied.
#include "bench.h"

#define LEN (BENCH_PAYLOAD / 2)

SEC("xdp")
int bench_copy(struct xdp_md* ctx) {
    __u8* data = (__u8*)(long)ctx->data;
    __u8* end = (__u8*)(long)ctx->data_end;
    const volatile __u8* src = data + BENCH_HEADERS;
    __u8* dst = data + BENCH_HEADERS + LEN;
    if (dst + LEN > end) return XDP_ABORTED;
    // src is volatile so that neither compiler turns the loop into a memcpy call or into
    // word-sized moves: this measures a byte loop.
    for (__u32 i = 0; i < LEN; i++)
        dst[i] = src[i];
    return dst[LEN - 1];
}

BENCH_LICENSE;
