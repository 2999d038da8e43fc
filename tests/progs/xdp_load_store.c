/* XDP reflector through the buffer helpers rather than packet pointers: reads the Ethernet
 * header with bpf_xdp_load_bytes, swaps its addresses and writes it back with
 * bpf_xdp_store_bytes, then sends the frame back (XDP_TX). The frame's length
 * (bpf_xdp_get_buff_len), a word of its payload, and what out-of-range accesses return land in
 * `results`. */
#include "progs.h"

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, __s64);
} results SEC(".maps");

static __always_inline void put(__u32 slot, __s64 value)
{
    bpf_map_update_elem(&results, &slot, &value, BPF_ANY);
}

SEC("xdp")
int xdp_load_store(struct xdp_md *ctx)
{
    __u8 eth[ETH_HLEN], tmp[ETH_ALEN];
    __u64 word = 0x4242424242424242ull;
    __u32 len = bpf_xdp_get_buff_len(ctx);
    long err;

    put(0, len);
    put(1, bpf_xdp_load_bytes(ctx, len - 2, &word, sizeof(word)));
    put(2, bpf_xdp_load_bytes(ctx, 0x10000, &word, sizeof(word)));
    put(3, bpf_xdp_store_bytes(ctx, len - 4, &word, sizeof(word)));
    put(4, bpf_xdp_load_bytes(ctx, ETH_HLEN, &word, sizeof(word)));
    put(5, word);
    err = bpf_xdp_load_bytes(ctx, 0, eth, sizeof(eth));
    if (err) {
        put(6, err);
        return XDP_DROP;
    }
    __builtin_memcpy(tmp, eth, ETH_ALEN);
    __builtin_memcpy(eth, eth + ETH_ALEN, ETH_ALEN);
    __builtin_memcpy(eth + ETH_ALEN, tmp, ETH_ALEN);
    put(7, bpf_xdp_store_bytes(ctx, 0, eth, sizeof(eth)));
    return XDP_TX;
}
