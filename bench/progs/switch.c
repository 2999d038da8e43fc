// A 64-way switch on each payload byte, each case a different operation on an accumulator: a
// jump table natively, a tree of compares in BPF (which has no indirect jumps).
#include "bench.h"

SEC("xdp")
int bench_switch(struct xdp_md* ctx) {
    __u8* data = (__u8*)(long)ctx->data;
    __u8* end = (__u8*)(long)ctx->data_end;
    const __u8* bytes = data + BENCH_HEADERS;
    if (bytes + BENCH_PAYLOAD > end) return XDP_ABORTED;
    __u32 acc = 1;
    for (__u32 i = 0; i < BENCH_PAYLOAD; i++) {
        switch (bytes[i] & 63) {
        case 0: acc += 0u; break;
        case 1: acc ^= 2481u; break;
        case 2: acc *= 5u; break;
        case 3: acc = (acc << 4) | (acc >> 28); break;
        case 4: acc -= 1732u; break;
        case 5: acc |= 117u; break;
        case 6: acc = acc * 3u + 2598u; break;
        case 7: acc &= ~983u; break;
        case 8: acc += 3464u; break;
        case 9: acc ^= 1849u; break;
        case 10: acc *= 21u; break;
        case 11: acc = (acc << 12) | (acc >> 20); break;
        case 12: acc -= 1100u; break;
        case 13: acc |= 3581u; break;
        case 14: acc = acc * 3u + 1966u; break;
        case 15: acc &= ~351u; break;
        case 16: acc += 2832u; break;
        case 17: acc ^= 1217u; break;
        case 18: acc *= 37u; break;
        case 19: acc = (acc << 20) | (acc >> 12); break;
        case 20: acc -= 468u; break;
        case 21: acc |= 2949u; break;
        case 22: acc = acc * 3u + 1334u; break;
        case 23: acc &= ~3815u; break;
        case 24: acc += 2200u; break;
        case 25: acc ^= 585u; break;
        case 26: acc *= 53u; break;
        case 27: acc = (acc << 28) | (acc >> 4); break;
        case 28: acc -= 3932u; break;
        case 29: acc |= 2317u; break;
        case 30: acc = acc * 3u + 702u; break;
        case 31: acc &= ~3183u; break;
        case 32: acc += 1568u; break;
        case 33: acc ^= 4049u; break;
        case 34: acc *= 69u; break;
        case 35: acc = (acc << 5) | (acc >> 27); break;
        case 36: acc -= 3300u; break;
        case 37: acc |= 1685u; break;
        case 38: acc = acc * 3u + 70u; break;
        case 39: acc &= ~2551u; break;
        case 40: acc += 936u; break;
        case 41: acc ^= 3417u; break;
        case 42: acc *= 85u; break;
        case 43: acc = (acc << 13) | (acc >> 19); break;
        case 44: acc -= 2668u; break;
        case 45: acc |= 1053u; break;
        case 46: acc = acc * 3u + 3534u; break;
        case 47: acc &= ~1919u; break;
        case 48: acc += 304u; break;
        case 49: acc ^= 2785u; break;
        case 50: acc *= 101u; break;
        case 51: acc = (acc << 21) | (acc >> 11); break;
        case 52: acc -= 2036u; break;
        case 53: acc |= 421u; break;
        case 54: acc = acc * 3u + 2902u; break;
        case 55: acc &= ~1287u; break;
        case 56: acc += 3768u; break;
        case 57: acc ^= 2153u; break;
        case 58: acc *= 117u; break;
        case 59: acc = (acc << 29) | (acc >> 3); break;
        case 60: acc -= 1404u; break;
        case 61: acc |= 3885u; break;
        case 62: acc = acc * 3u + 2270u; break;
        case 63: acc &= ~655u; break;
        }
    }
    return (int)(acc & 0x7fffffff);
}

BENCH_LICENSE;
