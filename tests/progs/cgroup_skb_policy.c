/* cgroup egress policy: TCP and UDP to destination ports on the allow list pass, the rest is
 * refused; packets marked 0xdead by an earlier stage always pass. Per-CPU counters of allowed and
 * refused bytes, and the last refused port in .bss. cgroup_skb sees packets from the IP header. */
#include "progs.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u16);
    __type(value, __u8);
} allowed_ports SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u64);
} bytes SEC(".maps"); /* [0]: refused, [1]: allowed */

__u32 last_refused_port;

static __always_inline int decide(struct __sk_buff *skb, int allow)
{
    __u32 key = allow;
    __u64 *b = bpf_map_lookup_elem(&bytes, &key);

    if (b)
        *b += skb->len;
    return allow;
}

SEC("cgroup_skb/egress")
int cgroup_skb_policy(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    __u16 port;
    __u8 proto;
    __u32 l4;

    if (skb->mark == 0xdead)
        return decide(skb, 1);
    if (skb->protocol == bpf_htons(ETH_P_IP)) {
        struct iphdr *ip = data;

        if ((void *)(ip + 1) > data_end)
            return decide(skb, 0);
        proto = ip->protocol;
        l4 = ip->ihl * 4;
    } else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr *ip6 = data;

        if ((void *)(ip6 + 1) > data_end)
            return decide(skb, 0);
        proto = ip6->nexthdr;
        l4 = sizeof(*ip6);
    } else {
        return decide(skb, 1);
    }
    if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
        return decide(skb, 1);
    if (l4 > 60)
        return decide(skb, 0);
    /* The destination port is at offset 2 in both TCP and UDP headers. */
    __be16 *dport = data + l4 + 2;

    if ((void *)(dport + 1) > data_end)
        return decide(skb, 0);
    port = bpf_ntohs(*dport);
    if (bpf_map_lookup_elem(&allowed_ports, &port))
        return decide(skb, 1);
    last_refused_port = port;
    return decide(skb, 0);
}
