/* Legacy packet loads (LD_ABS, LD_IND) at the offsets that count from the headers: SKF_LL_OFF
 * from the MAC header (before the data of a socket filter, which starts at the IP header) and
 * SKF_NET_OFF from the network header. What each load gives is kept in a map, since a load
 * outside the buffer ends the program with 0. */
#include "progs.h"

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

#define SKF_NET_OFF (-0x100000)
#define SKF_LL_OFF (-0x200000)

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 6);
    __type(key, __u32);
    __type(value, __u64);
} loaded SEC(".maps");

static __always_inline void keep(__u32 slot, __u64 value)
{
    __u64 *v = bpf_map_lookup_elem(&loaded, &slot);

    if (v)
        *v = value + 1; /* 0 stays "not reached" */
}

SEC("socket")
int socket_ld_abs(struct __sk_buff *skb)
{
    __u32 last, proto;

    keep(0, load_half(skb, SKF_LL_OFF + 12)); /* the EtherType */
    keep(1, load_word(skb, SKF_LL_OFF + 2));  /* bytes of the destination MAC */
    keep(2, load_byte(skb, SKF_NET_OFF + 9)); /* the IP protocol */
    last = skb->len - 1;
    keep(3, load_byte(skb, SKF_NET_OFF + last)); /* LD_IND: the last byte */
    proto = load_byte(skb, SKF_NET_OFF + 9);
    if (proto == IPPROTO_UDP)
        keep(4, load_half(skb, SKF_NET_OFF + last)); /* one byte past the end: ends with 0 */
    if (proto == IPPROTO_TCP)
        keep(5, load_byte(skb, SKF_LL_OFF - 1)); /* below SKF_LL_OFF: ends with 0 */
    return 7;
}
