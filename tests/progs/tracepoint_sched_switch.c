/* Tracepoint sched/sched_switch: counts switches to each next pid, remembering its command name
 * and priority, and the preempted (running-state) switches in .bss. The record layout is the
 * tracepoint's format file; the first 8 bytes (common fields) are not the program's to read. */
#include "progs.h"

struct sched_switch {
    __u64 common;
    char prev_comm[16];
    __s32 prev_pid;
    __s32 prev_prio;
    __s64 prev_state;
    char next_comm[16];
    __s32 next_pid;
    __s32 next_prio;
};

struct task_info {
    __u64 switches;
    char comm[16];
    __s32 prio;
    __u32 pad;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 32);
    __type(key, __s32);
    __type(value, struct task_info);
} switched_in SEC(".maps");

__u64 preempted;

SEC("tracepoint/sched/sched_switch")
int tracepoint_sched_switch(struct sched_switch *ctx)
{
    __s32 pid = ctx->next_pid;
    struct task_info *t = bpf_map_lookup_elem(&switched_in, &pid);

    if (ctx->prev_state == 0)
        preempted++;
    if (t) {
        t->switches++;
        t->prio = ctx->next_prio;
        return 0;
    }
    struct task_info nt = {.switches = 1, .prio = ctx->next_prio};

    __builtin_memcpy(nt.comm, ctx->next_comm, sizeof(nt.comm));
    bpf_map_update_elem(&switched_in, &pid, &nt, BPF_NOEXIST);
    return 0;
}
