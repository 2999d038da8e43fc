#include "jit/runtime.hpp"

namespace ebpf::jit {

uint64_t callx_trampoline(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                          JitRunContext* ctx) {
    const uint64_t id = ctx->callx_id;
    const Helper* h = id <= INT32_MAX ? ctx->helpers->find(static_cast<int32_t>(id)) : nullptr;
    if (!h) {
        ctx->exit = JitExit::callx_unknown;
        return 0;
    }
    const uint64_t r0 = h->fn(r1, r2, r3, r4, r5, ctx->state);
    if (ctx->state->faulted()) ctx->exit = JitExit::helper_fault;
    return r0;
}

const RunStateLayout& run_state_layout() {
    static const RunStateLayout layout = [] {
        const RunState probe;
        const auto at = [&](const void* field) {
            return static_cast<int32_t>(static_cast<const char*>(field) -
                                        reinterpret_cast<const char*>(&probe));
        };
        return RunStateLayout{at(&probe.fault_flag()), at(&probe.packet), at(&probe.packet_len)};
    }();
    return layout;
}

} // namespace ebpf::jit
