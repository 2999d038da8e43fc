// An object with programs for hooks this VM does not describe (fentry, lsm) and one calling a
// helper it does not implement beside one it runs, as tools ship variants for several kernels in
// one object: the XDP program loads and runs.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} seen SEC(".maps");

// A kind this VM does not have: the program that uses it is left out, the others run.
struct {
    __uint(type, BPF_MAP_TYPE_SK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, __u64);
} flows SEC(".maps");

SEC("cgroup_skb/egress")
int tag_flow(struct __sk_buff* skb) {
    struct bpf_sock* sk = skb->sk;
    if (!sk) return 1;
    __u64* n = bpf_sk_storage_get(&flows, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
    if (n) *n += 1;
    return 1;
}

static int count(void) {
    __u32 key = 0;
    __u64* n = bpf_map_lookup_elem(&seen, &key);
    if (n) __sync_fetch_and_add(n, 1);
    return 0;
}

SEC("fentry/do_unlinkat")
int on_unlink(unsigned long long* ctx) {
    return count();
}

SEC("lsm/file_open")
int on_open(unsigned long long* ctx) {
    return count();
}

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} counters SEC(".maps");

SEC("kprobe/do_read")
int read_counter(void* ctx) {
    return bpf_perf_event_read(&counters, BPF_F_CURRENT_CPU);
}

SEC("xdp")
int on_packet(struct xdp_md* ctx) {
    count();
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
