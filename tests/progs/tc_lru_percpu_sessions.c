/* tc classifier: per-CPU session accounting keyed by (source address, source port) in an LRU
 * per-CPU hash; UDP to port 4000 asks to forget the sender's session. */
#include "progs.h"

struct session_key {
    __u32 addr;
    __u32 port;
};

struct session {
    __u64 packets;
    __u64 bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
    __uint(max_entries, 64);
    __type(key, struct session_key);
    __type(value, struct session);
} sessions SEC(".maps");

SEC("tc")
int tc_lru_percpu_sessions(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    struct frame f = {};
    struct session_key key = {};
    struct session *s;

    if (parse_frame(data, data_end, &f) < 0 || f.ip_version == 0)
        return TC_ACT_OK;
    key.addr = f.saddr;
    key.port = f.sport;
    if (f.l4_proto == IPPROTO_UDP && f.dport == 4000)
        return bpf_map_delete_elem(&sessions, &key) == 0 ? TC_ACT_SHOT : TC_ACT_OK;
    s = bpf_map_lookup_elem(&sessions, &key);
    if (s) {
        s->packets++;
        s->bytes += skb->len;
        return TC_ACT_OK;
    }
    struct session ns = {.packets = 1, .bytes = skb->len};

    return bpf_map_update_elem(&sessions, &key, &ns, BPF_ANY) ? TC_ACT_SHOT : TC_ACT_OK;
}
