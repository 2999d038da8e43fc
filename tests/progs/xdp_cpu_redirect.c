/* XDP steering with the other two redirect maps: UDP to port 7000 goes to the AF_XDP socket of
 * the receive queue (an xskmap: no socket is bound, so bpf_redirect_map falls back to XDP_PASS),
 * other IPv4 traffic is spread over CPUs by the source address's last byte (a cpumap: a CPU with
 * no entry, or one the machine does not have, drops). A packet asking for a broadcast, which
 * cpumaps do not know, aborts. Counters per CPU slot record the attempts. */
#include "progs.h"

struct {
    __uint(type, BPF_MAP_TYPE_CPUMAP);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u32); /* struct bpf_cpumap_val's qsize */
} cpus SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_XSKMAP);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u32);
} xsks SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} steered SEC(".maps");

SEC("xdp")
int xdp_cpu_redirect(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct frame f = {};
    __u64 *n;
    __u32 cpu;

    if (parse_frame(data, data_end, &f) < 0)
        return XDP_DROP;
    if (f.ip_version != 4)
        return XDP_PASS;
    if (f.l4_proto == IPPROTO_UDP && f.dport == 7000)
        return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
    cpu = bpf_ntohl(f.saddr) & 3;
    n = bpf_map_lookup_elem(&steered, &cpu);
    if (n)
        __sync_fetch_and_add(n, 1);
    if (f.l4_proto == IPPROTO_UDP && f.dport == 9)
        return bpf_redirect_map(&cpus, cpu, BPF_F_BROADCAST | XDP_DROP);
    return bpf_redirect_map(&cpus, cpu, XDP_DROP);
}
