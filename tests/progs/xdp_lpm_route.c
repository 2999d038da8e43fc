/* XDP router: longest-prefix match of the destination (IPv4 and IPv6 tries the control plane
 * fills), then rewrites the destination MAC to the next hop's, decrements the TTL / hop limit
 * (updating the IPv4 checksum incrementally) and transmits; no route or TTL expiry drops. A
 * per-next-hop array counts forwarded packets. */
#include "progs.h"

struct lpm_v4 {
    __u32 prefixlen;
    __u8 addr[4];
};

struct lpm_v6 {
    __u32 prefixlen;
    __u8 addr[16];
};

struct next_hop {
    __u8 mac[6];
    __u16 id;
};

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 16);
    __type(key, struct lpm_v4);
    __type(value, struct next_hop);
    __uint(map_flags, BPF_F_NO_PREALLOC);
} routes_v4 SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 16);
    __type(key, struct lpm_v6);
    __type(value, struct next_hop);
    __uint(map_flags, BPF_F_NO_PREALLOC);
} routes_v6 SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u64);
} forwarded SEC(".maps");

static __always_inline int forward(struct ethhdr *eth, const struct next_hop *nh)
{
    __u32 id = nh->id;
    __u64 *count;

    __builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
    __builtin_memcpy(eth->h_dest, nh->mac, ETH_ALEN);
    count = bpf_map_lookup_elem(&forwarded, &id);
    if (count)
        __sync_fetch_and_add(count, 1);
    return XDP_TX;
}

SEC("xdp")
int xdp_lpm_route(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct next_hop *nh;

    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;
    if (eth->h_proto == bpf_htons(ETH_P_IP)) {
        struct iphdr *ip = (void *)(eth + 1);
        struct lpm_v4 key = {.prefixlen = 32};
        __u32 sum;

        if ((void *)(ip + 1) > data_end)
            return XDP_DROP;
        if (ip->ttl <= 1)
            return XDP_DROP;
        __builtin_memcpy(key.addr, &ip->daddr, 4);
        nh = bpf_map_lookup_elem(&routes_v4, &key);
        if (!nh)
            return XDP_DROP;
        /* RFC 1624: the TTL is the high byte of its 16-bit word. */
        sum = (__u32)ip->check + bpf_htons(0x0100);
        ip->check = (__u16)(sum + (sum >> 16));
        ip->ttl--;
        return forward(eth, nh);
    }
    if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr *ip6 = (void *)(eth + 1);
        struct lpm_v6 key = {.prefixlen = 128};

        if ((void *)(ip6 + 1) > data_end)
            return XDP_DROP;
        if (ip6->hop_limit <= 1)
            return XDP_DROP;
        __builtin_memcpy(key.addr, &ip6->daddr, 16);
        nh = bpf_map_lookup_elem(&routes_v6, &key);
        if (!nh)
            return XDP_DROP;
        ip6->hop_limit--;
        return forward(eth, nh);
    }
    return XDP_PASS;
}
