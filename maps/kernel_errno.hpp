// The kernel's errno numbers, which map operations and helpers return negated on every host:
// Windows and macOS number some of them differently, and ENOTSUPP (524) is the kernel's own.
#pragma once

namespace ebpf::kerr {

inline constexpr long eperm = 1, enoent = 2, e2big = 7, ebadf = 9, eagain = 11, enomem = 12,
                      eacces = 13, efault = 14, eexist = 17, enodev = 19, einval = 22, enospc = 28,
                      eoverflow = 75, eopnotsupp = 95, enotsupp = 524;

// "EINVAL" for -22 (or 22), for messages; "errno" for a number not listed here.
const char* name(long err);

} // namespace ebpf::kerr
