// bpf_trace_printk (kernel/trace/bpf_trace.c), whose lines go to the host's RunState::trace_pipe
// as the kernel's go to the trace pipe, and bpf_snprintf (kernel/bpf/helpers.c).
#include "helpers/bprintf.hpp"
#include "helpers/helper_errno.hpp"
#include "helpers/kernel_helpers.hpp"

#include <cstring>

namespace ebpf::helpers {

// At most 3 arguments; the line is what fits in MAX_BPRINTF_BUF up to its first NUL, the return
// value the length of everything the format printed.
uint64_t trace_printk(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                      RunState* state) {
    const uint64_t args[3] = {r3, r4, r5};
    Formatted f =
        bprintf(*state, reinterpret_cast<const char*>(r1), static_cast<uint32_t>(r2), args);
    if (f.err) return static_cast<uint64_t>(f.err);
    if (state->trace_pipe) {
        const size_t n = std::min<size_t>(f.text.size(), max_bprintf_buf - 1);
        state->trace_pipe->emplace_back(f.text.data(), strnlen(f.text.data(), n));
    }
    return f.text.size();
}

// bpf_snprintf(str, str_size, fmt, data, data_len): data holds data_len / 8 u64 arguments; the
// output is cut to str_size bytes, NUL included, and the return value is the untruncated length
// plus the NUL.
uint64_t snprintf(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                  RunState* state) {
    auto* str = reinterpret_cast<char*>(r1);
    const auto str_size = static_cast<uint32_t>(r2);
    const auto data_len = static_cast<uint32_t>(r5);
    if (data_len % 8 || data_len > max_bprintf_varargs * 8 || (data_len && !r4))
        return static_cast<uint64_t>(-herr::einval);
    uint64_t args[max_bprintf_varargs];
    if (data_len) std::memcpy(args, reinterpret_cast<const void*>(r4), data_len);
    Formatted f = bprintf(*state, reinterpret_cast<const char*>(r3), UINT32_MAX,
                          std::span<const uint64_t>(args, data_len / 8));
    if (f.err) return static_cast<uint64_t>(f.err);
    if (str_size) {
        const size_t n = std::min<size_t>(f.text.size(), str_size - 1);
        std::memcpy(str, f.text.data(), n);
        str[n] = 0;
    }
    return f.text.size() + 1;
}

} // namespace ebpf::helpers
