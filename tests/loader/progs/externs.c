// __kconfig externs of every type libbpf accepts and libbpf's virtual LINUX_* ones.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char _license[] SEC("license") = "GPL";

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern _Bool LINUX_HAS_BPF_COOKIE __kconfig;
extern _Bool CONFIG_TEST_BOOL __kconfig;
extern enum libbpf_tristate CONFIG_TEST_TRISTATE __kconfig;
extern char CONFIG_TEST_CHAR __kconfig;
extern unsigned long CONFIG_TEST_ULONG __kconfig;
extern int CONFIG_TEST_INT __kconfig;
extern unsigned short CONFIG_TEST_USHORT __kconfig;
extern const char CONFIG_TEST_STR[8] __kconfig;
extern int CONFIG_TEST_MISSING __kconfig __weak;

SEC("socket")
int read_externs(struct __sk_buff* skb) {
    long r = LINUX_KERNEL_VERSION + LINUX_HAS_BPF_COOKIE + CONFIG_TEST_BOOL;
    r += CONFIG_TEST_TRISTATE == TRI_MODULE;
    r += CONFIG_TEST_CHAR + CONFIG_TEST_ULONG + CONFIG_TEST_INT + CONFIG_TEST_USHORT;
    r += CONFIG_TEST_STR[0] + CONFIG_TEST_MISSING;
    return r;
}
