// A kprobe on tcp_sendmsg(struct sock *sk, struct msghdr *msg, size_t size): a log2 histogram
// of the sizes sent, an event per call in a ring buffer, and a trace_printk line. ebpf-run gives
// it the registers of a call with --regs (on x86-64 the third argument is in rdx).
#include <linux/bpf.h>
#include <linux/ptrace.h>

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct event {
    __u32 pid;
    __u32 size;
    char comm[16];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u32); // log2(size)
    __type(value, __u64);
} sizes SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} events SEC(".maps");

static __always_inline __u32 log2(__u64 v) {
    __u32 r = 0;
    for (int i = 0; i < 63 && v > 1; i++) {
        v >>= 1;
        r++;
    }
    return r;
}

SEC("kprobe/tcp_sendmsg")
int BPF_KPROBE(kprobe_sendmsg, void* sk, void* msg, __u64 size) {
    __u32 pid = bpf_get_current_pid_tgid() >> 32;
    __u32 bucket = log2(size);
    __u64 one = 1;
    __u64* n = bpf_map_lookup_elem(&sizes, &bucket);
    if (n)
        __sync_fetch_and_add(n, 1);
    else
        bpf_map_update_elem(&sizes, &bucket, &one, BPF_NOEXIST);

    struct event* e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (e) {
        e->pid = pid;
        e->size = size;
        bpf_get_current_comm(e->comm, sizeof(e->comm));
        bpf_ringbuf_submit(e, 0);
    }
    bpf_printk("tcp_sendmsg: %llu bytes, bucket %u", size, bucket);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
