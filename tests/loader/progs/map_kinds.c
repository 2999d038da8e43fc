// More map definitions: map_extra (bloom filter), a hash of maps without initialiser, pinning,
// key and value types behind const/volatile/typedef, sizes given only by __uint.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char _license[] SEC("license") = "GPL";

struct pair {
    __u64 first;
    __u32 second;
};
typedef const volatile struct pair cv_pair;

struct inner_hash {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
};

struct {
    __uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
    __uint(max_entries, 100);
    __uint(value_size, sizeof(__u32));
    __uint(map_extra, 3);
} bloom SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
    __uint(max_entries, 8);
    __type(key, __u32);
    __array(values, struct inner_hash);
} hash_of_maps SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 32);
    __uint(pinning, LIBBPF_PIN_BY_NAME);
    __type(key, const __u64);
    __type(value, cv_pair);
} pinned_lru SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_QUEUE);
    __uint(max_entries, 16);
    __uint(value_size, 8);
} queue SEC(".maps");

SEC("socket")
int use_map_kinds(struct __sk_buff* skb) {
    __u32 key = skb->len;
    __u64 value = key;
    if (bpf_map_peek_elem(&bloom, &key) == 0)
        return 1;
    if (bpf_map_lookup_elem(&hash_of_maps, &key))
        return 2;
    if (bpf_map_lookup_elem(&pinned_lru, &value))
        return 3;
    return bpf_map_push_elem(&queue, &value, 0);
}
