// An XDP firewall: IPv4 packets whose source address lies in a blocked prefix are dropped, the
// rest pass. The prefixes live in an LPM trie that user space fills (here: ebpf-run --map-init
// xdp_firewall_rules.json); a per-CPU array counts the verdicts.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct ipv4_lpm_key {
    __u32 prefixlen;
    __u32 addr; // network byte order
};

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __uint(max_entries, 1024);
    __type(key, struct ipv4_lpm_key);
    __type(value, __u32); // the rule's number
} blocked SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, XDP_REDIRECT + 1);
    __type(key, __u32);
    __type(value, __u64);
} verdicts SEC(".maps");

static __always_inline int count(__u32 action) {
    __u64* n = bpf_map_lookup_elem(&verdicts, &action);
    if (n) *n += 1;
    return action;
}

SEC("xdp")
int xdp_firewall(struct xdp_md* ctx) {
    void* data = (void*)(long)ctx->data;
    void* data_end = (void*)(long)ctx->data_end;
    struct ethhdr* eth = data;
    if ((void*)(eth + 1) > data_end) return count(XDP_DROP);
    if (eth->h_proto != bpf_htons(ETH_P_IP)) return count(XDP_PASS);

    struct iphdr* ip = (void*)(eth + 1);
    if ((void*)(ip + 1) > data_end) return count(XDP_DROP);
    struct ipv4_lpm_key key = {.prefixlen = 32, .addr = ip->saddr};
    if (bpf_map_lookup_elem(&blocked, &key)) return count(XDP_DROP);
    return count(XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
