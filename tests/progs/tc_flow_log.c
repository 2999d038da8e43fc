/* tc flow logger: formats each IPv4 TCP/UDP packet as "proto saddr:sport -> daddr:dport len" with
 * bpf_snprintf (%pI4 reads the addresses from the stack) into a log array indexed by a sequence
 * number, and writes a shorter line to the trace pipe with bpf_trace_printk. Return values (the
 * formatted lengths) are kept too. The coarse clock, whose value differs from run to run, only
 * proves it moves: a first reading is never after a second one. */
#include "progs.h"

struct line {
    char text[64];
    __s64 snprintf_ret;
    __s64 printk_ret;
    __u8 coarse_ordered;
    __u8 pad[7];
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, struct line);
} log_lines SEC(".maps");

__u32 seq;

SEC("tc")
int tc_flow_log(struct __sk_buff *skb)
{
    static const char line_fmt[] = "%s %pI4:%u -> %pI4:%u %u";
    static const char printk_fmt[] = "flow len=%u proto=%u\n";
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    struct frame f = {};
    struct line *l;
    __u64 args[6];
    __u64 c1, c2;
    __u32 key;

    if (parse_frame(data, data_end, &f) < 0 || f.ip_version != 4)
        return TC_ACT_OK;
    if (f.l4_proto != IPPROTO_TCP && f.l4_proto != IPPROTO_UDP)
        return TC_ACT_OK;
    key = seq++ & 7;
    l = bpf_map_lookup_elem(&log_lines, &key);
    if (!l)
        return TC_ACT_OK;
    args[0] = (__u64)(f.l4_proto == IPPROTO_TCP ? "tcp" : "udp");
    args[1] = (__u64)&f.saddr;
    args[2] = f.sport;
    args[3] = (__u64)&f.daddr;
    args[4] = f.dport;
    args[5] = skb->len;
    l->snprintf_ret = bpf_snprintf(l->text, sizeof(l->text), line_fmt, args, sizeof(args));
    l->printk_ret = bpf_trace_printk(printk_fmt, sizeof(printk_fmt), skb->len, f.l4_proto);
    c1 = bpf_ktime_get_coarse_ns();
    c2 = bpf_ktime_get_coarse_ns();
    l->coarse_ordered = c1 <= c2 && c1 != 0;
    return TC_ACT_OK;
}
