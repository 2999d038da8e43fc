// What the machine running the VM says about "the kernel", read where libbpf reads it: the
// kernel's BTF (/sys/kernel/btf/vmlinux), its build configuration (/boot/config-$(uname -r),
// else /proc/config.gz) and its version (uname). On a host that is not Linux there are none,
// and the loader falls back as documented in object.hpp.
#pragma once

#include "vm/isa/result.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace ebpf::btf {
class Btf;
}

namespace ebpf::loader::host {

// /sys/kernel/btf/vmlinux, parsed once per process; null when absent or unreadable.
std::shared_ptr<const btf::Btf> kernel_btf();

// The text of the running kernel's .config, or nullopt when neither file can be read.
std::optional<std::string> kernel_config();

// KERNEL_VERSION(major, minor, patch) of the running Linux kernel, as libbpf's
// get_kernel_version computes it (patch capped at 255); nullopt elsewhere.
std::optional<uint32_t> kernel_version();

// A kernel config file, plain or gzip-compressed (/proc/config.gz).
Result<std::string> read_config_file(const std::string& path);

} // namespace ebpf::loader::host
