// bpf_strncmp (kernel/bpf/helpers.c): the kernel's strncmp of s1's first s1_sz bytes with the
// constant string s2 (the verifier proved it NUL-terminated in a read-only map), which answers
// -1, 0 or 1 as lib/string.c's does, not the bytes' difference.
#include "helpers/kernel_helpers.hpp"

namespace ebpf::helpers {

uint64_t strncmp(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t, uint64_t, RunState*) {
    const auto* s1 = reinterpret_cast<const unsigned char*>(r1);
    const auto* s2 = reinterpret_cast<const unsigned char*>(r3);
    for (uint64_t i = 0; i < static_cast<uint32_t>(r2); ++i) {
        if (s1[i] != s2[i]) return s1[i] < s2[i] ? static_cast<uint64_t>(-1) : 1;
        if (s1[i] == 0) break;
    }
    return 0;
}

} // namespace ebpf::helpers
