// What a helper sees of the run that called it: the host's data, the memory the run may touch
// (checked mode), the CPU it runs as, and a way to fault.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace ebpf {

class Map;
class Program;

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

    // The maps of the program: a checked run may touch the values they handed out.
    std::span<Map* const> maps;

    // Tail calls: bpf_tail_call sets the program to continue with; the engine switches to it
    // after the helper returns. The count is the kernel's, limited to 33 a run.
    const Program* pending_tail_call = nullptr;
    uint32_t tail_call_cnt = 0;

    // Callbacks (bpf_loop, bpf_for_each_map_elem): the engine running the program calls the
    // subprogram starting at instruction `target` with r1-r5 and gives back its r0. A failure
    // (fault, budget) is reported through fault().
    using CallFn = uint64_t (*)(RunState* state, uint64_t target, uint64_t r1, uint64_t r2, uint64_t r3,
                                uint64_t r4, uint64_t r5);
    CallFn call_subprog = nullptr;
    void* engine = nullptr; // the engine's own data for call_subprog

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
        return map_owns(addr, len, write);
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
    bool map_owns(uint64_t addr, uint64_t len, bool write) const; // run_state.cpp

    std::array<MemoryRegion, max_regions> regions_{};
    size_t nregions_ = 0;
    bool faulted_ = false;
    std::string fault_;
};

} // namespace ebpf
