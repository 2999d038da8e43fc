/* tc payload scrubber: makes the headers linear (bpf_skb_pull_data), pads runt frames to 60
 * bytes and cuts long ones to 128 (bpf_skb_change_tail), then overwrites the first 8 bytes of
 * any UDP payload with a redaction pattern (bpf_skb_store_bytes), keeping the original bytes,
 * read with bpf_skb_load_bytes, in a hash keyed by the frame's length. */
#include "progs.h"

#define MIN_LEN 60
#define MAX_LEN 128

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u64);
} redacted SEC(".maps");

SEC("tc")
int tc_skb_edit(struct __sk_buff *skb)
{
    const __u64 pattern = 0x5858585858585858ull; /* "XXXXXXXX" */
    struct frame f = {};
    void *data, *data_end;
    __u32 len = skb->len, payload;
    __u64 orig = 0;

    if (bpf_skb_pull_data(skb, len < 64 ? len : 64))
        return TC_ACT_SHOT;
    if (len < MIN_LEN && bpf_skb_change_tail(skb, MIN_LEN, 0))
        return TC_ACT_SHOT;
    if (len > MAX_LEN && bpf_skb_change_tail(skb, MAX_LEN, 0))
        return TC_ACT_SHOT;
    data = (void *)(long)skb->data;
    data_end = (void *)(long)skb->data_end;
    if (parse_frame(data, data_end, &f) < 0 || f.l4_proto != IPPROTO_UDP)
        return TC_ACT_OK;
    payload = f.l4_off + sizeof(struct udphdr);
    if (bpf_skb_load_bytes(skb, payload, &orig, sizeof(orig)))
        return TC_ACT_UNSPEC;
    if (bpf_skb_store_bytes(skb, payload, &pattern, sizeof(pattern), 0))
        return TC_ACT_SHOT;
    len = skb->len;
    bpf_map_update_elem(&redacted, &len, &orig, BPF_ANY);
    return TC_ACT_OK;
}
