// ebpf-run's failure tests: a program the verifier rejects (it reads the packet without
// checking its end), which --no-verify runs in checked mode, and a loop that never ends.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

SEC("xdp")
int unchecked_read(struct xdp_md* ctx) {
    unsigned char* data = (void*)(long)ctx->data;
    return data[100] == 0xff ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int endless(struct xdp_md* ctx) {
    volatile int spin = 1;
    while (spin) {
    }
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
