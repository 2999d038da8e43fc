// The interpreter. Fast mode runs a verified program with no runtime checks, as the kernel does.
// Checked mode runs anything: every memory access is bounds-checked against the run's stack and
// the regions its RunState allows, instructions are counted against a budget, and any fault ends
// the run with an error naming the instruction. Neither mode can crash the host on a program
// that Program::load accepted, checked mode whatever the program does.
#pragma once

#include "helpers/run_state.hpp"
#include "vm/program.hpp"

namespace ebpf {

enum class Mode { fast, checked };

struct RunArgs {
    uint64_t r1 = 0; // usually the context pointer
    uint64_t r2 = 0;
    Mode mode = Mode::fast;
    uint64_t insn_budget = 10'000'000; // checked mode only
};

struct RunResult {
    uint64_t r0 = 0;
    uint64_t insns_executed = 0; // counted in checked mode only
};

Result<RunResult> interpret(const Program& prog, const RunArgs& args, RunState& state);

} // namespace ebpf
