// What a helper sees of the run that called it: the host's data, the memory the run may touch
// (checked mode), the CPU it runs as, and a way to fault.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace ebpf {

struct MemoryRegion {
    uint64_t begin = 0;
    uint64_t size = 0;
    bool writable = false;

    bool contains(uint64_t addr, uint64_t len) const {
        return addr >= begin && len <= size && addr - begin <= size - len;
    }
};

class RunState {
  public:
    static constexpr size_t max_regions = 16;

    void* host = nullptr; // the embedding application's data, untouched by the VM
    uint32_t cpu = 0;     // what bpf_get_smp_processor_id() returns; per-CPU maps use it
    bool checked = false; // true in the interpreter's checked mode

    // The packet that legacy LD_ABS/LD_IND read (skb program types); empty elsewhere.
    const uint8_t* packet = nullptr;
    size_t packet_len = 0;

    // Adds memory a checked run may access; false when the table is full.
    bool allow(const void* begin, size_t size, bool writable) {
        if (nregions_ == max_regions) return false;
        regions_[nregions_++] = {reinterpret_cast<uint64_t>(begin), size, writable};
        return true;
    }

    bool accessible(uint64_t addr, uint64_t len, bool write) const {
        for (size_t i = 0; i < nregions_; ++i) {
            const auto& r = regions_[i];
            if (r.contains(addr, len) && (!write || r.writable)) return true;
        }
        return false;
    }

    // A helper that finds its arguments unusable stops the run with a message.
    void fault(std::string message) {
        if (!faulted_) fault_ = std::move(message);
        faulted_ = true;
    }
    bool faulted() const { return faulted_; }
    // For generated code that tests the flag after each helper call (the JIT takes its offset).
    const bool& fault_flag() const { return faulted_; }
    const std::string& fault_message() const { return fault_; }

  private:
    std::array<MemoryRegion, max_regions> regions_{};
    size_t nregions_ = 0;
    bool faulted_ = false;
    std::string fault_;
};

} // namespace ebpf
