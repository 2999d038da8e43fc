// CO-RE against the running kernel's BTF, as bcc's libbpf-tools write it: local views of
// kernel structs with preserve_access_index, a ___flavor for a renamed field
// (task_struct->state became __state in 5.14), and kernel enum values.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char _license[] SEC("license") = "GPL";

struct mm_struct {
    unsigned long total_vm;
} __attribute__((preserve_access_index));

struct task_struct {
    int pid;
    int tgid;
    unsigned int __state;
    struct mm_struct* mm;
    struct task_struct* real_parent;
    char comm[16];
} __attribute__((preserve_access_index));

struct task_struct___pre514 {
    long state;
} __attribute__((preserve_access_index));

enum bpf_map_type___local { BPF_MAP_TYPE_RINGBUF___local = 27 };

SEC("raw_tracepoint/sched_switch")
int core_task(struct bpf_raw_tracepoint_args* ctx) {
    struct task_struct* t = (struct task_struct*)ctx->args[0];
    long r = BPF_CORE_READ(t, real_parent, tgid);
    r += BPF_CORE_READ(t, mm, total_vm);
    if (bpf_core_field_exists(t->__state))
        r += BPF_CORE_READ(t, __state);
    else
        r += BPF_CORE_READ((struct task_struct___pre514*)t, state);
    r += bpf_core_type_size(struct task_struct);
    r += bpf_core_enum_value(enum bpf_map_type___local, BPF_MAP_TYPE_RINGBUF___local);
    r += bpf_core_type_id_kernel(struct mm_struct);
    return r;
}
