// Helpers about where the program runs: the CPU slot the host gave the run, its NUMA node, and
// the kernel's per-CPU pseudo-random numbers.
#include "helpers/kernel_helpers.hpp"

#include <random>

namespace ebpf::helpers {

uint64_t get_smp_processor_id(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunState* state) {
    return state->cpu;
}

// One NUMA node: the VM does not place memory by node.
uint64_t get_numa_node_id(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunState*) {
    return 0;
}

// The kernel uses a per-CPU prandom state; a per-thread generator is the host-side equivalent.
uint64_t get_prandom_u32(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunState*) {
    thread_local std::minstd_rand engine{std::random_device{}()};
    thread_local std::uniform_int_distribution<uint32_t> dist;
    return dist(engine);
}

} // namespace ebpf::helpers
