// The kernel helpers this build implements, each under its kernel name.
#pragma once

#include "helpers/registry.hpp"

namespace ebpf::helpers {

#define EBPF_HELPER_DECL(name)                                                                     \
    uint64_t name(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, RunState* state)

EBPF_HELPER_DECL(ktime_get_ns);
EBPF_HELPER_DECL(ktime_get_boot_ns);
EBPF_HELPER_DECL(ktime_get_coarse_ns);
EBPF_HELPER_DECL(get_smp_processor_id);
EBPF_HELPER_DECL(get_numa_node_id);
EBPF_HELPER_DECL(get_prandom_u32);

#undef EBPF_HELPER_DECL

} // namespace ebpf::helpers
