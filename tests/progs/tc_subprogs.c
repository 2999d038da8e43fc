/* tc classifier built from subprograms: static non-inlined parsers per IP version, a global
 * function scoring the flow (verified on its own by the kernel) and a classifier that writes the
 * skb's mark, priority and tc_classid. No helpers: only bpf-to-bpf calls and context writes. */
#include "progs.h"

struct verdict {
    __u32 mark;
    __u32 priority;
};

static __noinline int parse_v4(struct __sk_buff *skb, struct verdict *v)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    struct iphdr *ip = data + sizeof(struct ethhdr);

    if ((void *)(ip + 1) > data_end)
        return -1;
    v->mark = bpf_ntohl(ip->saddr) & 0xffff;
    v->priority = ip->tos >> 2;
    return ip->protocol;
}

static __noinline int parse_v6(struct __sk_buff *skb, struct verdict *v)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    struct ipv6hdr *ip6 = data + sizeof(struct ethhdr);

    if ((void *)(ip6 + 1) > data_end)
        return -1;
    v->mark = bpf_ntohs(ip6->saddr.in6_u.u6_addr16[7]);
    v->priority = (ip6->priority << 2) | (ip6->flow_lbl[0] >> 6);
    return ip6->nexthdr;
}

__noinline int score(__u32 proto, __u32 len)
{
    __u32 s = len / 64;

    if (proto == IPPROTO_TCP)
        s += 10;
    else if (proto == IPPROTO_UDP)
        s += 20;
    return s > 31 ? 31 : s;
}

static __noinline int classify(struct __sk_buff *skb)
{
    struct verdict v = {};
    int proto;

    if (skb->protocol == bpf_htons(ETH_P_IP))
        proto = parse_v4(skb, &v);
    else if (skb->protocol == bpf_htons(ETH_P_IPV6))
        proto = parse_v6(skb, &v);
    else
        return TC_ACT_UNSPEC;
    if (proto < 0)
        return TC_ACT_SHOT;
    skb->mark = v.mark | (skb->mark & 0xffff0000);
    skb->priority = v.priority;
    skb->tc_classid = (1 << 16) | score(proto, skb->len);
    return TC_ACT_OK;
}

SEC("tc")
int tc_subprogs(struct __sk_buff *skb)
{
    return classify(skb);
}
