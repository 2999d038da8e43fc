// A strong kfunc extern: nothing in this VM can resolve it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char _license[] SEC("license") = "GPL";

extern int bpf_test_strong_kfunc(int x) __ksym;

SEC("socket")
int call_kfunc(struct __sk_buff* skb) {
    return bpf_test_strong_kfunc(1);
}
