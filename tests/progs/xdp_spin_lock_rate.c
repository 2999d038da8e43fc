/* XDP per-source packet budget: each IPv4 source gets a budget of tokens per window; a packet
 * takes one or is dropped. A UDP packet to port 7777 is a window tick: it refills its sender's
 * bucket and advances the global window counter. Buckets (hash values) and the window (an array
 * value) are updated under their bpf_spin_lock, as concurrent CPUs would need. */
#include "progs.h"

#define BUDGET 2

struct bucket {
    struct bpf_spin_lock lock;
    __u32 tokens;
    __u64 passed;
    __u64 dropped;
};

struct window {
    struct bpf_spin_lock lock;
    __u32 number;
    __u64 refills;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, struct bucket);
} buckets SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct window);
} current_window SEC(".maps");

SEC("xdp")
int xdp_spin_lock_rate(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct frame f = {};
    struct bucket *b;
    __u32 zero = 0;
    int pass;

    if (parse_frame(data, data_end, &f) < 0 || f.ip_version != 4)
        return XDP_PASS;
    if (f.l4_proto == IPPROTO_UDP && f.dport == 7777) {
        struct window *w = bpf_map_lookup_elem(&current_window, &zero);

        if (!w)
            return XDP_ABORTED;
        bpf_spin_lock(&w->lock);
        w->number++;
        w->refills++;
        bpf_spin_unlock(&w->lock);
        b = bpf_map_lookup_elem(&buckets, &f.saddr);
        if (b) {
            bpf_spin_lock(&b->lock);
            b->tokens = BUDGET;
            bpf_spin_unlock(&b->lock);
        }
        return XDP_DROP;
    }
    b = bpf_map_lookup_elem(&buckets, &f.saddr);
    if (!b) {
        struct bucket nb = {.tokens = BUDGET - 1, .passed = 1};

        bpf_map_update_elem(&buckets, &f.saddr, &nb, BPF_NOEXIST);
        return XDP_PASS;
    }
    bpf_spin_lock(&b->lock);
    pass = b->tokens > 0;
    if (pass) {
        b->tokens--;
        b->passed++;
    } else {
        b->dropped++;
    }
    bpf_spin_unlock(&b->lock);
    return pass ? XDP_PASS : XDP_DROP;
}
