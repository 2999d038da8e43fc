/* XDP statistics through maps of maps: an array of maps picks the counter table by L4 protocol
 * (TCP, UDP), a hash of maps picks the per-port table by IP version (4, 6). Both outer maps are
 * initialised statically; slots left empty mean "not counted". */
#include "progs.h"

struct proto_table {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} tcp_stats SEC(".maps"), udp_stats SEC(".maps");

struct port_table {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u16);
    __type(value, __u64);
} v4_ports SEC(".maps"), v6_ports SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 3);
    __type(key, __u32);
    __array(values, struct proto_table);
} by_proto SEC(".maps") = {
    .values = {[0] = &tcp_stats, [1] = &udp_stats},
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
    __uint(max_entries, 8);
    __type(key, __u32);
    __array(values, struct port_table);
} by_version SEC(".maps") = {
    .values = {[4] = &v4_ports, [6] = &v6_ports},
};

SEC("xdp")
int xdp_map_in_map(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct frame f = {};
    __u32 proto_slot, version = 0, idx;
    __u64 *count, one = 1;
    void *table;

    if (parse_frame(data, data_end, &f) < 0)
        return XDP_DROP;
    if (f.l4_proto == IPPROTO_TCP)
        proto_slot = 0;
    else if (f.l4_proto == IPPROTO_UDP)
        proto_slot = 1;
    else
        proto_slot = 2; /* an empty slot */
    table = bpf_map_lookup_elem(&by_proto, &proto_slot);
    if (!table)
        return XDP_PASS;
    idx = f.ip_version == 6;
    count = bpf_map_lookup_elem(table, &idx);
    if (count)
        __sync_fetch_and_add(count, 1);

    version = f.ip_version;
    table = bpf_map_lookup_elem(&by_version, &version);
    if (!table)
        return XDP_PASS;
    count = bpf_map_lookup_elem(table, &f.dport);
    if (count) {
        __sync_fetch_and_add(count, 1);
        return XDP_TX;
    }
    bpf_map_update_elem(table, &f.dport, &one, BPF_NOEXIST);
    return XDP_TX;
}
