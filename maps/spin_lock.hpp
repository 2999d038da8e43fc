// Locks for map internals, and the protocol of the bpf_spin_lock word that a map value may hold
// (struct bpf_spin_lock { __u32 val; }, zero when free): BPF_F_LOCK updates here and the
// bpf_spin_lock/bpf_spin_unlock helpers take it the same way.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

namespace ebpf {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

// Spins a little, then yields: map critical sections are short, but host threads can outnumber
// cores.
template <typename Word> void spin_acquire(std::atomic_ref<Word> word) {
    for (unsigned spins = 0; word.exchange(1, std::memory_order_acquire) != 0;) {
        while (word.load(std::memory_order_relaxed) != 0) {
            if (++spins < 128)
                cpu_relax();
            else
                std::this_thread::yield();
        }
    }
}

class SpinLock {
  public:
    void lock() { spin_acquire(std::atomic_ref<uint32_t>(word_)); }
    void unlock() { std::atomic_ref<uint32_t>(word_).store(0, std::memory_order_release); }

  private:
    alignas(std::atomic_ref<uint32_t>::required_alignment) uint32_t word_ = 0;
};

// lock points at the 4-byte, 4-aligned struct bpf_spin_lock inside a map value.
inline void acquire_bpf_spin_lock(void* lock) {
    spin_acquire(std::atomic_ref<uint32_t>(*static_cast<uint32_t*>(lock)));
}
inline void release_bpf_spin_lock(void* lock) {
    std::atomic_ref<uint32_t>(*static_cast<uint32_t*>(lock)).store(0, std::memory_order_release);
}

} // namespace ebpf
