// Sieve of Eratosthenes over the payload's 1,024 bytes: returns the number of primes below 1,024.
#include "bench.h"

#define N BENCH_PAYLOAD

SEC("xdp")
int bench_sieve(struct xdp_md* ctx) {
    __u8* data = (__u8*)(long)ctx->data;
    __u8* end = (__u8*)(long)ctx->data_end;
    __u8* flags = data + BENCH_HEADERS;
    if (flags + N > end) return XDP_ABORTED;
    for (__u32 i = 0; i < N; i++)
        flags[i] = 0;
    __u32 primes = 0;
    for (__u32 i = 2; i < N; i++) {
        if (flags[i]) continue;
        primes++;
        for (__u32 j = i * i; j < N; j += i)
            flags[j] = 1;
    }
    return (int)primes;
}

BENCH_LICENSE;
