// The live kernel as the oracle for a verifier case (Linux only, as root): the case's maps
// created with bpf(BPF_MAP_CREATE), the program loaded with BPF_PROG_LOAD and its verifier log,
// an accepted program run once with BPF_PROG_TEST_RUN on the case's data.
#pragma once

#include "cli/kernel_cases.hpp"

#include <optional>
#include <string>

namespace ebpf::cli {

struct KernelOutcome {
    std::string verdict; // "accept" or "reject"
    std::string message; // the log line printed last before the statistics
    std::optional<uint64_t> insns_processed;
    std::optional<uint32_t> retval;
};

// Error when the kernel cannot be asked (no bpf() permission, a map kind it needs BTF for, ...).
// unprivileged: the program is loaded by a child process running as nobody (the maps are still
// made as root), and not run; the kernel must allow it (kernel.unprivileged_bpf_disabled = 0).
Result<KernelOutcome> run_in_kernel(const KernelCase& c, bool unprivileged = false);

} // namespace ebpf::cli
