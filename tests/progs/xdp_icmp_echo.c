/* XDP ICMP echo responder: answers echo requests to its own IPv4 and IPv6 addresses in place
 * (MACs and addresses swapped, type changed, TTL reset) and transmits them back. Checksums are
 * updated with bpf_csum_diff over the words that changed; other packets pass. */
#include "progs.h"

const volatile __u32 my_ipv4 = 0x0200000a;     /* 10.0.0.2, network order */
const volatile __u32 my_ipv6_tail = 0x02000000; /* the last 32 bits of 2001:db8::2 */

static __always_inline __u16 fold(__s64 sum)
{
    __u64 s = (__u64)sum;

    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return s;
}

static __always_inline void swap_mac(struct ethhdr *eth)
{
    __u8 tmp[ETH_ALEN];

    __builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
    __builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
    __builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
}

static __always_inline int reply_v4(struct ethhdr *eth, struct iphdr *ip, struct icmp_hdr *icmp)
{
    __u32 old_word, new_word, old_ttl, new_ttl;
    __u32 addr;

    if (ip->daddr != my_ipv4 || icmp->type != ICMP_ECHO)
        return XDP_PASS;
    /* ICMP checksum: the type byte is the high byte of the first word. */
    old_word = *(__u32 *)icmp & 0xffff;
    icmp->type = ICMP_ECHOREPLY;
    new_word = *(__u32 *)icmp & 0xffff;
    icmp->checksum = ~fold(bpf_csum_diff(&old_word, 4, &new_word, 4, ~icmp->checksum & 0xffff));
    /* IP checksum: the TTL changes; the swapped addresses sum the same. */
    old_ttl = *(__u16 *)&ip->ttl;
    ip->ttl = 64;
    new_ttl = *(__u16 *)&ip->ttl;
    ip->check = ~fold(bpf_csum_diff(&old_ttl, 4, &new_ttl, 4, ~ip->check & 0xffff));
    addr = ip->saddr;
    ip->saddr = ip->daddr;
    ip->daddr = addr;
    swap_mac(eth);
    return XDP_TX;
}

static __always_inline int reply_v6(struct ethhdr *eth, struct ipv6hdr *ip6, struct icmp_hdr *icmp)
{
    struct in6_addr addr;
    __u32 old_word, new_word;

    if (ip6->daddr.in6_u.u6_addr32[3] != my_ipv6_tail || icmp->type != ICMPV6_ECHO_REQUEST)
        return XDP_PASS;
    old_word = *(__u32 *)icmp & 0xffff;
    icmp->type = ICMPV6_ECHO_REPLY;
    new_word = *(__u32 *)icmp & 0xffff;
    icmp->checksum = ~fold(bpf_csum_diff(&old_word, 4, &new_word, 4, ~icmp->checksum & 0xffff));
    ip6->hop_limit = 64;
    addr = ip6->saddr;
    ip6->saddr = ip6->daddr;
    ip6->daddr = addr;
    swap_mac(eth);
    return XDP_TX;
}

SEC("xdp")
int xdp_icmp_echo(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;

    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;
    if (eth->h_proto == bpf_htons(ETH_P_IP)) {
        struct iphdr *ip = (void *)(eth + 1);
        struct icmp_hdr *icmp = (void *)(ip + 1);

        if ((void *)(icmp + 1) > data_end || ip->ihl != 5 || ip->protocol != IPPROTO_ICMP)
            return XDP_PASS;
        return reply_v4(eth, ip, icmp);
    }
    if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr *ip6 = (void *)(eth + 1);
        struct icmp_hdr *icmp = (void *)(ip6 + 1);

        if ((void *)(icmp + 1) > data_end || ip6->nexthdr != IPPROTO_ICMPV6)
            return XDP_PASS;
        return reply_v6(eth, ip6, icmp);
    }
    return XDP_PASS;
}
