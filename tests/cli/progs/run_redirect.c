/* ebpf-run's redirect report: an XDP program that sends every frame to port 1 of a devmap,
 * falling back to XDP_PASS when the port has no device. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_DEVMAP);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u32);
} ports SEC(".maps");

SEC("xdp")
int to_port_1(struct xdp_md *ctx)
{
    return bpf_redirect_map(&ports, 1, XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
