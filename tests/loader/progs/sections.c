// Section names libbpf treats specially: "?" (not loaded by default, the name has it stripped),
// xdp.frags, and a few more program types.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char _license[] SEC("license") = "GPL";

SEC("?xdp.frags")
int optional_frags(struct xdp_md* ctx) {
    return XDP_PASS;
}

SEC("raw_tp/sched_switch")
int raw_tp_prog(void* ctx) {
    return 0;
}

SEC("cgroup/connect4")
int connect4_prog(struct bpf_sock_addr* ctx) {
    return 1;
}

SEC("perf_event")
int perf_prog(void* ctx) {
    return 0;
}

SEC("sk_msg")
int sk_msg_prog(struct sk_msg_md* msg) {
    return SK_PASS;
}
