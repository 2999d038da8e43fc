// How much of its 512-byte stack a function can read, so that its prologue zeroes that much
// rather than all of it (zeroing is most of a small program's fixed cost). Architecture-neutral.
//
// The analysis follows the frame pointer through the function's code (everything reachable from
// its first instruction without a call): registers holding R10 plus a known constant, and where
// they are used as a base or handed to a helper. Whatever it cannot follow makes the answer 512:
// a stack pointer with an unknown offset used as a base, one stored to memory or passed to a
// local call (the callee may reach anywhere in the frame through it), one passed to a helper in
// a program with callbacks (the callback gets it), and any tail call (bpf_tail_call or callx),
// whose target continues on the frame with its own needs. A helper given R10 + k reads at k and
// above. Programs that reach outside [R10 - 512, R10) are outside what the JIT promises anyway.
#pragma once

#include "vm/program.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace ebpf::jit {

// For each function (by first instruction, ascending), the bytes below R10 that its prologue
// must zero: a multiple of 16, at most MAX_BPF_STACK.
std::vector<uint32_t> stack_to_zero(const Program& prog, std::span<const uint32_t> functions);

} // namespace ebpf::jit
