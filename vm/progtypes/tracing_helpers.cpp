// The probe types' helpers that report on the attachment and the perf event
// (kernel/trace/bpf_trace.c): bpf_get_func_ip and bpf_get_attach_cookie, bpf_perf_prog_read_value
// and bpf_read_branch_records, from what the host sets in the run's state for the probe or event
// it stands in for (RunState::func_ip, attach_cookie, perf_event_value, branch_records).
#include "helpers/helper_errno.hpp"
#include "vm/progtypes/progtype_helpers.hpp"

#include <algorithm>
#include <cstring>

namespace ebpf::progtypes {

uint64_t get_func_ip(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunState* state) {
    return state->func_ip;
}

uint64_t get_attach_cookie(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunState* state) {
    return state->attach_cookie;
}

// The event's count, into a struct bpf_perf_event_value of exactly its size (else cleared,
// -EINVAL).
uint64_t perf_prog_read_value(uint64_t, uint64_t r2, uint64_t r3, uint64_t, uint64_t,
                              RunState* state) {
    auto* buf = reinterpret_cast<uint8_t*>(r2);
    const auto size = static_cast<uint32_t>(r3);
    if (size != sizeof state->perf_event_value) {
        std::memset(buf, 0, size);
        return static_cast<uint64_t>(-herr::einval);
    }
    std::memcpy(buf, state->perf_event_value.data(), size);
    return 0;
}

// BPF_F_GET_BRANCH_RECORDS_SIZE asks for the bytes the records take; otherwise as many whole
// records as fit are copied and their bytes returned (x86-64's behaviour; -ENOENT without a
// branch stack).
uint64_t read_branch_records(uint64_t, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t,
                             RunState* state) {
    constexpr uint64_t BPF_F_GET_BRANCH_RECORDS_SIZE = 1;
    constexpr uint32_t br_entry_size = 24;
    const auto einval = static_cast<uint64_t>(-herr::einval);
    if (r4 & ~BPF_F_GET_BRANCH_RECORDS_SIZE) return einval;
    const auto bytes = static_cast<uint32_t>(state->branch_records.size() / 3 * br_entry_size);
    if (state->branch_records.empty()) return static_cast<uint64_t>(-herr::enoent);
    if (r4 & BPF_F_GET_BRANCH_RECORDS_SIZE) return bytes;
    const auto size = static_cast<uint32_t>(r3);
    if (!r2 || size % br_entry_size) return einval;
    const uint32_t to_copy = std::min(bytes, size);
    if (state->checked && !state->accessible(r2, to_copy, true)) {
        state->fault("bpf_read_branch_records: R2 is not memory the run may write");
        return 0;
    }
    std::memcpy(reinterpret_cast<void*>(r2), state->branch_records.data(), to_copy);
    return to_copy;
}

} // namespace ebpf::progtypes
