// The legacy `maps` section (struct bpf_map_def records, one symbol each), which libbpf v1.0
// dropped but older objects still use.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char _license[] SEC("license") = "GPL";

struct bpf_map_def {
    unsigned int type;
    unsigned int key_size;
    unsigned int value_size;
    unsigned int max_entries;
    unsigned int map_flags;
};

struct bpf_map_def SEC("maps") legacy_hash = {
    .type = BPF_MAP_TYPE_HASH,
    .key_size = sizeof(__u32),
    .value_size = sizeof(__u64),
    .max_entries = 64,
};

struct bpf_map_def SEC("maps") legacy_array = {
    .type = BPF_MAP_TYPE_ARRAY,
    .key_size = sizeof(__u32),
    .value_size = 16,
    .max_entries = 8,
    .map_flags = BPF_F_RDONLY_PROG,
};

SEC("socket")
int use_legacy(struct __sk_buff* skb) {
    __u32 key = 0;
    __u64* v = bpf_map_lookup_elem(&legacy_hash, &key);
    if (!v)
        return 0;
    return bpf_map_lookup_elem(&legacy_array, &key) ? *v : 0;
}
