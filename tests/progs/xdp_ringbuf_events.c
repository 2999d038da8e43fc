/* XDP event stream through a ring buffer: TCP SYNs are reserved and submitted as fixed-size
 * events, other TCP packets reserved and then discarded (a filter decided late), ICMP sent with
 * bpf_ringbuf_output as a variable-size record holding the ICMP header and up to 5 payload bytes.
 * UDP holds one large reservation while asking for another that no longer fits. After each packet
 * the ring's data and positions, as bpf_ringbuf_query reports them, are kept in an array. */
#include "progs.h"

struct event {
    __u32 saddr, daddr;
    __u16 sport, dport;
    __u32 len;
};

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} events SEC(".maps");

enum { Q_AVAIL, Q_SIZE, Q_CONS, Q_PROD, Q_RESERVED, NQ };

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, NQ);
    __type(key, __u32);
    __type(value, __u64);
} ring_state SEC(".maps");

static __always_inline void record(__u32 slot, __u64 value)
{
    __u64 *v = bpf_map_lookup_elem(&ring_state, &slot);

    if (v)
        *v = value;
}

SEC("xdp")
int xdp_ringbuf_events(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct frame f = {};
    int action = XDP_PASS;

    if (parse_frame(data, data_end, &f) < 0)
        return XDP_DROP;
    if (f.l4_proto == IPPROTO_TCP) {
        struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

        if (!e)
            return XDP_ABORTED;
        e->saddr = f.saddr;
        e->daddr = f.daddr;
        e->sport = f.sport;
        e->dport = f.dport;
        e->len = data_end - data;
        if (f.tcp_flags & TCP_SYN)
            bpf_ringbuf_submit(e, 0);
        else
            bpf_ringbuf_discard(e, 0);
    } else if (f.l4_proto == IPPROTO_ICMP && f.l4_off == sizeof(struct ethhdr) + 20) {
        __u8 buf[13] = {};
        __u32 n = 0;

        /* The ICMP header and what follows, as much as there is (a truncated packet sends
         * fewer bytes; an ICMP header ending the packet sends 8). */
        for (int i = 0; i < sizeof(buf); i++) {
            __u8 *p = data + sizeof(struct ethhdr) + 20 + i;

            if ((void *)(p + 1) > data_end)
                break;
            buf[i] = *p;
            n++;
        }
        if (bpf_ringbuf_output(&events, buf, n, 0))
            action = XDP_ABORTED;
    } else if (f.l4_proto == IPPROTO_UDP) {
        /* Two reservations that fit the ring one at a time but not together: the second one
         * fails while the first is held. Bit 0: first granted; bit 1: second granted. */
        void *first = bpf_ringbuf_reserve(&events, 2000, 0);
        void *second = bpf_ringbuf_reserve(&events, 2100, 0);

        record(Q_RESERVED, (first != 0) | (second != 0) << 1);
        if (first)
            bpf_ringbuf_discard(first, BPF_RB_NO_WAKEUP);
        if (second)
            bpf_ringbuf_submit(second, 0);
    }
    record(Q_AVAIL, bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA));
    record(Q_SIZE, bpf_ringbuf_query(&events, BPF_RB_RING_SIZE));
    record(Q_CONS, bpf_ringbuf_query(&events, BPF_RB_CONS_POS));
    record(Q_PROD, bpf_ringbuf_query(&events, BPF_RB_PROD_POS));
    return action;
}
