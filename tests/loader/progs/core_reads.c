// CO-RE relocations of every kind libbpf supports, against local views of the types that
// core_target.c defines (tests relocate this object against that object's BTF, the running
// kernel's is irrelevant here).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char _license[] SEC("license") = "GPL";

struct core_mm {
    unsigned long total_vm;
} __attribute__((preserve_access_index));

struct core_task {
    int pid;
    int tgid;
    unsigned long flags;
    short nice;
    struct core_mm* mm;
    char comm[16];
    unsigned int prio : 7, policy : 3;
    int missing;
} __attribute__((preserve_access_index));

// Two flavors of one type, for a field the target renamed.
struct core_task___old {
    int old_name;
} __attribute__((preserve_access_index));
struct core_task___new {
    int new_name;
} __attribute__((preserve_access_index));

enum core_state { CS_RUNNING, CS_SLEEPING, CS_LOCAL_ONLY };

struct only_in_target {
    int x;
};
struct not_in_target {
    int y;
};
typedef struct core_mm core_mm_t;

SEC("raw_tracepoint/core")
int core_reads(struct bpf_raw_tracepoint_args* ctx) {
    struct core_task* t = (struct core_task*)ctx->args[0];
    struct core_task___new* tn = (void*)t;
    struct core_task___old* to = (void*)t;
    long r = 0;
    r += BPF_CORE_READ(t, pid);
    r += BPF_CORE_READ(t, mm, total_vm);
    r += bpf_core_field_size(t->comm);
    r += bpf_core_field_exists(t->missing);
    if (bpf_core_field_exists(t->missing)) r += BPF_CORE_READ(t, missing);
    r += BPF_CORE_READ_BITFIELD_PROBED(t, prio);
    r += BPF_CORE_READ_BITFIELD_PROBED(t, policy);
    if (bpf_core_field_exists(tn->new_name))
        r += BPF_CORE_READ(tn, new_name);
    else
        r += BPF_CORE_READ(to, old_name);
    r += bpf_core_type_exists(struct only_in_target);
    r += bpf_core_type_exists(struct not_in_target);
    r += bpf_core_type_size(struct core_task);
    r += bpf_core_type_size(core_mm_t);
    r += bpf_core_type_id_local(struct core_task);
    r += bpf_core_type_id_kernel(struct core_task);
    r += bpf_core_enum_value_exists(enum core_state, CS_LOCAL_ONLY);
    r += bpf_core_enum_value_exists(enum core_state, CS_SLEEPING);
    r += bpf_core_enum_value(enum core_state, CS_SLEEPING);
    // Direct loads: the offset moves, the size may change (unsigned: allowed; signed: poisoned).
    r += t->tgid;
    r += t->flags;
    r += t->comm[3];
    r += t->nice;
    return r;
}
