/* XDP firewall: drops IPv4 sources and destination ports the control plane listed (hash maps,
 * with a hit count per rule), drops truncated frames, and counts verdicts per CPU. */
#include "progs.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u32); /* IPv4 source, network order */
    __type(value, __u64); /* hits */
} blocked_src SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u16); /* destination port, host order */
    __type(value, __u64);
} blocked_port SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 5);
    __type(key, __u32);
    __type(value, __u64);
} verdicts SEC(".maps");

static __always_inline int verdict(int action)
{
    __u32 key = action;
    __u64 *n = bpf_map_lookup_elem(&verdicts, &key);

    if (n)
        *n += 1;
    return action;
}

SEC("xdp")
int xdp_firewall(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct frame f = {};
    __u64 *hits;

    if (parse_frame(data, data_end, &f) < 0)
        return verdict(XDP_DROP);
    if (f.ip_version == 4) {
        hits = bpf_map_lookup_elem(&blocked_src, &f.saddr);
        if (hits) {
            __sync_fetch_and_add(hits, 1);
            return verdict(XDP_DROP);
        }
    }
    if (f.l4_proto == IPPROTO_TCP || f.l4_proto == IPPROTO_UDP) {
        hits = bpf_map_lookup_elem(&blocked_port, &f.dport);
        if (hits) {
            __sync_fetch_and_add(hits, 1);
            return verdict(XDP_DROP);
        }
    }
    return verdict(XDP_PASS);
}
