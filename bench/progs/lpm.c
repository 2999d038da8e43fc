// Looks the IPv4 destination up in a longest-prefix-match trie of 1,024 routes (prefixes /8 to
// /32); returns the next hop's number, XDP_DROP (1) when no route matches.
#include "bench.h"

struct lpm_key {
    __u32 prefixlen;
    __u32 addr;
};

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 1024);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct lpm_key);
    __type(value, __u32);
} lpm_routes SEC(".maps");

SEC("xdp")
int bench_lpm(struct xdp_md* ctx) {
    __u8* data = (__u8*)(long)ctx->data;
    __u8* end = (__u8*)(long)ctx->data_end;
    struct ethhdr* eth = (struct ethhdr*)data;
    struct iphdr* ip = (struct iphdr*)(eth + 1);
    if ((__u8*)(ip + 1) > end) return XDP_DROP;
    if (eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;
    struct lpm_key key = {32, ip->daddr};
    const __u32* next_hop = bpf_map_lookup_elem(&lpm_routes, &key);
    return next_hop ? (int)*next_hop : XDP_DROP;
}

BENCH_LICENSE;
