// The JIT: a loaded Program compiled to native code that runs with the interpreter's fast-mode
// semantics (vm/interpreter.hpp), as the kernel runs a verified program: no runtime checks.
//
//   auto jitted = ebpf::jit_compile(prog);              // Result<JitProgram>
//   auto result = jitted->run(args, state);             // Result<RunResult>
//
// What a run gives is what interpret() gives in fast mode: r0, or an error naming the instruction
// for a helper fault, a callx to no helper, or a local call past MAX_CALL_FRAMES frames; a legacy
// packet load (LD_ABS/LD_IND) past the packet ends the program with r0 = 0. Tail calls continue
// in the target's compiled code, in the same frame; callbacks (RunState::call_subprog) run the
// current program's compiled subprograms. A frame's stack reads as zeros where nothing wrote it,
// as in the interpreter (the prologue zeroes as much as the function can read:
// jit/stack_usage.hpp). What a verified program cannot observe differs: after a helper call
// R1-R5 hold whatever the helper left (the kernel's ABI: the verifier refuses to read them; a
// tail call's target does get the R1 of the call, its context), R0 and R2-R5 start out so in a
// tail call's target, and no instruction count is kept (insns_executed is 0).
//
// The code is the kernel JIT's instruction for instruction, with the kernel's register mapping,
// except where a pattern of compiled C has a better x86 form (folded address arithmetic,
// rotations, jump tables for switches: jit/x86_64/peephole.cpp).
//
// Layout: this driver is architecture-neutral (code memory, the run context in runtime.hpp, the
// run/unwind protocol, the analyses code generators share: analysis.hpp); the code generators
// live in one folder per architecture (x86_64/).
#pragma once

#include "jit/code_memory.hpp"
#include "jit/runtime.hpp"
#include "vm/interpreter.hpp"
#include "vm/program.hpp"

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <span>
#include <unordered_map>
#include <vector>

namespace ebpf {

struct JitOptions {
    // The kernel's bpf_jit_harden: every 32- and 64-bit immediate of the program reaches the
    // machine code only XORed with a random key (fresh for each instruction) and is rebuilt in a
    // scratch register at run time, so a program cannot plant chosen bytes in executable memory.
    bool blind_constants = false;
    // Use instructions of the host's CPU beyond the x86-64 baseline where they help (BMI2's
    // shifts by any register). Off, the code runs on any CPU of the architecture.
    bool host_cpu_features = true;
};

class JitCache;

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
    // out-of-line paths (entry points, early exits) begin.
    std::span<const uint32_t> insn_offsets() const { return insn_offsets_; }
    // The instructions (first slots) in the order their code was emitted: by index, except for
    // blocks that leave loops, which follow the rest (jit/loop_exits.hpp). An instruction's code
    // runs from its offset to the next one's in this order.
    std::span<const uint32_t> layout() const { return layout_; }

    // Where code() stops holding instructions: from here on it holds the jump tables of switch
    // statements (8-byte code addresses, padded to 8-byte alignment with zeros).
    size_t data_offset() const { return data_offset_; }

  private:
    friend class JitCache;
    friend struct jit::Runtime;
    friend Result<JitProgram> jit_compile(const Program&, const JitOptions&);
    // tail_call_target: other programs' tail calls may land in this one.
    static Result<JitProgram> compile(const Program& prog, const JitOptions& options,
                                      bool tail_call_target);
    JitProgram() = default;

    // Where a callback enters the function starting at instruction `insn`, or null when none
    // does.
    const uint8_t* function_at(size_t insn) const;

    jit::CodeMemory memory_;
    jit::JitEntry entry_ = nullptr;
    jit::CallbackEntry callback_entry_ = nullptr;
    const uint8_t* tail_entry_ = nullptr; // after the first function's prologue
    std::vector<uint32_t> insn_offsets_;
    std::vector<uint32_t> layout_;
    size_t data_offset_ = 0;
    std::vector<uint32_t> functions_;        // first instructions of functions, ascending
    std::vector<uint32_t> function_entries_; // their callback entries' offsets in code()
    const HelperRegistry* helpers_ = nullptr;
    std::vector<Map*> maps_; // the program's, for helpers that look at RunState::maps
    // Where tail calls find their targets' code: the cache that compiled this program, or for
    // jit_compile's programs a cache of their own.
    JitCache* targets_ = nullptr;
    std::shared_ptr<JitCache> own_targets_;
};

// Compiles for the host. The program's helper registry must outlive the result (callx looks ids
// up at run time); the Program itself need not. The programs its tail calls reach (through a
// prog array) are compiled on first use into a cache the result owns, and must outlive it.
Result<JitProgram> jit_compile(const Program& prog, const JitOptions& options = {});

// Compiled programs by the Program they came from, each compiled on first use with the cache's
// options; a program compiled here finds its tail calls' targets here too. Thread-safe. The
// Programs must outlive the cache and stay where they are: they are known by address.
class JitCache {
  public:
    explicit JitCache(const JitOptions& options = {}) : options_(options) {}
    JitCache(const JitCache&) = delete;
    JitCache& operator=(const JitCache&) = delete;

    // The compiled program, valid as long as the cache.
    Result<const JitProgram*> get(const Program& prog);

  private:
    JitOptions options_;
    std::shared_mutex mutex_;
    std::unordered_map<const Program*, std::unique_ptr<JitProgram>> programs_;
};

} // namespace ebpf
