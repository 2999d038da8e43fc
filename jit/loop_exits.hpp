// Paths that leave a loop, for code generators to move out of line. clang lays a loop's exit
// test out as `if (stay) goto next; <leave: ...; goto out or exit>; next: ...`, so the path that
// stays in the loop, run on every iteration, takes the jump, and the one that leaves, run once,
// falls through. Emitting the leaving block after the program's body, behind the inverted
// condition, lets the loop run straight through (strcmp's loop then takes one branch an
// iteration instead of two). Only the layout changes: the block is entered from the branch alone
// and ends in a goto or exit, so nothing runs into it or out of it by falling through.
// Architecture-neutral.
#pragma once

#include "vm/program.hpp"

#include <cstdint>
#include <vector>

namespace ebpf::jit {

// By instruction: for a conditional jump whose fall-through block [i + 1, end) leaves the loop
// around it, `end` (the jump's target); 0 for every other instruction.
std::vector<uint32_t> loop_exits(const Program& prog, const std::vector<uint32_t>& functions);

// By instruction: whether it is a loop's head, the target of a backward jump; jumps out of the
// blocks `exits` names (they run once, out of line) do not count.
std::vector<bool> loop_heads(const Program& prog, const std::vector<uint32_t>& exits);

} // namespace ebpf::jit
