// ebpf-run's call chain tests: a profiler's probe, as libbpf-tools' profile and stackcount count
// (kernel stack id, user stack id) pairs, then copies the kernel chain with bpf_get_stack.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

struct stack_key {
    __s32 kern;
    __s32 user;
};

struct {
    __uint(type, BPF_MAP_TYPE_STACK_TRACE);
    __uint(max_entries, 64);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, 16 * sizeof(__u64));
} stacks SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, struct stack_key);
    __type(value, __u64);
} counts SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64[4]);
} last SEC(".maps");

SEC("kprobe/do_nothing")
int profile(void* ctx) {
    struct stack_key key = {
        .kern = bpf_get_stackid(ctx, &stacks, 0),
        .user = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK),
    };
    __u64 one = 1;
    __u64* count = bpf_map_lookup_elem(&counts, &key);
    if (count)
        __sync_fetch_and_add(count, 1);
    else
        bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);

    // The kernel chain past its innermost frame: the bytes copied.
    __u32 zero = 0;
    __u64* buf = bpf_map_lookup_elem(&last, &zero);
    if (!buf) return 0;
    return bpf_get_stack(ctx, buf, 4 * sizeof(__u64), 1);
}

char LICENSE[] SEC("license") = "GPL";
