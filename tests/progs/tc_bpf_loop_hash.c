/* tc classifier fingerprinting payloads: copies up to 32 bytes after the UDP header with
 * bpf_skb_load_bytes, then hashes them (FNV-1a) in a bpf_loop callback that stops early at a
 * zero byte. The hash and the number of bytes hashed are kept per destination port. */
#include "progs.h"

#define MAX_BYTES 32

struct hash_ctx {
    __u8 buf[MAX_BYTES];
    __u32 len;
    __u32 hashed;
    __u32 hash;
};

struct fingerprint {
    __u32 hash;
    __u32 hashed;
    __s64 loops; /* what bpf_loop returned */
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, struct fingerprint);
} fingerprints SEC(".maps");

static int fnv_step(__u32 index, struct hash_ctx *c)
{
    __u8 byte;

    if (index >= c->len || index >= MAX_BYTES)
        return 1;
    /* The verifier loses the bound when the compiler widens index again, and the compiler
     * would drop the mask as redundant: the empty asm keeps the mask. */
    asm volatile("" : "+r"(index));
    byte = c->buf[index & (MAX_BYTES - 1)];
    if (byte == 0)
        return 1; /* stop: the rest is padding */
    c->hash = (c->hash ^ byte) * 16777619u;
    c->hashed++;
    return 0;
}

SEC("tc")
int tc_bpf_loop_hash(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    struct frame f = {};
    struct hash_ctx c = {.hash = 2166136261u};
    struct fingerprint fp = {};
    __u32 payload, port;
    long n;

    if (parse_frame(data, data_end, &f) < 0 || f.l4_proto != IPPROTO_UDP)
        return TC_ACT_OK;
    payload = f.l4_off + sizeof(struct udphdr);
    c.len = skb->len > payload ? skb->len - payload : 0;
    if (c.len > MAX_BYTES)
        c.len = MAX_BYTES;
    if (c.len == 0 || bpf_skb_load_bytes(skb, payload, c.buf, c.len) < 0)
        return TC_ACT_SHOT;
    n = bpf_loop(MAX_BYTES, fnv_step, &c, 0);
    fp.hash = c.hash;
    fp.hashed = c.hashed;
    fp.loops = n;
    port = f.dport;
    bpf_map_update_elem(&fingerprints, &port, &fp, BPF_ANY);
    return TC_ACT_OK;
}
