/* tc classifier: bytes and packets per source address in a per-CPU hash, created on first
 * sight; IPv6 sources are keyed by their last 32 bits. Packets that are not IP are counted in a
 * per-CPU array slot. */
#include "progs.h"

struct stats {
    __u64 packets;
    __u64 bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __uint(max_entries, 32);
    __type(key, __u32);
    __type(value, struct stats);
} by_source SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, struct stats);
} other SEC(".maps");

SEC("tc")
int tc_percpu_bytes(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    struct frame f = {};
    struct stats *s;
    __u32 slot;

    if (parse_frame(data, data_end, &f) < 0 || f.ip_version == 0) {
        slot = f.eth_proto == ETH_P_ARP;
        s = bpf_map_lookup_elem(&other, &slot);
        if (s) {
            s->packets++;
            s->bytes += skb->len;
        }
        return TC_ACT_OK;
    }
    s = bpf_map_lookup_elem(&by_source, &f.saddr);
    if (!s) {
        struct stats init = {.packets = 1, .bytes = skb->len};

        bpf_map_update_elem(&by_source, &f.saddr, &init, BPF_NOEXIST);
        return TC_ACT_OK;
    }
    s->packets++;
    s->bytes += skb->len;
    return TC_ACT_OK;
}
