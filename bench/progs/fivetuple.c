// Parses Ethernet, IPv4 (any header length) and the TCP or UDP ports into a 5-tuple, looks the
// flow up in a hash map of 1,024 flows and counts the packet in it: XDP_DROP for unknown flows.
#include "bench.h"

struct flow_key {
    __u32 saddr;
    __u32 daddr;
    __u16 sport;
    __u16 dport;
    __u8 proto;
    __u8 pad[3];
};

struct flow_stats {
    __u64 packets;
    __u64 bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, struct flow_key);
    __type(value, struct flow_stats);
} fivetuple_flows SEC(".maps");

SEC("xdp")
int bench_fivetuple(struct xdp_md* ctx) {
    __u8* data = (__u8*)(long)ctx->data;
    __u8* end = (__u8*)(long)ctx->data_end;
    struct ethhdr* eth = (struct ethhdr*)data;
    if ((__u8*)(eth + 1) > end) return XDP_DROP;
    if (eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;
    struct iphdr* ip = (struct iphdr*)(eth + 1);
    if ((__u8*)(ip + 1) > end) return XDP_DROP;
    const __u32 ihl = ip->ihl * 4u;
    if (ihl < sizeof(*ip)) return XDP_DROP;
    if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP) return XDP_PASS;
    const __u16* ports = (const __u16*)((__u8*)ip + ihl);
    if ((const __u8*)(ports + 2) > end) return XDP_DROP;

    struct flow_key key = {};
    key.saddr = ip->saddr;
    key.daddr = ip->daddr;
    key.sport = ports[0];
    key.dport = ports[1];
    key.proto = ip->protocol;
    struct flow_stats* stats = bpf_map_lookup_elem(&fivetuple_flows, &key);
    if (!stats) return XDP_DROP;
    stats->packets += 1;
    stats->bytes += (__u64)(end - data);
    return XDP_PASS;
}

BENCH_LICENSE;
