// Checked mode for kernel helpers, driven by their prototypes: before a checked run's helper
// touches what its pointer arguments lead to, every byte it will read or write is checked against
// the memory the run may touch, and a map argument against the maps the run knows. Fast mode
// (verified programs) trusts the verifier, as the kernel does.
#pragma once

#include "helpers/kernel_ids.hpp"
#include "helpers/proto.hpp"
#include "helpers/registry.hpp"

namespace ebpf {

// True when the call's arguments are fit for the prototype; otherwise the run faulted with a
// message that names the helper, the register and the memory.
bool check_helper_args(RunState& state, int32_t id, const HelperProto* proto,
                       const uint64_t (&regs)[5]);

template <KernelHelper Id, HelperFn Fn>
uint64_t checked_helper(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                        RunState* state) {
    if (state->checked) {
        static const HelperProto* const proto = kernel_helper_proto(static_cast<int32_t>(Id));
        const uint64_t regs[5] = {r1, r2, r3, r4, r5};
        if (!check_helper_args(*state, static_cast<int32_t>(Id), proto, regs)) return 0;
    }
    return Fn(r1, r2, r3, r4, r5, state);
}

// Registers Fn under the kernel's id and name, checked against the kernel's prototype.
template <KernelHelper Id, HelperFn Fn> void add_kernel_helper(HelperRegistry& registry) {
    const auto id = static_cast<int32_t>(Id);
    registry.add(id, kernel_helper_name(id), &checked_helper<Id, Fn>);
}

} // namespace ebpf
