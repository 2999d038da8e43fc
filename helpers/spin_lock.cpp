// bpf_spin_lock and bpf_spin_unlock (kernel/bpf/helpers.c) on a map value's struct bpf_spin_lock:
// the same lock word BPF_F_LOCK updates take, so programs on many host threads and the host
// exclude each other. The verifier lets a program hold one lock at a time and call no helper
// while holding it; a checked run, which nothing verified, faults where a wrong program would
// deadlock the host thread.
#include "maps/spin_lock.hpp"
#include "helpers/kernel_helpers.hpp"

namespace ebpf::helpers {

uint64_t spin_lock(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, RunState* state) {
    auto* lock = reinterpret_cast<void*>(r1);
    if (state->checked) {
        if (state->held_spin_lock) {
            state->fault("bpf_spin_lock: the run holds a bpf_spin_lock already");
            return 0;
        }
        state->held_spin_lock = lock;
    }
    acquire_bpf_spin_lock(lock);
    return 0;
}

uint64_t spin_unlock(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, RunState* state) {
    auto* lock = reinterpret_cast<void*>(r1);
    if (state->checked) {
        if (state->held_spin_lock != lock) {
            state->fault("bpf_spin_unlock: the run does not hold this bpf_spin_lock");
            return 0;
        }
        state->held_spin_lock = nullptr;
    }
    release_bpf_spin_lock(lock);
    return 0;
}

} // namespace ebpf::helpers
