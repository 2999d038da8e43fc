// ebpf-run's inspection tests: subprograms and a callback, for --cfg clusters and --disasm.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

static __noinline int twice(int x) {
    return x * 2;
}

__noinline int plus_one(int x) {
    return twice(x) + 1;
}

static int add_index(__u32 index, void* ctx) {
    *(int*)ctx += index;
    return 0;
}

SEC("xdp")
int calls(struct xdp_md* ctx) {
    int sum = 0;
    bpf_loop(4, add_index, &sum, 0);                               // 0 + 1 + 2 + 3
    if (sum == 6) return plus_one(sum) > 12 ? XDP_PASS : XDP_DROP; // 13: XDP_PASS
    return XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";
