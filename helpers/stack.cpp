// bpf_get_stackid and bpf_get_stack (kernel/bpf/stackmap.c) over the call chains the host gives
// the run (RunState::kernel_callchain, user_callchain) in place of perf's walk of the stack.
#include "helpers/helper_errno.hpp"
#include "helpers/kernel_helpers.hpp"
#include "maps/stack_trace.hpp"

#include <algorithm>
#include <cstring>

namespace ebpf::helpers {
namespace {

// get_perf_callchain(): the chain BPF_F_USER_STACK names, cut to the frames perf would collect
// for max_depth = room + skip (at most sysctl perf_event_max_stack).
std::span<const uint64_t> callchain(const RunState& state, uint64_t flags, uint32_t room) {
    const auto chain = flags & BPF_F_USER_STACK ? state.user_callchain : state.kernel_callchain;
    const uint64_t max_depth = std::min<uint64_t>(uint64_t{room} + (flags & BPF_F_SKIP_FIELD_MASK),
                                                  sysctl_perf_event_max_stack);
    return chain.first(std::min<uint64_t>(chain.size(), max_depth));
}

} // namespace

uint64_t get_stackid(uint64_t, uint64_t r2, uint64_t r3, uint64_t, uint64_t, RunState* state) {
    auto* map = reinterpret_cast<Map*>(r2);
    if (map->type() != MapType::stack_trace) {
        state->fault(std::string("bpf_get_stackid: a ") + map_type_name(map->type()) +
                     " map is not a stack_trace map");
        return 0;
    }
    constexpr uint64_t known =
        BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK | BPF_F_FAST_STACK_CMP | BPF_F_REUSE_STACKID;
    if (r3 & ~known) return static_cast<uint64_t>(-herr::einval);
    auto* stack_map = static_cast<StackTraceMap*>(map);
    const uint32_t room = map->def().value_size / stack_map->frame_size();
    return static_cast<uint64_t>(stack_map->get_stackid(callchain(*state, r3, room), r3));
}

// Any failure leaves the buffer zeroed; success zero-fills it past the frames copied.
uint64_t get_stack(uint64_t, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t, RunState* state) {
    auto* buf = reinterpret_cast<uint8_t*>(r2);
    const auto size = static_cast<uint32_t>(r3);
    const uint64_t flags = r4;
    const bool user = flags & BPF_F_USER_STACK, user_build_id = flags & BPF_F_USER_BUILD_ID;
    const uint32_t skip = flags & BPF_F_SKIP_FIELD_MASK;
    const uint32_t elem_size = user_build_id ? BPF_STACK_BUILD_ID_SIZE : 8;
    long err = -herr::einval;
    if (!(flags & ~(BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK | BPF_F_USER_BUILD_ID)) &&
        (user || !user_build_id) && size % elem_size == 0) {
        const auto trace = callchain(*state, flags, size / elem_size);
        err = -herr::efault;
        if (trace.size() >= skip) {
            const auto ips = trace.subspan(skip);
            const uint32_t copy_len = static_cast<uint32_t>(ips.size()) * elem_size;
            if (user_build_id)
                stack_build_id_fallback(buf, ips);
            else
                std::memcpy(buf, ips.data(), copy_len);
            std::memset(buf + copy_len, 0, size - copy_len);
            return copy_len;
        }
    }
    std::memset(buf, 0, size);
    return static_cast<uint64_t>(err);
}

} // namespace ebpf::helpers
