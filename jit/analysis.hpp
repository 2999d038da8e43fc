// What a code generator knows about a program before it emits any code: where its functions
// start, how much of each frame to zero (stack_usage.hpp), which registers are read later
// (liveness.hpp), where switch trees can take a jump table (switch_tree.hpp) and which blocks
// leave loops (loop_exits.hpp). Computed once per compilation, however many passes the generator
// makes. Architecture-neutral.
#pragma once

#include "jit/switch_tree.hpp"
#include "vm/program.hpp"

#include <cstdint>
#include <vector>

namespace ebpf::jit {

struct ProgramFacts {
    // First instructions of functions, ascending: 0, local calls' targets and callbacks
    // (BPF_PSEUDO_FUNC).
    std::vector<uint32_t> functions;
    std::vector<uint32_t> zero; // by function: stack bytes its prologue zeroes
    std::vector<uint16_t> live; // by instruction: live_out()
    std::vector<SwitchTree> trees;
    std::vector<uint32_t> loop_exits; // by instruction: loop_exits()
    std::vector<bool> loop_heads;     // by instruction: loop_heads()
};

// switch_tables: look for switch trees (a generator that blinds constants leaves them).
ProgramFacts analyze(const Program& prog, bool switch_tables);

} // namespace ebpf::jit
