// A socket filter that counts packets and bytes per IP protocol and keeps every packet. As on a
// socket of the IP family (and in the kernel's test run of socket filters), the packet starts at
// its IP header, where the legacy LD_ABS loads (load_byte) read.
#include <linux/bpf.h>
#include <linux/ip.h>
#include <stddef.h>

#include <bpf/bpf_helpers.h>

unsigned long long load_byte(void* skb, unsigned long long off) asm("llvm.bpf.load.byte");

struct counts {
    __u64 packets;
    __u64 bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 256);
    __type(key, __u32); // the IP protocol number
    __type(value, struct counts);
} by_protocol SEC(".maps");

SEC("socket")
int socket_counter(struct __sk_buff* skb) {
    __u32 protocol = load_byte(skb, offsetof(struct iphdr, protocol));
    struct counts* c = bpf_map_lookup_elem(&by_protocol, &protocol);
    if (!c) {
        struct counts zero = {};
        bpf_map_update_elem(&by_protocol, &protocol, &zero, BPF_NOEXIST);
        c = bpf_map_lookup_elem(&by_protocol, &protocol);
        if (!c) return skb->len;
    }
    __sync_fetch_and_add(&c->packets, 1);
    __sync_fetch_and_add(&c->bytes, skb->len);
    return skb->len; // keep the whole packet
}

char LICENSE[] SEC("license") = "GPL";
