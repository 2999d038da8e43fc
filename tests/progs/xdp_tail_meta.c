/* XDP frame normaliser: frames longer than the snap length are cut with bpf_xdp_adjust_tail,
 * runt frames padded to the Ethernet minimum (60 bytes; the helper zeroes the new bytes), and
 * every frame gets 8 bytes of metadata in front of it (bpf_xdp_adjust_meta) holding its original
 * length and a classification that a later stage would read. */
#include "progs.h"

#define SNAP_LEN 96
#define MIN_LEN 60

struct meta {
    __u32 orig_len;
    __u16 eth_proto;
    __u16 action; /* 0 kept, 1 cut, 2 padded */
};

SEC("xdp")
int xdp_tail_meta(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    __u32 len = data_end - data;
    struct ethhdr *eth = data;
    struct meta *m;
    __u16 proto, action = 0;

    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;
    proto = bpf_ntohs(eth->h_proto);
    if (len > SNAP_LEN) {
        if (bpf_xdp_adjust_tail(ctx, SNAP_LEN - (int)len))
            return XDP_ABORTED;
        action = 1;
    } else if (len < MIN_LEN) {
        if (bpf_xdp_adjust_tail(ctx, MIN_LEN - (int)len))
            return XDP_ABORTED;
        action = 2;
    }
    if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*m)))
        return XDP_ABORTED;
    data = (void *)(long)ctx->data;
    m = (void *)(long)ctx->data_meta;
    if ((void *)(m + 1) > data)
        return XDP_ABORTED;
    m->orig_len = len;
    m->eth_proto = proto;
    m->action = action;
    return XDP_PASS;
}
