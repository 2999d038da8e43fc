/* XDP host statistics with periodic reports: each packet counts its IPv4 source in a hash; a UDP
 * packet to port 9999 is a report request that walks the table with bpf_for_each_map_elem,
 * summing and finding the busiest host, and deleting hosts seen fewer than the request's
 * threshold (the first payload byte) times. */
#include "progs.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 32);
    __type(key, __u32);
    __type(value, __u64);
} hosts SEC(".maps");

struct report {
    __u64 total;
    __u64 max;
    __u32 busiest;
    __u32 visited;
    __u32 removed;
    __u32 threshold;
    __s64 walked; /* what bpf_for_each_map_elem returned */
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct report);
} last_report SEC(".maps");

static long visit(void *map, __u32 *key, __u64 *count, struct report *r)
{
    r->visited++;
    r->total += *count;
    if (*count > r->max) {
        r->max = *count;
        r->busiest = *key;
    }
    if (*count < r->threshold) {
        bpf_map_delete_elem(map, key);
        r->removed++;
    }
    return 0;
}

SEC("xdp")
int xdp_for_each_elem(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct frame f = {};
    __u64 one = 1, *count;

    if (parse_frame(data, data_end, &f) < 0 || f.ip_version != 4)
        return XDP_PASS;
    if (f.l4_proto == IPPROTO_UDP && f.dport == 9999) {
        __u8 *threshold = data + f.l4_off + sizeof(struct udphdr);
        struct report r = {};
        __u32 zero = 0;

        if ((void *)(threshold + 1) > data_end)
            return XDP_DROP;
        r.threshold = *threshold;
        r.walked = bpf_for_each_map_elem(&hosts, visit, &r, 0);
        bpf_map_update_elem(&last_report, &zero, &r, BPF_ANY);
        return XDP_DROP;
    }
    count = bpf_map_lookup_elem(&hosts, &f.saddr);
    if (count)
        __sync_fetch_and_add(count, 1);
    else
        bpf_map_update_elem(&hosts, &f.saddr, &one, BPF_NOEXIST);
    return XDP_PASS;
}
