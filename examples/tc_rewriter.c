// A tc program that sends a service's traffic to its backend: TCP and UDP packets to
// 10.0.0.2:80 are rewritten to 10.0.0.99:8080, with the IPv4 header checksum and the TCP/UDP
// checksum (pseudo-header included) updated incrementally by the kernel's helpers. The
// addresses are read-only globals (.rodata) that user space may set before loading, here with
// ebpf-run --map-init; a global counter (.bss) counts the rewrites.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <stddef.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define IP_CSUM_OFF (ETH_HLEN + offsetof(struct iphdr, check))
#define IP_DST_OFF (ETH_HLEN + offsetof(struct iphdr, daddr))
#define L4_OFF (ETH_HLEN + sizeof(struct iphdr))
#define L4_DPORT_OFF (L4_OFF + offsetof(struct udphdr, dest)) // the same in TCP

const volatile __u32 service_addr = 0x0a000002; // 10.0.0.2
const volatile __u16 service_port = 80;
const volatile __u32 backend_addr = 0x0a000063; // 10.0.0.99
const volatile __u16 backend_port = 8080;

__u64 rewritten = 0;

SEC("tc")
int tc_rewriter(struct __sk_buff* skb) {
    void* data = (void*)(long)skb->data;
    void* data_end = (void*)(long)skb->data_end;
    struct ethhdr* eth = data;
    struct iphdr* ip = (void*)(eth + 1);
    struct udphdr* l4 = (void*)(ip + 1); // TCP's ports sit where UDP's do
    if ((void*)(l4 + 1) > data_end) return TC_ACT_OK;
    if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5) return TC_ACT_OK;
    if (ip->daddr != bpf_htonl(service_addr) || l4->dest != bpf_htons(service_port))
        return TC_ACT_OK;

    __u32 csum_off, csum_flags = 0;
    if (ip->protocol == IPPROTO_TCP) {
        csum_off = L4_OFF + offsetof(struct tcphdr, check);
    } else if (ip->protocol == IPPROTO_UDP) {
        csum_off = L4_OFF + offsetof(struct udphdr, check);
        csum_flags = BPF_F_MARK_MANGLED_0; // a zero UDP checksum means "none": keep it so
    } else {
        return TC_ACT_OK;
    }
    __be32 old_addr = ip->daddr, new_addr = bpf_htonl(backend_addr);
    __be16 old_port = l4->dest, new_port = bpf_htons(backend_port);

    bpf_l4_csum_replace(skb, csum_off, old_addr, new_addr,
                        csum_flags | BPF_F_PSEUDO_HDR | sizeof(new_addr));
    bpf_l4_csum_replace(skb, csum_off, old_port, new_port, csum_flags | sizeof(new_port));
    bpf_l3_csum_replace(skb, IP_CSUM_OFF, old_addr, new_addr, sizeof(new_addr));
    bpf_skb_store_bytes(skb, IP_DST_OFF, &new_addr, sizeof(new_addr), 0);
    bpf_skb_store_bytes(skb, L4_DPORT_OFF, &new_port, sizeof(new_port), 0);
    __sync_fetch_and_add(&rewritten, 1);
    return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
