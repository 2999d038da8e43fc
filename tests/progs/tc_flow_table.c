/* tc classifier: a connection table keyed by 5-tuple. New flows are inserted with BPF_NOEXIST,
 * known ones counted, TCP FIN/RST removes the flow; when the table is full the packet is shot. */
#include "progs.h"

struct flow_key {
    __u32 saddr, daddr;
    __u16 sport, dport;
    __u8 proto;
    __u8 pad[3];
};

struct flow {
    __u64 packets;
    __u64 bytes;
    __u32 first_len;
    __u8 flags_seen;
    __u8 pad[3];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4);
    __type(key, struct flow_key);
    __type(value, struct flow);
} flows SEC(".maps");

/* Results of the last insert: 0, or the update's error. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __s64);
} last_insert SEC(".maps");

SEC("tc")
int tc_flow_table(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    struct frame f = {};
    struct flow_key key = {};
    struct flow *fl;
    __u32 zero = 0;
    __s64 *res;
    long err;

    if (parse_frame(data, data_end, &f) < 0 || f.ip_version == 0)
        return TC_ACT_OK;
    if (f.l4_proto != IPPROTO_TCP && f.l4_proto != IPPROTO_UDP)
        return TC_ACT_OK;
    key.saddr = f.saddr;
    key.daddr = f.daddr;
    key.sport = f.sport;
    key.dport = f.dport;
    key.proto = f.l4_proto;

    if (f.tcp_flags & (TCP_FIN | TCP_RST)) {
        err = bpf_map_delete_elem(&flows, &key);
        return err ? TC_ACT_UNSPEC : TC_ACT_OK;
    }
    fl = bpf_map_lookup_elem(&flows, &key);
    if (fl) {
        __sync_fetch_and_add(&fl->packets, 1);
        __sync_fetch_and_add(&fl->bytes, skb->len);
        fl->flags_seen |= f.tcp_flags;
        return TC_ACT_OK;
    }
    struct flow nf = {.packets = 1, .bytes = skb->len, .first_len = skb->len,
                      .flags_seen = f.tcp_flags};
    err = bpf_map_update_elem(&flows, &key, &nf, BPF_NOEXIST);
    res = bpf_map_lookup_elem(&last_insert, &zero);
    if (res)
        *res = err;
    return err ? TC_ACT_SHOT : TC_ACT_OK;
}
