// Reads of "kernel" and "user" memory as mm/maccess.c's nofault copies do them, for
// bpf_probe_read*() and the strings of bpf_trace_printk and bpf_snprintf. Kernel memory is the
// run's own (its stack, context, packet and map values, which are kernel memory in the kernel)
// and the host's kernel image; user memory is the host's user image. The address rules are
// x86-64's (copy_from_kernel_nofault_allowed, access_ok).
#pragma once

#include "helpers/run_state.hpp"

namespace ebpf::helpers {

// TASK_SIZE: user space ends here.
inline constexpr uint64_t task_size = 0x00007ffffffff000;

// copy_from_kernel_nofault: 0; -ERANGE where the kernel never reads this way (user space,
// non-canonical addresses, the vsyscall page); -EFAULT where nothing is.
long copy_from_kernel(const RunState& state, void* dst, uint64_t src, uint64_t size);
// copy_from_user_nofault: 0 or -EFAULT.
long copy_from_user(const RunState& state, void* dst, uint64_t src, uint64_t size);

// strncpy_from_kernel_nofault and strncpy_from_user_nofault: the string's bytes up to its NUL,
// at most count of them, the last one NUL; the bytes written, NUL included; -ERANGE or -EFAULT.
long strncpy_from_kernel(const RunState& state, char* dst, uint64_t src, uint64_t count);
long strncpy_from_user(const RunState& state, char* dst, uint64_t src, uint64_t count);

} // namespace ebpf::helpers
