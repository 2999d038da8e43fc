// BTF-defined maps of several kinds: sizes from types and from __uint, flags, a ring buffer whose
// size libbpf rounds up, a spin lock and a timer in a value, a prog array and an array of maps
// with `__array(values, ...)` static initialisation.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char _license[] SEC("license") = "GPL";

struct flow_key {
    __u32 saddr;
    __u32 daddr;
    __u16 sport;
    __u16 dport;
    __u8 proto;
};

struct lpm_key {
    __u32 prefixlen;
    __u8 addr[4];
};

typedef __u64 counter_t;

struct locked_value {
    __u64 packets;
    struct bpf_spin_lock lock;
    __u64 bytes;
    struct bpf_timer timer;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, counter_t);
} counters SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, struct flow_key);
    __type(value, __u64);
} flows SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 4);
    __uint(key_size, 4);
    __uint(value_size, 24);
} scratch SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __uint(max_entries, 64);
    __type(key, __u64);
    __type(value, struct flow_key);
} percpu_flows SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 256);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct lpm_key);
    __type(value, __u32);
} routes SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 10000);
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, struct locked_value);
} locked SEC(".maps");

int tail_a(struct xdp_md* ctx);
int tail_b(struct xdp_md* ctx);

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 4);
    __uint(key_size, sizeof(__u32));
    __array(values, int(void*));
} jmp_table SEC(".maps") = {
    .values = {[0] = (void*)&tail_a, [2] = (void*)&tail_b},
};

struct inner_map {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u32);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 3);
    __type(key, __u32);
    __array(values, struct inner_map);
} outer SEC(".maps") = {
    .values = {[1] = &inner_b, [2] = &inner_a},
};

SEC("xdp")
int tail_a(struct xdp_md* ctx) {
    return XDP_PASS;
}

SEC("xdp")
int tail_b(struct xdp_md* ctx) {
    return XDP_DROP;
}

SEC("xdp")
int use_maps(struct xdp_md* ctx) {
    __u32 key = ctx->ingress_ifindex & 15;
    counter_t* count = bpf_map_lookup_elem(&counters, &key);
    if (count)
        __sync_fetch_and_add(count, 1);

    struct flow_key flow = {.saddr = ctx->rx_queue_index};
    __u64 one = 1;
    bpf_map_update_elem(&flows, &flow, &one, BPF_ANY);

    struct lpm_key lpm = {.prefixlen = 32};
    if (bpf_map_lookup_elem(&routes, &lpm))
        return XDP_DROP;

    struct locked_value* v = bpf_map_lookup_elem(&locked, &key);
    if (v) {
        bpf_spin_lock(&v->lock);
        v->packets++;
        bpf_spin_unlock(&v->lock);
    }

    void* inner = bpf_map_lookup_elem(&outer, &key);
    if (inner && bpf_map_lookup_elem(inner, &key))
        bpf_ringbuf_output(&events, &key, sizeof(key), 0);

    bpf_tail_call(ctx, &jmp_table, key);
    return XDP_PASS;
}
