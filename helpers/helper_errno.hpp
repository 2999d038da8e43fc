// The kernel's errno numbers the helpers return negated: the maps' ones and a few of their own.
#pragma once

#include "maps/kernel_errno.hpp"

namespace ebpf::herr {

using namespace kerr;
inline constexpr long efault = 14, enodev = 19, erange = 34, eproto = 71, eafnosupport = 97,
                      ealready = 114;

} // namespace ebpf::herr
