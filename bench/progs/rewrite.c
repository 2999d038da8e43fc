// Destination NAT and bounce: swaps the MAC addresses, decrements the TTL, moves the destination
// between two addresses and sets the UDP port, updating the IPv4 and UDP checksums incrementally
// (RFC 1624); XDP_TX.
#include "bench.h"

#define ADDR_A 0x0a000002u // 10.0.0.2
#define ADDR_B 0xc0a80107u // 192.168.1.7

static __always_inline __u16 fold32(__u32 sum) {
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (__u16)sum;
}

// HC' = ~(~HC + ~m + m'), for a 16-bit field and for a 32-bit one.
static __always_inline __u16 csum_replace2(__u16 check, __u16 old, __u16 new_value) {
    return (__u16)~fold32((__u16)~check + (__u16)~old + new_value);
}
static __always_inline __u16 csum_replace4(__u16 check, __u32 old, __u32 new_value) {
    const __u32 sum = (__u16)~check + (__u16)~(old & 0xffff) + (__u16)~(old >> 16) +
                      (new_value & 0xffff) + (new_value >> 16);
    return (__u16)~fold32(sum);
}

SEC("xdp")
int bench_rewrite(struct xdp_md* ctx) {
    __u8* data = (__u8*)(long)ctx->data;
    __u8* end = (__u8*)(long)ctx->data_end;
    struct ethhdr* eth = (struct ethhdr*)data;
    struct iphdr* ip = (struct iphdr*)(eth + 1);
    struct udphdr* udp = (struct udphdr*)(ip + 1);
    if ((__u8*)(udp + 1) > end) return XDP_DROP;
    if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
        return XDP_PASS;
    if (ip->ttl <= 1) return XDP_DROP;

    __u8 mac[ETH_ALEN];
    __builtin_memcpy(mac, eth->h_source, ETH_ALEN);
    __builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
    __builtin_memcpy(eth->h_dest, mac, ETH_ALEN);

    // The TTL shares a 16-bit word with the protocol.
    const __u16 old_ttl = *(__u16*)&ip->ttl;
    ip->ttl = ip->ttl == 2 ? 64 : ip->ttl - 1; // stays above 1 however often it runs
    ip->check = csum_replace2(ip->check, old_ttl, *(__u16*)&ip->ttl);

    const __u32 old_addr = ip->daddr;
    const __u32 new_addr = old_addr == bpf_htonl(ADDR_A) ? bpf_htonl(ADDR_B) : bpf_htonl(ADDR_A);
    ip->daddr = new_addr;
    ip->check = csum_replace4(ip->check, old_addr, new_addr);

    const __u16 old_port = udp->dest, new_port = bpf_htons(8080);
    udp->dest = new_port;
    if (udp->check) {
        __u16 check = csum_replace4(udp->check, old_addr, new_addr);
        check = csum_replace2(check, old_port, new_port);
        udp->check = check ? check : 0xffff;
    }
    return XDP_TX;
}

BENCH_LICENSE;
