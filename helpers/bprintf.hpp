// The printf engine of bpf_trace_printk and bpf_snprintf: bpf_bprintf_prepare's checks on the
// format (kernel/bpf/helpers.c) and what bstr_printf then prints.
//
// Conversions: %d %i %u %x %X with the l and ll sizes, the flags 0 + - and space and a width; %c;
// %s, %pks and %pus (strings read as the kernel reads them, helpers/memory_image.hpp); %p, %pK,
// %px; %ps, %pS and %pB; %pI4 %pi4 %pI6 %pi6; %%. Anything else is -EINVAL, as are non-printable
// characters and more conversions than arguments. Strings share the kernel's 512-byte argument
// buffer and are cut to what is left of it (-ENOSPC when nothing is).
//
// Deviations: %p and %pK print the pointer's value where the kernel prints a hash of it (the same
// 16 hex digits), and the symbol forms print "0x" and the address, as the kernel does for an
// address no symbol covers.
#pragma once

#include "helpers/run_state.hpp"

#include <span>
#include <string>

namespace ebpf::helpers {

inline constexpr uint32_t max_bprintf_varargs = 12, max_bprintf_buf = 1024;

struct Formatted {
    long err = 0;     // 0, or -EINVAL / -ENOSPC as bpf_bprintf_prepare answers
    std::string text; // everything bstr_printf would print, however long
};

// fmt ends at its first NUL, which must lie in its first fmt_size bytes.
Formatted bprintf(const RunState& state, const char* fmt, uint64_t fmt_size,
                  std::span<const uint64_t> args);

} // namespace ebpf::helpers
