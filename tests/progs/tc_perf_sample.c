/* tc packet sampler: sends a metadata record with the first 64 bytes of the packet appended
 * (the BPF_F_CTXLEN_MASK bits of bpf_perf_event_output, which copy from the skb) to the perf
 * event of the current CPU. A packet shorter than that asks for more than there is and fails;
 * it is then sampled without payload. The outcome of each output is kept in an array. */
#include "progs.h"

#define SAMPLE_BYTES 64

struct sample {
    __u32 len;
    __u16 protocol;
    __u16 sampled_bytes;
    __u32 mark;
    __u32 seq;
};

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} samples SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __s64);
} outcome SEC(".maps"); /* [0]: last output's result, [1]: samples sent */

SEC("tc")
int tc_perf_sample(struct __sk_buff *skb)
{
    __u32 zero = 0, one = 1;
    __s64 *result = bpf_map_lookup_elem(&outcome, &zero);
    __s64 *sent = bpf_map_lookup_elem(&outcome, &one);
    struct sample s = {};
    long err;

    if (!result || !sent)
        return TC_ACT_OK;
    s.len = skb->len;
    s.protocol = bpf_ntohs(skb->protocol);
    s.mark = skb->mark;
    s.seq = *sent;
    s.sampled_bytes = SAMPLE_BYTES;
    err = bpf_perf_event_output(skb, &samples, BPF_F_CURRENT_CPU | ((__u64)SAMPLE_BYTES << 32),
                                &s, sizeof(s));
    if (err) {
        s.sampled_bytes = 0;
        *result = err;
        err = bpf_perf_event_output(skb, &samples, BPF_F_CURRENT_CPU, &s, sizeof(s));
    }
    if (!err)
        (*sent)++;
    else
        *result = err;
    return TC_ACT_OK;
}
