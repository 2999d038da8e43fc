// ebpf-run's map tests: one map of each kind the CLI shows, global data, and programs that touch
// them, print, send records and tail-call.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} array SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u32);
} percpu SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u64);
} hash SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u64);
} percpu_hash SEC(".maps");

struct lpm_key {
    __u32 prefixlen;
    __u32 addr;
};
struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __uint(max_entries, 16);
    __type(key, struct lpm_key);
    __type(value, __u32);
} trie SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_QUEUE);
    __uint(max_entries, 4);
    __type(value, __u32);
} queue SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_STACK);
    __uint(max_entries, 4);
    __type(value, __u32);
} stack SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} ringbuf SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} perf SEC(".maps");

struct inner {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u32);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 2);
    __type(key, __u32);
    __array(values, struct inner);
} outer SEC(".maps") = {.values = {&inner_a}};

struct {
    __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
    __uint(max_entries, 2);
    __type(key, __u32);
    __array(values, struct inner);
} outer_hash SEC(".maps");

int tail_target(struct xdp_md* ctx);
struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __array(values, int(void*));
} jumps SEC(".maps") = {.values = {[1] = (void*)&tail_target}};

const volatile __u32 config = 7; // .rodata: what touch_maps returns
__u64 counter = 0;               // .bss
__u32 data_word = 0x11223344;    // .data

SEC("xdp")
int touch_maps(struct xdp_md* ctx) {
    __u32 zero = 0, one = 1, value = 0xabcd;
    __u64 big = 0x0102030405060708;
    __u64* slot = bpf_map_lookup_elem(&array, &one);
    if (slot) *slot += 5;
    bpf_map_update_elem(&hash, &one, &big, BPF_ANY);
    bpf_map_push_elem(&queue, &value, 0);
    bpf_ringbuf_output(&ringbuf, &value, sizeof(value), 0);
    bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &big, sizeof(big));
    char fmt[] = "touch_maps: counter %llu";
    bpf_trace_printk(fmt, sizeof(fmt), counter);
    __u32* p = bpf_map_lookup_elem(&percpu, &zero);
    if (p) *p += 1;
    counter += 1;
    return config;
}

SEC("xdp")
int tail_caller(struct xdp_md* ctx) {
    bpf_tail_call(ctx, &jumps, 1);
    return XDP_ABORTED;
}

SEC("xdp")
int tail_target(struct xdp_md* ctx) {
    return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
