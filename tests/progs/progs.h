/* Shared by the kernel-oracle programs: the UAPI headers, libbpf's helpers and a header parser
 * for Ethernet / VLAN / IPv4 / IPv6 / TCP / UDP / ICMP frames that XDP and tc programs both use. */
#ifndef PROGS_H
#define PROGS_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* <linux/icmp.h> pulls in the C library's socket headers; ICMP and ICMPv6 share this layout. */
struct icmp_hdr {
    __u8 type;
    __u8 code;
    __sum16 checksum;
    __be16 id;
    __be16 sequence;
};

#define ICMP_ECHOREPLY 0
#define ICMP_ECHO 8
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

/* What parse_frame found; fields of layers it did not reach stay zero. */
struct frame {
    __u16 eth_proto;   /* host order, after any VLAN tags */
    __u8 ip_version;   /* 4, 6 or 0 */
    __u8 l4_proto;     /* IPPROTO_* or 0 */
    __u32 l3_off;      /* offset of the IP header */
    __u32 l4_off;      /* offset of the TCP/UDP/ICMP header */
    __u32 saddr, daddr; /* IPv4 addresses (network order); IPv6: the last 32 bits */
    __u16 sport, dport; /* host order; ICMP: type and code */
    __u8 tcp_flags;
    __u8 ttl;
    __u16 ip_len; /* IPv4 total length / IPv6 payload length, host order */
};

/* Parses the headers between data and data_end. Returns 0 when the frame is complete up to its
 * L4 header (or is not IP at all: eth_proto says what it is), -1 when it is truncated. */
static __always_inline int parse_frame(void *data, void *data_end, struct frame *f)
{
    struct ethhdr *eth = data;
    __u32 off = sizeof(*eth);

    if ((void *)(eth + 1) > data_end)
        return -1;
    f->eth_proto = bpf_ntohs(eth->h_proto);
    if (f->eth_proto == ETH_P_8021Q || f->eth_proto == ETH_P_8021AD) {
        __be16 *inner = data + off + 2;

        if ((void *)(inner + 1) > data_end)
            return -1;
        f->eth_proto = bpf_ntohs(*inner);
        off += 4;
    }
    f->l3_off = off;
    if (f->eth_proto == ETH_P_IP) {
        struct iphdr *ip = data + off;

        if ((void *)(ip + 1) > data_end)
            return -1;
        if (ip->ihl < 5)
            return -1;
        f->ip_version = 4;
        f->l4_proto = ip->protocol;
        f->saddr = ip->saddr;
        f->daddr = ip->daddr;
        f->ttl = ip->ttl;
        f->ip_len = bpf_ntohs(ip->tot_len);
        off += ip->ihl * 4;
    } else if (f->eth_proto == ETH_P_IPV6) {
        struct ipv6hdr *ip6 = data + off;

        if ((void *)(ip6 + 1) > data_end)
            return -1;
        f->ip_version = 6;
        f->l4_proto = ip6->nexthdr;
        f->saddr = ip6->saddr.in6_u.u6_addr32[3];
        f->daddr = ip6->daddr.in6_u.u6_addr32[3];
        f->ttl = ip6->hop_limit;
        f->ip_len = bpf_ntohs(ip6->payload_len);
        off += sizeof(*ip6);
    } else {
        return 0;
    }
    f->l4_off = off;
    if (f->l4_proto == IPPROTO_TCP) {
        struct tcphdr *tcp = data + off;

        if ((void *)(tcp + 1) > data_end)
            return -1;
        f->sport = bpf_ntohs(tcp->source);
        f->dport = bpf_ntohs(tcp->dest);
        f->tcp_flags = ((__u8 *)tcp)[13];
    } else if (f->l4_proto == IPPROTO_UDP) {
        struct udphdr *udp = data + off;

        if ((void *)(udp + 1) > data_end)
            return -1;
        f->sport = bpf_ntohs(udp->source);
        f->dport = bpf_ntohs(udp->dest);
    } else if (f->l4_proto == IPPROTO_ICMP || f->l4_proto == IPPROTO_ICMPV6) {
        struct icmp_hdr *icmp = data + off;

        if ((void *)(icmp + 1) > data_end)
            return -1;
        f->sport = icmp->type;
        f->dport = icmp->code;
    }
    return 0;
}

#endif
