/* XDP with bounded loops the verifier must walk (not unrolled): skipping up to 6 IPv6 extension
 * headers to find the transport protocol, then a 16-bit one's complement sum over up to 64 UDP
 * payload bytes, written into the first two payload bytes. The verdict tells how far it got:
 * XDP_DROP for a malformed header chain, XDP_TX when the payload was summed, XDP_PASS
 * otherwise. */
#include "progs.h"

#define MAX_EXT_HDRS 6
#define MAX_SUM_BYTES 64

struct ext_hdr {
    __u8 nexthdr;
    __u8 len; /* in 8-byte units, not counting the first 8 */
};

static __always_inline int is_ext_hdr(__u8 proto)
{
    return proto == IPPROTO_HOPOPTS || proto == IPPROTO_ROUTING || proto == IPPROTO_FRAGMENT ||
           proto == IPPROTO_DSTOPTS;
}

SEC("xdp")
int xdp_bounded_loops(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct ipv6hdr *ip6 = (void *)(eth + 1);
    struct udphdr *udp;
    __u8 *cursor, proto;
    __u32 sum = 0;
    int i;

    if ((void *)(ip6 + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IPV6))
        return XDP_PASS;
    proto = ip6->nexthdr;
    cursor = (void *)(ip6 + 1);
#pragma clang loop unroll(disable)
    for (i = 0; i < MAX_EXT_HDRS; i++) {
        struct ext_hdr *h = (void *)cursor;
        __u8 this = proto;

        if (!is_ext_hdr(this))
            break;
        if ((void *)(h + 1) > data_end)
            return XDP_DROP;
        proto = h->nexthdr;
        /* The fragment header's second byte is reserved: it is always 8 bytes long. */
        cursor += this == IPPROTO_FRAGMENT ? 8 : (h->len + 1) * 8;
    }
    if (is_ext_hdr(proto) || proto != IPPROTO_UDP)
        return XDP_PASS;
    udp = (void *)cursor;
    if ((void *)(udp + 1) > data_end)
        return XDP_DROP;
    cursor = (void *)(udp + 1);
#pragma clang loop unroll(disable)
    for (i = 0; i < MAX_SUM_BYTES; i += 2) {
        __u8 *p = cursor + i;

        if ((void *)(p + 2) > data_end)
            break;
        sum += (p[0] << 8) | p[1];
    }
    if ((void *)(cursor + 2) > data_end)
        return XDP_PASS;
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    cursor[0] = sum >> 8;
    cursor[1] = sum;
    return XDP_TX;
}
