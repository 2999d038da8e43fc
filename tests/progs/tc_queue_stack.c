/* tc classifier keeping recent history: the lengths of recent packets in a bounded queue (new
 * ones refused when it is full), marks in a stack that overwrites its oldest entry
 * (BPF_EXIST). A UDP packet to port 7 is a control request: it pops the oldest length, peeks the
 * newest mark and records what it got, and the error codes, in an array. */
#include "progs.h"

struct {
    __uint(type, BPF_MAP_TYPE_QUEUE);
    __uint(max_entries, 3);
    __type(value, __u32);
} recent_lens SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_STACK);
    __uint(max_entries, 2);
    __type(value, __u64);
} marks SEC(".maps");

enum { R_POP_ERR, R_POPPED, R_PEEK_ERR, R_PEEKED, R_PUSH_ERR, NR };

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, NR);
    __type(key, __u32);
    __type(value, __s64);
} report SEC(".maps");

static __always_inline void put(__u32 slot, __s64 value)
{
    __s64 *v = bpf_map_lookup_elem(&report, &slot);

    if (v)
        *v = value;
}

SEC("tc")
int tc_queue_stack(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    struct frame f = {};
    __u32 len = skb->len;
    __u64 mark = ((__u64)skb->mark << 32) | skb->len;
    long err;

    if (parse_frame(data, data_end, &f) < 0)
        return TC_ACT_SHOT;
    if (f.l4_proto == IPPROTO_UDP && f.dport == 7) {
        __u32 popped = 0;
        __u64 peeked = 0;

        err = bpf_map_pop_elem(&recent_lens, &popped);
        put(R_POP_ERR, err);
        put(R_POPPED, popped);
        err = bpf_map_peek_elem(&marks, &peeked);
        put(R_PEEK_ERR, err);
        put(R_PEEKED, peeked);
        return TC_ACT_OK;
    }
    err = bpf_map_push_elem(&recent_lens, &len, 0);
    put(R_PUSH_ERR, err);
    bpf_map_push_elem(&marks, &mark, BPF_EXIST);
    return err ? TC_ACT_UNSPEC : TC_ACT_OK;
}
