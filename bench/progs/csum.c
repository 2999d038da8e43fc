// Checks the IPv4 header checksum and the UDP checksum over the whole datagram (pseudo-header,
// header, 1,024 bytes of payload) as a receiver would: XDP_PASS when both add up.
#include "bench.h"

static __always_inline __u16 fold(__u64 sum) {
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (__u16)~sum;
}

SEC("xdp")
int bench_csum(struct xdp_md* ctx) {
    __u8* data = (__u8*)(long)ctx->data;
    __u8* end = (__u8*)(long)ctx->data_end;
    struct iphdr* ip = (struct iphdr*)(data + sizeof(struct ethhdr));
    struct udphdr* udp = (struct udphdr*)(ip + 1);
    if ((__u8*)(udp + 1) + BENCH_PAYLOAD > end) return XDP_ABORTED;
    if (ip->ihl != 5 || ip->protocol != IPPROTO_UDP) return XDP_DROP;
    if (bpf_ntohs(udp->len) != sizeof(*udp) + BENCH_PAYLOAD) return XDP_DROP;

    const __u16* words = (const __u16*)ip;
    __u64 sum = 0;
    for (__u32 i = 0; i < sizeof(*ip) / 2; i++)
        sum += words[i];
    if (fold(sum) != 0) return XDP_DROP;

    sum = (ip->saddr & 0xffff) + (ip->saddr >> 16) + (ip->daddr & 0xffff) + (ip->daddr >> 16) +
          bpf_htons(IPPROTO_UDP) + udp->len;
    words = (const __u16*)udp;
    for (__u32 i = 0; i < (sizeof(*udp) + BENCH_PAYLOAD) / 2; i++)
        sum += words[i];
    return fold(sum) == 0 ? XDP_PASS : XDP_DROP;
}

BENCH_LICENSE;
