/* Socket filter for DNS queries: keeps UDP packets to port 53 whose question name is well formed
 * (labels walked in a bounded loop, read with bpf_skb_load_bytes) and counts queries per query
 * type. The packet starts at the IP header, as on a socket. */
#include "progs.h"

#define MAX_LABELS 8

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 64);
    __type(key, __u32);
    __type(value, __u64);
} qtypes SEC(".maps"); /* by query type; 0: malformed */

static __always_inline int count(__u32 qtype, int verdict)
{
    __u64 *n;

    if (qtype >= 64)
        qtype = 63;
    n = bpf_map_lookup_elem(&qtypes, &qtype);
    if (n)
        __sync_fetch_and_add(n, 1);
    return verdict;
}

SEC("socket")
int socket_dns(struct __sk_buff *skb)
{
    struct iphdr ip;
    struct udphdr udp;
    __u32 off;
    __u16 qtype;
    __u8 len;
    int i;

    if (skb->protocol != bpf_htons(ETH_P_IP))
        return 0;
    if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) || ip.protocol != IPPROTO_UDP)
        return 0;
    off = ip.ihl * 4;
    if (bpf_skb_load_bytes(skb, off, &udp, sizeof(udp)) || udp.dest != bpf_htons(53))
        return 0;
    off += sizeof(udp) + 12; /* the DNS header */
    for (i = 0; i < MAX_LABELS; i++) {
        if (bpf_skb_load_bytes(skb, off, &len, 1))
            return count(0, 0);
        off += 1;
        if (len == 0)
            break;
        if (len > 63)
            return count(0, 0);
        off += len;
    }
    if (i == MAX_LABELS)
        return count(0, 0);
    if (bpf_skb_load_bytes(skb, off, &qtype, sizeof(qtype)))
        return count(0, 0);
    return count(bpf_ntohs(qtype), skb->len);
}
