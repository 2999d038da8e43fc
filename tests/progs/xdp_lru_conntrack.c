/* XDP connection tracker in an LRU hash small enough that the inputs overflow it: every TCP/UDP
 * flow is touched on each packet (a lookup marks it used), new ones are inserted and the map
 * evicts the least recently used. The return value says whether the flow was known. */
#include "progs.h"

struct conn_key {
    __u32 saddr, daddr;
    __u16 sport, dport;
    __u32 proto;
};

struct conn {
    __u64 packets;
    __u32 last_len;
    __u32 state; /* TCP flags seen, OR-ed */
};

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 8);
    __type(key, struct conn_key);
    __type(value, struct conn);
} conntrack SEC(".maps");

SEC("xdp")
int xdp_lru_conntrack(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct frame f = {};
    struct conn_key key = {};
    struct conn *c;

    if (parse_frame(data, data_end, &f) < 0)
        return XDP_DROP;
    if (f.l4_proto != IPPROTO_TCP && f.l4_proto != IPPROTO_UDP)
        return XDP_PASS;
    key.saddr = f.saddr;
    key.daddr = f.daddr;
    key.sport = f.sport;
    key.dport = f.dport;
    key.proto = f.l4_proto;
    c = bpf_map_lookup_elem(&conntrack, &key);
    if (c) {
        c->packets++;
        c->last_len = data_end - data;
        c->state |= f.tcp_flags;
        return XDP_TX; /* known flow */
    }
    struct conn nc = {.packets = 1, .last_len = data_end - data, .state = f.tcp_flags};

    if (bpf_map_update_elem(&conntrack, &key, &nc, BPF_NOEXIST))
        return XDP_ABORTED;
    return XDP_PASS; /* new flow */
}
