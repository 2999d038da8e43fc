// Several programs per section and across sections, .text subprograms shared by two programs
// (a global one calling a static one), and a bpf_loop callback.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char _license[] SEC("license") = "Dual BSD/GPL";
__u32 _version SEC("version") = 0x050f00;

static __noinline int twice(int x) {
    return x * 2;
}

__noinline int add_one(int x) {
    return twice(x) + 1;
}

static int sum_index(__u32 index, void* ctx) {
    *(int*)ctx += index;
    return 0;
}

SEC("xdp")
int xdp_first(struct xdp_md* ctx) {
    return add_one(ctx->ingress_ifindex) > 3 ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int xdp_second(struct xdp_md* ctx) {
    return ctx->data_end > ctx->data ? XDP_DROP : XDP_PASS;
}

SEC("tc")
int tc_prog(struct __sk_buff* skb) {
    return twice(skb->len) + add_one(skb->mark);
}

SEC("socket")
int socket_prog(struct __sk_buff* skb) {
    int sum = 0;
    bpf_loop(skb->len & 15, sum_index, &sum, 0);
    return sum;
}

SEC("kprobe/do_unlinkat")
int kprobe_prog(void* ctx) {
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int tracepoint_prog(void* ctx) {
    return 1;
}

SEC("cgroup_skb/egress")
int egress_prog(struct __sk_buff* skb) {
    return 1;
}

SEC("my_custom_section")
int custom_prog(void* ctx) {
    return 2;
}
