/* perf_event sampling profiler: counts samples per instruction pointer (from the sampled
 * registers) weighted by the sample period, and remembers the last sampled address. */
#define __TARGET_ARCH_x86
#include "progs.h"

#include <linux/bpf_perf_event.h>
#include <bpf/bpf_tracing.h>

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u64);
    __type(value, __u64);
} weight_by_ip SEC(".maps");

/* One .bss variable, so that its layout is the struct's. */
struct {
    __u64 samples;
    __u64 last_addr;
} totals;

SEC("perf_event")
int perf_event_sampler(struct bpf_perf_event_data *ctx)
{
    __u64 ip = PT_REGS_IP(&ctx->regs);
    __u64 period = ctx->sample_period, *w;

    totals.samples++;
    totals.last_addr = ctx->addr;
    w = bpf_map_lookup_elem(&weight_by_ip, &ip);
    if (w) {
        __sync_fetch_and_add(w, period);
        return 0;
    }
    bpf_map_update_elem(&weight_by_ip, &ip, &period, BPF_NOEXIST);
    return 0;
}
