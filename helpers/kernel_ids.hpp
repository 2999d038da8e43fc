// The kernel's helper ids as an enum (BPF_FUNC_map_lookup_elem = 1, ...).
#pragma once

#include <cstdint>

namespace ebpf {

#include "helpers/kernel_helpers.def"

enum class KernelHelper : int32_t {
#define EBPF_X_HELPER(name, id) name = id,
    EBPF_KERNEL_HELPERS(EBPF_X_HELPER)
#undef EBPF_X_HELPER
};

} // namespace ebpf
