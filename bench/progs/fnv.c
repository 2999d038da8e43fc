// 64-bit FNV-1a over the payload, byte by byte.
#include "bench.h"

SEC("xdp")
int bench_fnv(struct xdp_md* ctx) {
    __u8* data = (__u8*)(long)ctx->data;
    __u8* end = (__u8*)(long)ctx->data_end;
    const __u8* bytes = data + BENCH_HEADERS;
    if (bytes + BENCH_PAYLOAD > end) return XDP_ABORTED;
    __u64 h = 0xcbf29ce484222325ULL;
    for (__u32 i = 0; i < BENCH_PAYLOAD; i++) {
        h ^= bytes[i];
        h *= 0x100000001b3ULL;
    }
    return (int)((h ^ (h >> 32)) & 0x7fffffff);
}

BENCH_LICENSE;
