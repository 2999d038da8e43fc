/* XDP port forwarding through a device map: the output port comes from the destination MAC's
 * last byte; bpf_redirect_map falls back to XDP_PASS when the port has no device. Per-port
 * counters record the attempts. */
#include "progs.h"

struct {
    __uint(type, BPF_MAP_TYPE_DEVMAP);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u32);
} tx_ports SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} attempts SEC(".maps");

SEC("xdp")
int xdp_redirect_map(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    __u32 port;
    __u64 *n;

    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;
    port = eth->h_dest[5] & 3;
    n = bpf_map_lookup_elem(&attempts, &port);
    if (n)
        __sync_fetch_and_add(n, 1);
    return bpf_redirect_map(&tx_ports, port, XDP_PASS);
}
