// Programs that the JIT must run as the interpreter does, end to end through LoadedObject: tail
// calls through a statically filled prog array (a chain, and a loop that hits the limit),
// bpf_loop and bpf_for_each_map_elem callbacks, hash and array maps, global data, packet access
// and rewrites, bpf-to-bpf calls.
// linux/bpf.h first: the libbpf headers use its types.
#include <linux/bpf.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>

char LICENSE[] SEC("license") = "GPL";

__u64 stages_run = 0;  // .bss
__u32 loop_runs = 0;   // .bss
const __u32 salt = 77; // .rodata

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u16);
    __type(value, __u64);
} by_port SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, __u64);
} slots SEC(".maps");

int stage1(struct xdp_md* ctx);
int stage2(struct xdp_md* ctx);
int again(struct xdp_md* ctx);

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 4);
    __uint(key_size, sizeof(__u32));
    __array(values, int(void*));
} jumps SEC(".maps") = {
    .values = {[1] = (void*)&stage1, [2] = (void*)&stage2, [3] = (void*)&again},
};

struct sum_ctx {
    const __u8* data;
    const __u8* end;
    __u64 sum;
};

static int add_byte(__u32 index, void* arg) {
    struct sum_ctx* s = arg;
    const __u8* p = s->data + index;
    if (p + 1 > s->end) return 1;
    s->sum = s->sum * 31 + *p + salt;
    return 0;
}

static int fold_slot(void* map, __u32* key, __u64* value, void* arg) {
    *(__u64*)arg += *value * (*key + 1);
    *value += 1;
    return *key == 5; // stop after slot 5
}

static __noinline __u64 mix(__u64 x, __u64 y) {
    return (x ^ (y << 7)) * 0x9e3779b97f4a7c15ULL;
}

SEC("xdp")
int entry(struct xdp_md* ctx) {
    void* data = (void*)(long)ctx->data;
    void* end = (void*)(long)ctx->data_end;
    struct ethhdr* eth = data;
    struct iphdr* ip = (void*)(eth + 1);
    struct udphdr* udp = (void*)(ip + 1);
    if ((void*)(udp + 1) > end) return XDP_ABORTED;

    __u16 port = bpf_ntohs(udp->source);
    __u64* count = bpf_map_lookup_elem(&by_port, &port);
    if (count) {
        *count += 1;
    } else {
        __u64 one = 1;
        bpf_map_update_elem(&by_port, &port, &one, BPF_NOEXIST);
    }

    struct sum_ctx s = {.data = data, .end = end, .sum = 0};
    loop_runs += bpf_loop(64, add_byte, &s, 0);
    __u32 key = 0;
    __u64* slot = bpf_map_lookup_elem(&slots, &key);
    if (slot) *slot = mix(s.sum, port);
    stages_run = 1;
    bpf_tail_call(ctx, &jumps, 1);
    return XDP_PASS;
}

SEC("xdp")
int stage1(struct xdp_md* ctx) {
    __u64 folded = 0;
    bpf_for_each_map_elem(&slots, fold_slot, &folded, 0);
    __u32 key = 7;
    __u64* slot = bpf_map_lookup_elem(&slots, &key);
    if (slot) *slot = folded;
    stages_run = stages_run * 10 + 2;
    bpf_tail_call(ctx, &jumps, 2);
    return XDP_DROP;
}

SEC("xdp")
int stage2(struct xdp_md* ctx) {
    void* data = (void*)(long)ctx->data;
    void* end = (void*)(long)ctx->data_end;
    struct ethhdr* eth = data;
    if ((void*)(eth + 1) > end) return XDP_ABORTED;
    __u8 tmp[ETH_ALEN];
    __builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
    __builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
    __builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
    stages_run = stages_run * 10 + 3;
    bpf_tail_call(ctx, &jumps, 0); // an empty slot: falls through
    return XDP_TX;
}

// Tail-calls itself until the kernel's limit stops it.
SEC("xdp")
int again(struct xdp_md* ctx) {
    stages_run += 1;
    bpf_tail_call(ctx, &jumps, 3);
    return stages_run == 34 ? XDP_PASS : XDP_DROP;
}
