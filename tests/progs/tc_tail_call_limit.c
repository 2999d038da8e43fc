/* tc classifier that tail-calls itself until the kernel's limit (33 tail calls a run) stops it:
 * skb->cb[0] counts the calls of this run (it survives tail calls; the input may preset it) and
 * .bss counts every call across runs. The result is the count. */
#include "progs.h"

__u64 total_calls;

int tc_tail_call_limit(struct __sk_buff *skb);

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __array(values, int(struct __sk_buff *));
} self SEC(".maps") = {
    .values = {[0] = (void *)&tc_tail_call_limit},
};

SEC("tc")
int tc_tail_call_limit(struct __sk_buff *skb)
{
    skb->cb[0]++;
    total_calls++;
    bpf_tail_call(skb, &self, 0);
    return skb->cb[0];
}
