/* Socket filter configured through .rodata, keeping state in .data and .bss, reading the packet
 * with the legacy LD_ABS and LD_IND instructions (a read past the end ends the program with 0):
 * accepts frames of the configured IP protocol, truncated to the configured snap length, and
 * drops the rest. */
#include "progs.h"

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

const volatile __u32 snap_len = 42;
const volatile __u8 wanted_proto = IPPROTO_UDP;
const char tag[8] = "sockflt";

__u64 accepted = 0;
__u32 last_saddr = 0xffffffff;
char last_tag[8] = "none";

__u64 dropped;
__u32 bytes_kept;
__u16 last_dport;

SEC("socket")
int socket_global_data(struct __sk_buff *skb)
{
    __u32 keep;

    /* The packet starts at the network header, as on a socket. */
    if (skb->protocol != bpf_htons(ETH_P_IP))
        goto drop;
    if ((load_byte(skb, 0) >> 4) != 4 || load_half(skb, offsetof(struct iphdr, tot_len)) < 20)
        goto drop;
    if (load_byte(skb, offsetof(struct iphdr, protocol)) != wanted_proto)
        goto drop;
    last_saddr = load_word(skb, offsetof(struct iphdr, saddr));
    /* LD_IND past the header length: a packet without a UDP header ends here, with 0. */
    last_dport = load_half(skb, (load_byte(skb, 0) & 0xf) * 4 + offsetof(struct udphdr, dest));
    __builtin_memcpy(last_tag, tag, sizeof(tag));
    accepted++;
    keep = skb->len < snap_len ? skb->len : snap_len;
    bytes_kept += keep;
    return keep;
drop:
    dropped++;
    return 0;
}
