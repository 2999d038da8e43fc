// strcmp of two NUL-terminated strings in the payload (at 0 and at 512) that differ only at
// their 400th byte; returns the difference there.
#include "bench.h"

#define HALF (BENCH_PAYLOAD / 2)

SEC("xdp")
int bench_strcmp(struct xdp_md* ctx) {
    __u8* data = (__u8*)(long)ctx->data;
    __u8* end = (__u8*)(long)ctx->data_end;
    const __u8* a = data + BENCH_HEADERS;
    const __u8* b = a + HALF;
    if (b + HALF > end) return XDP_ABORTED;
    for (__u32 i = 0; i < HALF; i++) {
        if (a[i] != b[i]) return (int)a[i] - (int)b[i] + 256;
        if (a[i] == 0) return 0;
    }
    return 1;
}

BENCH_LICENSE;
