/* tc forwarding by destination: IPv4 destinations the control plane listed are redirected to
 * their interface (egress, or ingress when the entry says so) with bpf_redirect; bpf_redirect
 * with flags it does not know refuses (TC_ACT_SHOT); everything else continues. */
#include "progs.h"

struct port {
    __u32 ifindex;
    __u32 flags;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, struct port);
} fib SEC(".maps");

SEC("tc")
int tc_redirect(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    struct frame f = {};
    struct port *p;

    if (parse_frame(data, data_end, &f) < 0 || f.ip_version != 4)
        return TC_ACT_OK;
    p = bpf_map_lookup_elem(&fib, &f.daddr);
    if (!p)
        return TC_ACT_OK;
    return bpf_redirect(p->ifindex, p->flags);
}
