// The probe types' helpers that report on the attachment (kernel/trace/bpf_trace.c):
// bpf_get_func_ip and bpf_get_attach_cookie, from what the host sets in the run's state for the
// probe it stands in for (RunState::func_ip, RunState::attach_cookie).
#include "vm/progtypes/progtype_helpers.hpp"

namespace ebpf::progtypes {

uint64_t get_func_ip(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunState* state) {
    return state->func_ip;
}

uint64_t get_attach_cookie(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunState* state) {
    return state->attach_cookie;
}

} // namespace ebpf::progtypes
