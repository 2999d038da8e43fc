// ebpf-run's bloom filter test: a program pushes the value it gets in rdi (as bpftool's and
// libbpf's bloom filter examples do) and peeks it and a value never pushed.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
    __uint(max_entries, 1000);
    __type(value, __u64);
    __uint(map_extra, 3);
} seen SEC(".maps");

SEC("kprobe/do_nothing")
int bloom(__u64* regs) {
    __u64 value = 42, absent = 43;
    if (bpf_map_push_elem(&seen, &value, BPF_ANY)) return 1;
    // 0 when 42 may be there (it is), 1 << 8 more when 43 may be too.
    return (bpf_map_peek_elem(&seen, &value) != 0) | (bpf_map_peek_elem(&seen, &absent) == 0) << 8;
}

char LICENSE[] SEC("license") = "GPL";
