// Random programs for differential testing of the JIT against the checked interpreter. Every
// program is valid by construction and deterministic in what it computes: loops are bounded,
// memory accesses stay inside the stack or the given memory, no pointer ever lands in a register
// the program stores or compares, and R1-R5 are written again after every helper call (the
// verifier's rule: a call clobbers them). Instructions are drawn from the opcode table, so every
// form of RFC 9669 appears.
#pragma once

#include "helpers/registry.hpp"
#include "vm/isa/insn.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ebpf::test {

// What a random program expects in R1: memory it loads, stores and updates atomically, followed
// by room for R0-R8, which the main function stores there just before its exit.
inline constexpr size_t fuzz_data_size = 256;
inline constexpr size_t fuzz_memory_size = fuzz_data_size + 9 * 8;
// The packet its LD_ABS/LD_IND instructions read (RunState::packet).
inline constexpr size_t fuzz_packet_size = 64;

// The host helpers it calls, and the host data (RunState::host) they need.
inline constexpr int32_t fuzz_mix_helper = 0x10001;   // folds R1-R5 into FuzzHost::trace
inline constexpr int32_t fuzz_fault_helper = 0x10002; // faults when R1's low byte is 0x5a
struct FuzzHost {
    uint64_t trace = 0; // every argument of every call, in order
    uint64_t calls = 0;
};
void register_fuzz_helpers(HelperRegistry& registry);

// The same seed gives the same program.
std::vector<Insn> random_program(uint64_t seed);

} // namespace ebpf::test
