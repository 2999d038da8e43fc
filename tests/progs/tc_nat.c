/* tc destination NAT for a virtual IP: TCP/UDP packets to a (VIP, port) the control plane
 * listed are rewritten to the backend's address and port with bpf_skb_store_bytes, and the IPv4
 * and L4 checksums fixed with bpf_l3_csum_replace / bpf_l4_csum_replace (the address is part of
 * the L4 pseudo-header; a UDP checksum of zero stays zero). Packets from a backend get the
 * reverse rewrite of their source. */
#include "progs.h"

struct service {
    __u32 addr; /* network order */
    __u16 port; /* network order */
    __u16 pad;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 8);
    __type(key, struct service);   /* the VIP */
    __type(value, struct service); /* its backend */
} backends SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 8);
    __type(key, struct service);   /* a backend */
    __type(value, struct service); /* its VIP */
} vips SEC(".maps");

#define IP_OFF sizeof(struct ethhdr)
#define SADDR_OFF (IP_OFF + offsetof(struct iphdr, saddr))
#define DADDR_OFF (IP_OFF + offsetof(struct iphdr, daddr))
#define IP_CSUM_OFF (IP_OFF + offsetof(struct iphdr, check))

static __always_inline int rewrite(struct __sk_buff *skb, __u32 l4_off, __u8 proto, int addr_off,
                                   int port_off, __u32 old_addr, __u16 old_port,
                                   const struct service *to)
{
    __u32 csum_off = l4_off + (proto == IPPROTO_TCP ? offsetof(struct tcphdr, check)
                                                    : offsetof(struct udphdr, check));
    __u64 l4_flags = proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;

    if (bpf_l4_csum_replace(skb, csum_off, old_addr, to->addr, l4_flags | BPF_F_PSEUDO_HDR | 4))
        return TC_ACT_SHOT;
    if (bpf_l4_csum_replace(skb, csum_off, old_port, to->port, l4_flags | 2))
        return TC_ACT_SHOT;
    if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, old_addr, to->addr, 4))
        return TC_ACT_SHOT;
    if (bpf_skb_store_bytes(skb, addr_off, &to->addr, 4, 0))
        return TC_ACT_SHOT;
    if (bpf_skb_store_bytes(skb, l4_off + port_off, &to->port, 2, 0))
        return TC_ACT_SHOT;
    return TC_ACT_OK;
}

SEC("tc")
int tc_nat(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    struct frame f = {};
    struct service key = {}, *to;

    if (parse_frame(data, data_end, &f) < 0 || f.ip_version != 4 || f.l3_off != IP_OFF)
        return TC_ACT_OK;
    if (f.l4_proto != IPPROTO_TCP && f.l4_proto != IPPROTO_UDP)
        return TC_ACT_OK;
    key.addr = f.daddr;
    key.port = bpf_htons(f.dport);
    to = bpf_map_lookup_elem(&backends, &key);
    if (to)
        return rewrite(skb, f.l4_off, f.l4_proto, DADDR_OFF, 2, key.addr, key.port, to);
    key.addr = f.saddr;
    key.port = bpf_htons(f.sport);
    to = bpf_map_lookup_elem(&vips, &key);
    if (to)
        return rewrite(skb, f.l4_off, f.l4_proto, SADDR_OFF, 0, key.addr, key.port, to);
    return TC_ACT_UNSPEC;
}
