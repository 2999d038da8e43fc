// A single function in .text and no SEC(): libbpf v1.1 makes it a program of type unspec.
int entry(void* ctx) {
    return 1;
}

char _license[] __attribute__((section("license"))) = "GPL";
