// Global data: .rodata, .data, .bss, custom .data.* sections, a string constant (merged into
// .rodata.str1.1), a static and a hidden variable (neither exposed to user space, so a section
// holding only such variables is not BPF_F_MMAPABLE).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char _license[] SEC("license") = "GPL";

const volatile __u32 rodata_cfg = 7;
const volatile __u64 rodata_table[2] = {11, 22};
__u32 data_counter = 5;
__u64 data_pair[2] = {1, 2};
__u64 bss_total;
static volatile __u32 bss_static;
__hidden __u32 bss_hidden;
__u32 custom_value SEC(".data.custom") = 42;
__hidden __u32 hidden_only SEC(".data.hidden") = 9;

SEC("tc")
int use_globals(struct __sk_buff* skb) {
    bss_total += rodata_cfg + rodata_table[1];
    data_counter++;
    data_pair[1] += skb->len;
    bss_static++;
    bss_hidden = skb->mark;
    custom_value += hidden_only;
    bpf_trace_printk("len %d\n", sizeof("len %d\n"), skb->len);
    return 0;
}
