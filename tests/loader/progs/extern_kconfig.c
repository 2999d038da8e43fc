// A kconfig extern: the loader has no kernel configuration to resolve it from.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char _license[] SEC("license") = "GPL";

extern unsigned int LINUX_KERNEL_VERSION __kconfig;

SEC("socket")
int read_kconfig(struct __sk_buff* skb) {
    return LINUX_KERNEL_VERSION > 0x050f00;
}
