// Weak __ksym externs, which this VM cannot resolve: the program must take its fallback path
// (libbpf 1.1 itself refuses weak kfuncs; later versions resolve them to nothing like this).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char _license[] SEC("license") = "GPL";

// libbpf 1.1's bpf_helpers.h predates it.
#define bpf_ksym_exists(sym) (!!(sym))

extern int bpf_test_kfunc(int x) __ksym __weak;
extern const void bpf_test_ksym __ksym __weak;

SEC("socket")
int weak_ksyms(struct __sk_buff* skb) {
    int r = 1;
    if (bpf_ksym_exists(bpf_test_kfunc)) r += bpf_test_kfunc(1);
    if (&bpf_test_ksym) r += 2;
    return r;
}
