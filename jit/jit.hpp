// The JIT: a loaded Program compiled to native code that runs with the interpreter's fast-mode
// semantics (vm/interpreter.hpp), as the kernel runs a verified program: no runtime checks.
//
//   auto jitted = ebpf::jit_compile(prog);              // Result<JitProgram>
//   auto result = jitted->run(args, state);             // Result<RunResult>
//
// What a run gives is what interpret() gives in fast mode: r0, or an error naming the instruction
// for a helper fault, a callx to no helper, or a local call past MAX_CALL_FRAMES frames; a legacy
// packet load (LD_ABS/LD_IND) past the packet ends the program with r0 = 0. Every frame's
// 512-byte stack is zeroed when it is entered. Two things a verified program cannot observe
// differ: after a helper call R1-R5 hold whatever the helper left (the kernel's ABI: the verifier
// refuses to read them), and no instruction count is kept (insns_executed is 0).
//
// Layout: this driver is architecture-neutral (code memory, the run context in runtime.hpp, the
// run/unwind protocol); the code generators live in one folder per architecture (x86_64/).
#pragma once

#include "jit/code_memory.hpp"
#include "jit/runtime.hpp"
#include "vm/interpreter.hpp"
#include "vm/program.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace ebpf {

struct JitOptions {
    // The kernel's bpf_jit_harden: every 32- and 64-bit immediate of the program reaches the
    // machine code only XORed with a random key (fresh for each instruction) and is rebuilt in a
    // scratch register at run time, so a program cannot plant chosen bytes in executable memory.
    bool blind_constants = false;
};

class JitProgram {
  public:
    // Runs with args.r1 and args.r2 in R1 and R2 (the rest zero) against the caller's state.
    // Fast mode only: a checked run (args.mode) is the interpreter's job and is refused here.
    // Any number of threads may run one JitProgram at once.
    Result<RunResult> run(const RunArgs& args, RunState& state) const;

    // The machine code, for listings.
    std::span<const uint8_t> code() const { return memory_.bytes(); }

    // For instruction i, the offset in code() of its first machine instruction (for the first
    // instruction of a function: its prologue). The second slot of an lddw has the offset of
    // what follows the lddw; entry [size] is the end of the program's code, where the
    // out-of-line paths (entry point, early exits) begin.
    std::span<const uint32_t> insn_offsets() const { return insn_offsets_; }

  private:
    friend Result<JitProgram> jit_compile(const Program&, const JitOptions&);
    JitProgram() = default;

    jit::CodeMemory memory_;
    jit::JitEntry entry_ = nullptr;
    std::vector<uint32_t> insn_offsets_;
    std::vector<Insn> insns_; // for error messages that name a register
    const HelperRegistry* helpers_ = nullptr;
};

// Compiles for the host. The program's helper registry must outlive the result (callx looks ids
// up at run time); the Program itself need not.
Result<JitProgram> jit_compile(const Program& prog, const JitOptions& options = {});

} // namespace ebpf
