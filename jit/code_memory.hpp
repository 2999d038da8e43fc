// Executable memory for generated code, never writable and executable at once: pages are mapped
// read+write, filled, then switched to read+execute for the rest of their life and unmapped with
// their owner. POSIX (mmap/mprotect).
#pragma once

#include "vm/isa/result.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

namespace ebpf::jit {

class CodeMemory {
  public:
    // Read+write pages holding at least `size` bytes.
    static Result<CodeMemory> allocate(size_t size);

    CodeMemory() = default;
    CodeMemory(CodeMemory&& other) noexcept;
    CodeMemory& operator=(CodeMemory&& other) noexcept;
    CodeMemory(const CodeMemory&) = delete;
    CodeMemory& operator=(const CodeMemory&) = delete;
    ~CodeMemory();

    // The pages until make_executable(); afterwards writing through this faults.
    uint8_t* data() const { return base_; }
    std::span<const uint8_t> bytes() const { return {base_, size_}; }

    // Read+write -> read+execute, once the code is in place.
    Status make_executable();

  private:
    CodeMemory(uint8_t* base, size_t size, size_t mapped)
        : base_(base), size_(size), mapped_(mapped) {}
    void release();

    uint8_t* base_ = nullptr;
    size_t size_ = 0;   // bytes asked for
    size_t mapped_ = 0; // whole pages
};

} // namespace ebpf::jit
