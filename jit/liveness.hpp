// Which BPF registers each instruction's successors may still read, for code generators that
// fold an address computation into the accesses using it when the register holding the address
// is read by nothing else. Architecture-neutral; conservative where the program leaves its code
// (calls, tail calls, exits).
#pragma once

#include "vm/program.hpp"

#include <cstdint>
#include <vector>

namespace ebpf::jit {

// Bit r of live_out[i] is set when register r may be read after instruction i, before it is
// written. The second slot of an lddw has the lddw's set.
std::vector<uint16_t> live_out(const Program& prog);

} // namespace ebpf::jit
