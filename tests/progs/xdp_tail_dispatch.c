/* XDP dispatcher: the entry program tail-calls a handler per network protocol through a
 * statically initialised prog array; the IPv4 handler tail-calls again per L4 protocol, and the
 * IPv6 handler does it from a subprogram (bpf-to-bpf call mixed with a tail call). Missing slots
 * fall through to a default verdict. Each stage counts itself in .bss. */
#include "progs.h"

enum { SLOT_IPV4, SLOT_IPV6, SLOT_ARP, SLOT_TCP, SLOT_UDP, SLOT_ICMP, NSLOTS };

__u64 stage_hits[8];

static __always_inline void hit(int stage)
{
    __sync_fetch_and_add(&stage_hits[stage], 1);
}

int handle_ipv4(struct xdp_md *ctx);
int handle_ipv6(struct xdp_md *ctx);
int handle_tcp(struct xdp_md *ctx);
int handle_udp(struct xdp_md *ctx);

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, NSLOTS);
    __type(key, __u32);
    __array(values, int(struct xdp_md *));
} jump_table SEC(".maps") = {
    .values = {
        [SLOT_IPV4] = (void *)&handle_ipv4,
        [SLOT_IPV6] = (void *)&handle_ipv6,
        [SLOT_TCP] = (void *)&handle_tcp,
        [SLOT_UDP] = (void *)&handle_udp,
    },
};

SEC("xdp")
int handle_tcp(struct xdp_md *ctx)
{
    hit(3);
    return XDP_TX;
}

SEC("xdp")
int handle_udp(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct frame f = {};

    hit(4);
    if (parse_frame(data, data_end, &f) < 0)
        return XDP_ABORTED;
    return f.dport == 53 ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int handle_ipv4(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct frame f = {};

    hit(1);
    if (parse_frame(data, data_end, &f) < 0)
        return XDP_DROP;
    if (f.l4_proto == IPPROTO_TCP)
        bpf_tail_call(ctx, &jump_table, SLOT_TCP);
    else if (f.l4_proto == IPPROTO_UDP)
        bpf_tail_call(ctx, &jump_table, SLOT_UDP);
    else if (f.l4_proto == IPPROTO_ICMP)
        bpf_tail_call(ctx, &jump_table, SLOT_ICMP); /* empty slot: falls through */
    hit(5);
    return XDP_PASS;
}

static __noinline int ipv6_next(struct xdp_md *ctx, __u32 slot)
{
    bpf_tail_call(ctx, &jump_table, slot);
    return XDP_PASS;
}

SEC("xdp")
int handle_ipv6(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct frame f = {};

    hit(2);
    if (parse_frame(data, data_end, &f) < 0)
        return XDP_DROP;
    return ipv6_next(ctx, f.l4_proto == IPPROTO_TCP ? SLOT_TCP : SLOT_UDP);
}

SEC("xdp")
int xdp_tail_dispatch(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;

    hit(0);
    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;
    if (eth->h_proto == bpf_htons(ETH_P_IP))
        bpf_tail_call(ctx, &jump_table, SLOT_IPV4);
    else if (eth->h_proto == bpf_htons(ETH_P_IPV6))
        bpf_tail_call(ctx, &jump_table, SLOT_IPV6);
    else if (eth->h_proto == bpf_htons(ETH_P_ARP))
        bpf_tail_call(ctx, &jump_table, SLOT_ARP);
    hit(6);
    return XDP_PASS;
}
