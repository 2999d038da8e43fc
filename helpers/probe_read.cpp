// bpf_probe_read_kernel, _user and the legacy bpf_probe_read (kernel/trace/bpf_trace.c), and their
// _str forms, over the run's memory and the host's memory images (helpers/memory_image.hpp).
#include "helpers/kernel_helpers.hpp"
#include "helpers/memory_image.hpp"

#include <algorithm>
#include <cstring>

namespace ebpf::helpers {
namespace {

// A failed read leaves no stale bytes: the buffer is zeroed, as the kernel does.
uint64_t finish(long ret, void* dst, uint32_t size) {
    if (ret < 0) std::memset(dst, 0, size);
    return static_cast<uint64_t>(ret);
}

void* dst_of(uint64_t r) {
    return reinterpret_cast<void*>(r);
}

} // namespace

uint64_t probe_read_kernel(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t, uint64_t,
                           RunState* state) {
    const auto size = static_cast<uint32_t>(r2);
    return finish(copy_from_kernel(*state, dst_of(r1), r3, size), dst_of(r1), size);
}

uint64_t probe_read_user(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t, uint64_t,
                         RunState* state) {
    const auto size = static_cast<uint32_t>(r2);
    return finish(copy_from_user(*state, dst_of(r1), r3, size), dst_of(r1), size);
}

uint64_t probe_read_kernel_str(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t, uint64_t,
                               RunState* state) {
    const auto size = static_cast<uint32_t>(r2);
    return finish(strncpy_from_kernel(*state, static_cast<char*>(dst_of(r1)), r3, size), dst_of(r1),
                  size);
}

uint64_t probe_read_user_str(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t, uint64_t,
                             RunState* state) {
    const auto size = static_cast<uint32_t>(r2);
    return finish(strncpy_from_user(*state, static_cast<char*>(dst_of(r1)), r3, size), dst_of(r1),
                  size);
}

// bpf_probe_read_compat: a user address reads user memory, any other kernel memory. The run's own
// memory is kernel memory wherever the host placed it.
uint64_t probe_read(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                    RunState* state) {
    const bool own = state->accessible(r3, std::max<uint64_t>(1, static_cast<uint32_t>(r2)), false);
    if (r3 < task_size && !own) return probe_read_user(r1, r2, r3, r4, r5, state);
    return probe_read_kernel(r1, r2, r3, r4, r5, state);
}

uint64_t probe_read_str(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                        RunState* state) {
    if (r3 < task_size && !state->accessible(r3, 1, false))
        return probe_read_user_str(r1, r2, r3, r4, r5, state);
    return probe_read_kernel_str(r1, r2, r3, r4, r5, state);
}

} // namespace ebpf::helpers
