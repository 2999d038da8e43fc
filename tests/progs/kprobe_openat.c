/* kprobe on do_sys_openat2(dfd, filename, how) and its kretprobe: counts opens per directory fd
 * (AT_FDCWD and the rest), keeps the last filename pointer seen, and a log2 histogram of the
 * returned fds (errors in bucket 0). Built for x86-64's pt_regs. */
#define __TARGET_ARCH_x86
#include "progs.h"

#include <asm/ptrace.h> /* the x86-64 struct pt_regs */
#include <bpf/bpf_tracing.h>

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __s32);
    __type(value, __u64);
} opens_by_dfd SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u64);
} fd_log2 SEC(".maps");

__u64 last_filename;

SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(kprobe_openat, int dfd, const char *filename)
{
    __s32 key = dfd;
    __u64 one = 1, *n;

    last_filename = (__u64)filename;
    n = bpf_map_lookup_elem(&opens_by_dfd, &key);
    if (n)
        __sync_fetch_and_add(n, 1);
    else
        bpf_map_update_elem(&opens_by_dfd, &key, &one, BPF_NOEXIST);
    return 0;
}

SEC("kretprobe/do_sys_openat2")
int BPF_KRETPROBE(kretprobe_openat, long ret)
{
    __u32 bucket = 0;
    __u64 *n;

    if (ret > 0) {
        for (__u64 v = ret; v > 1 && bucket < 15; v >>= 1)
            bucket++;
        bucket++;
    }
    n = bpf_map_lookup_elem(&fd_log2, &bucket);
    if (n)
        __sync_fetch_and_add(n, 1);
    return 0;
}
