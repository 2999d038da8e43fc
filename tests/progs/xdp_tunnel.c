/* XDP IP-in-IP tunnel endpoint: IPv4 packets to the tunnel's remote network are encapsulated
 * (bpf_xdp_adjust_head grows the headroom by an outer IPv4 header), IP-in-IP packets addressed
 * to this endpoint are decapsulated (the outer header removed by shrinking the head). The outer
 * header's checksum is computed in a loop. */
#include "progs.h"

const volatile __u32 local_addr = 0x010010ac;   /* 172.16.0.1 */
const volatile __u32 remote_addr = 0x020010ac;  /* 172.16.0.2 */
const volatile __u32 remote_net = 0x0000a8c0;   /* 192.168.0.0/16 */
const volatile __u32 remote_mask = 0x0000ffff;

__u64 encapsulated, decapsulated;

static __always_inline __u16 ip_checksum(struct iphdr *ip)
{
    __u16 *words = (__u16 *)ip;
    __u32 sum = 0;

    for (int i = 0; i < sizeof(*ip) / 2; i++)
        sum += words[i];
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return ~sum;
}

static __always_inline int encap(struct xdp_md *ctx)
{
    void *data, *data_end;
    struct ethhdr *eth, *old_eth;
    struct iphdr *outer, *inner;

    if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct iphdr)))
        return XDP_ABORTED;
    data = (void *)(long)ctx->data;
    data_end = (void *)(long)ctx->data_end;
    eth = data;
    old_eth = data + sizeof(struct iphdr);
    outer = (void *)(eth + 1);
    inner = (void *)(old_eth + 1);
    if ((void *)(inner + 1) > data_end)
        return XDP_ABORTED;
    __builtin_memmove(eth, old_eth, sizeof(*eth));
    outer->version = 4;
    outer->ihl = 5;
    outer->tos = inner->tos;
    outer->tot_len = bpf_htons(bpf_ntohs(inner->tot_len) + sizeof(*outer));
    outer->id = 0;
    outer->frag_off = bpf_htons(0x4000); /* DF */
    outer->ttl = 64;
    outer->protocol = IPPROTO_IPIP;
    outer->check = 0;
    outer->saddr = local_addr;
    outer->daddr = remote_addr;
    outer->check = ip_checksum(outer);
    encapsulated++;
    return XDP_TX;
}

static __always_inline int decap(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr eth;

    if (data + sizeof(eth) > data_end)
        return XDP_DROP;
    __builtin_memcpy(&eth, data, sizeof(eth));
    if (bpf_xdp_adjust_head(ctx, sizeof(struct iphdr)))
        return XDP_DROP;
    data = (void *)(long)ctx->data;
    data_end = (void *)(long)ctx->data_end;
    if (data + sizeof(eth) > data_end)
        return XDP_DROP;
    __builtin_memcpy(data, &eth, sizeof(eth));
    decapsulated++;
    return XDP_PASS;
}

SEC("xdp")
int xdp_tunnel(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip = (void *)(eth + 1);

    if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    if (ip->protocol == IPPROTO_IPIP && ip->daddr == local_addr && ip->ihl == 5) {
        struct iphdr *inner = ip + 1;

        if ((void *)(inner + 1) > data_end)
            return XDP_DROP;
        return decap(ctx);
    }
    if ((ip->daddr & remote_mask) == remote_net)
        return encap(ctx);
    return XDP_PASS;
}
