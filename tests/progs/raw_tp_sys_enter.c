/* Raw tracepoint on sys_enter (args: the syscall's pt_regs pointer, the syscall number): per
 * syscall number, counts calls and records what the tracing helpers say about the caller, each
 * reduced to a fact that holds on every run (a raw timestamp or pid would not compare): the task
 * identity helpers, the clocks' ordering, a prandom-driven sampler configured to always sample,
 * the CPU and NUMA node, and the result of every probe_read flavour on the regs pointer (the
 * inputs give pointers that fault). A perf event record goes out for each call. */
#include "progs.h"

const volatile __u32 sample_percent = 100;

struct facts {
    __u64 calls;
    __u32 cpu;
    __u32 numa_node;
    __u8 pid_tgid_set;
    __u8 uid_is_gid;
    __u8 comm_ok;
    __u8 clocks_ordered;
    __u8 jiffies_set;
    __u8 sampled;
    __u8 faulted_bytes_zero;
    __u8 pad;
    __s32 read_kernel;
    __s32 read_kernel_str;
    __s32 read_user;
    __s32 read_user_str;
    __s32 read_legacy;
    __s32 read_legacy_str;
    __s32 perf_output;
};

struct record {
    __u64 syscall;
    __u64 regs;
    __u64 calls;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u64);
    __type(value, struct facts);
} by_syscall SEC(".maps");

/* Sized for up to 128 CPUs (tc_perf_sample leaves the size to libbpf: one slot a CPU). */
struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(max_entries, 128);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} calls SEC(".maps");

/* ORs the buffer's bytes: zero when a faulting read cleared it as the helpers promise. */
static __always_inline __u8 or_bytes(const __u8 *buf, int n)
{
    __u8 acc = 0;

    for (int i = 0; i < n; i++)
        acc |= buf[i];
    return acc;
}

static __always_inline void read_all(struct facts *f, const void *ptr)
{
    __u8 buf[16], any = 0;

    __builtin_memset(buf, 0xff, sizeof(buf));
    f->read_kernel = bpf_probe_read_kernel(buf, sizeof(buf), ptr);
    any |= f->read_kernel < 0 ? or_bytes(buf, sizeof(buf)) : 0;
    __builtin_memset(buf, 0xff, sizeof(buf));
    f->read_kernel_str = bpf_probe_read_kernel_str(buf, sizeof(buf), ptr);
    any |= f->read_kernel_str < 0 ? or_bytes(buf, sizeof(buf)) : 0;
    __builtin_memset(buf, 0xff, sizeof(buf));
    f->read_user = bpf_probe_read_user(buf, sizeof(buf), ptr);
    any |= f->read_user < 0 ? or_bytes(buf, sizeof(buf)) : 0;
    __builtin_memset(buf, 0xff, sizeof(buf));
    f->read_user_str = bpf_probe_read_user_str(buf, sizeof(buf), ptr);
    any |= f->read_user_str < 0 ? or_bytes(buf, sizeof(buf)) : 0;
    __builtin_memset(buf, 0xff, sizeof(buf));
    f->read_legacy = bpf_probe_read(buf, sizeof(buf), ptr);
    any |= f->read_legacy < 0 ? or_bytes(buf, sizeof(buf)) : 0;
    __builtin_memset(buf, 0xff, sizeof(buf));
    f->read_legacy_str = bpf_probe_read_str(buf, sizeof(buf), ptr);
    any |= f->read_legacy_str < 0 ? or_bytes(buf, sizeof(buf)) : 0;
    f->faulted_bytes_zero = any == 0;
}

SEC("raw_tracepoint/sys_enter")
int raw_tp_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
    __u64 id = ctx->args[1];
    struct facts *f, init = {};
    struct record rec = {};
    __u64 pid_tgid, uid_gid, t1, t2, boot;
    char comm[16];
    long comm_ret;

    f = bpf_map_lookup_elem(&by_syscall, &id);
    if (!f) {
        bpf_map_update_elem(&by_syscall, &id, &init, BPF_NOEXIST);
        f = bpf_map_lookup_elem(&by_syscall, &id);
        if (!f)
            return 1;
    }
    f->calls++;
    pid_tgid = bpf_get_current_pid_tgid();
    f->pid_tgid_set = (pid_tgid >> 32) != 0 && (__u32)pid_tgid != 0;
    uid_gid = bpf_get_current_uid_gid();
    f->uid_is_gid = (uid_gid >> 32) == (__u32)uid_gid;
    comm_ret = bpf_get_current_comm(comm, sizeof(comm));
    f->comm_ok = comm_ret == 0 && comm[0] != 0 && comm[15] == 0;
    /* Monotonic, and boot time is monotonic time plus the time spent suspended. */
    t1 = bpf_ktime_get_ns();
    t2 = bpf_ktime_get_ns();
    boot = bpf_ktime_get_boot_ns();
    f->clocks_ordered = t1 <= t2 && t2 <= boot;
    f->jiffies_set = bpf_jiffies64() != 0;
    f->sampled = bpf_get_prandom_u32() % 100 < sample_percent;
    f->cpu = bpf_get_smp_processor_id();
    f->numa_node = bpf_get_numa_node_id();
    read_all(f, (const void *)ctx->args[0]);
    rec.syscall = id;
    rec.regs = ctx->args[0];
    rec.calls = f->calls;
    f->perf_output = bpf_perf_event_output(ctx, &calls, BPF_F_CURRENT_CPU, &rec, sizeof(rec));
    return 0;
}
