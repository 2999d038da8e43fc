#include "helpers/kernel_helpers.hpp"
#include "helpers/kernel_ids.hpp"

namespace ebpf {

void register_kernel_helpers(HelperRegistry& registry) {
#define EBPF_REGISTER(name)                                                                        \
    registry.add(static_cast<int32_t>(KernelHelper::name), "bpf_" #name, helpers::name)
    EBPF_REGISTER(ktime_get_ns);
    EBPF_REGISTER(ktime_get_boot_ns);
    EBPF_REGISTER(ktime_get_coarse_ns);
    EBPF_REGISTER(get_smp_processor_id);
    EBPF_REGISTER(get_numa_node_id);
    EBPF_REGISTER(get_prandom_u32);
#undef EBPF_REGISTER
}

} // namespace ebpf
