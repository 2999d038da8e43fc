// ebpf-run's input tests: a program of each kind of input, returning what it read.
#include <linux/bpf.h>
#include <linux/bpf_perf_event.h>
#include <linux/pkt_cls.h>
#include <linux/ptrace.h>

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("kprobe/do_nothing")
int kprobe_sum(struct pt_regs* ctx) {
    return PT_REGS_PARM1(ctx) + PT_REGS_PARM2(ctx);
}

// A u32 at offset 16 of the current task_struct plus the one the first argument points to in user
// memory; -1 and -2 when the reads fault.
SEC("kprobe/do_read")
int kprobe_task(struct pt_regs* ctx) {
    __u32 in_task = 0, in_user = 0;
    long task = bpf_get_current_task();
    if (bpf_probe_read_kernel(&in_task, sizeof in_task, (void*)(task + 16))) return -1;
    if (bpf_probe_read_user(&in_user, sizeof in_user, (void*)PT_REGS_PARM1(ctx))) return -2;
    return in_task + in_user;
}

struct record {
    __u64 common; // hidden from the program
    __u32 a;
    __u32 b;
};

SEC("tracepoint/test/record")
int tracepoint_field(struct record* ctx) {
    return ctx->b;
}

SEC("raw_tracepoint/test")
int raw_tp_arg(struct bpf_raw_tracepoint_args* ctx) {
    return ctx->args[1];
}

SEC("perf_event")
int perf_event_period(struct bpf_perf_event_data* ctx) {
    return ctx->sample_period;
}

SEC("cgroup_skb/ingress")
int cgroup_allow(struct __sk_buff* skb) {
    return skb->len > 20; // from the IP header on
}

SEC("tc")
int tc_mark(struct __sk_buff* skb) {
    void* data = (void*)(long)skb->data;
    void* data_end = (void*)(long)skb->data_end;
    unsigned char* p = data;
    if ((void*)(p + 1) > data_end) return TC_ACT_SHOT;
    p[0] = 0xee; // the first byte of the destination MAC
    return TC_ACT_OK;
}

// Reads the mark the context came with and leaves its double as the priority and in cb[0].
SEC("tc")
int tc_ctx(struct __sk_buff* skb) {
    skb->priority = skb->mark * 2;
    skb->cb[0] = skb->mark * 2;
    return skb->mark;
}

// A copy of the packet to the loopback's ingress, and the packet on its way.
SEC("tc")
int tc_mirror(struct __sk_buff* skb) {
    return bpf_clone_redirect(skb, 1, BPF_F_INGRESS) ? TC_ACT_SHOT : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
