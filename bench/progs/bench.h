// What a benchmark program needs of BPF, for both of its builds: clang -O2 -target bpf (libbpf's
// headers) and the host compiler at -O2 (this shim). Natively, struct xdp_md holds real pointers,
// SEC() places nothing, and a map is a struct whose first field the harness sets to the VM's Map
// that bpf_map_lookup_elem() then searches through bench_map_lookup().
#pragma once

#ifdef __bpf__

// linux/bpf.h first: the libbpf headers use its types.
#include <linux/bpf.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define BENCH_LICENSE char LICENSE[] SEC("license") = "GPL"

#else

#include <linux/types.h>
#include <stdint.h>

struct xdp_md {
    uintptr_t data;
    uintptr_t data_end;
    uintptr_t data_meta;
    __u32 ingress_ifindex;
    __u32 rx_queue_index;
    __u32 egress_ifindex;
};

enum xdp_action { XDP_ABORTED = 0, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT };
enum { BPF_MAP_TYPE_HASH = 1, BPF_MAP_TYPE_LPM_TRIE = 11 };
enum { BPF_F_NO_PREALLOC = 1 };

#define SEC(name)
#define BENCH_LICENSE typedef int bench_license // one program among many in the binary
#ifndef __always_inline // glibc has one
#define __always_inline inline __attribute__((always_inline))
#endif
#define __uint(name, val) void* name
#define __type(name, val) val* name

#define bpf_htons(x) __builtin_bswap16(x)
#define bpf_ntohs(x) __builtin_bswap16(x)
#define bpf_htonl(x) __builtin_bswap32(x)
#define bpf_ntohl(x) __builtin_bswap32(x)

void* bench_map_lookup(void* map, const void* key);
static inline void* bpf_map_lookup_elem(void* map, const void* key) {
    return bench_map_lookup(*(void**)map, key);
}

#endif

#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>

// The packet every benchmark gets (bench_progs.cpp builds it): Ethernet, IPv4 and UDP headers
// with correct checksums, then BENCH_PAYLOAD bytes.
#define BENCH_HEADERS (sizeof(struct ethhdr) + sizeof(struct iphdr) + sizeof(struct udphdr))
#define BENCH_PAYLOAD 1024
