/* XDP: counts packets and bytes per L4 protocol (index 0: not IP) in an array, drops truncated
 * frames and passes everything else. */
#include "progs.h"

struct counter {
    __u64 packets;
    __u64 bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 256);
    __type(key, __u32);
    __type(value, struct counter);
} proto_count SEC(".maps");

SEC("xdp")
int xdp_proto_count(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct frame f = {};
    struct counter *c;
    __u32 key;

    if (parse_frame(data, data_end, &f) < 0)
        return XDP_DROP;
    key = f.l4_proto;
    c = bpf_map_lookup_elem(&proto_count, &key);
    if (!c)
        return XDP_ABORTED;
    __sync_fetch_and_add(&c->packets, 1);
    __sync_fetch_and_add(&c->bytes, data_end - data);
    return XDP_PASS;
}
