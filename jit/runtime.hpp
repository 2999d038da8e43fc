// What generated code and the driver share while a compiled program runs: the per-run context
// that the code keeps in a pinned register, the ways a run can end early, and the C++ functions
// the code calls (callx, tail calls) or that helpers call (callbacks). Architecture-neutral: every
// back end addresses the same fields and emits the same entry points.
//
// Tail calls: bpf_tail_call() leaves the target in RunState::pending_tail_call (the helper keeps
// the shared count, limit MAX_TAIL_CALL_CNT); the code tests it after each call of that helper
// (and each callx, which may name it), asks Runtime::tail_call for the target's code and jumps
// there. The frames of programs that make or take tail calls have one layout, so the target
// continues in the current frame, with its registers and stack, as the interpreter does: the
// jump lands after the prologue of the target's first function.
#pragma once

#include "helpers/registry.hpp"
#include "helpers/run_state.hpp"
#include "vm/isa/result.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>

namespace ebpf {
class JitProgram;
} // namespace ebpf

namespace ebpf::jit {

// How a run ended. Anything but `none` unwinds straight to the innermost entry point's exit.
enum class JitExit : uint32_t {
    none = 0,      // the main frame's exit, or a legacy packet load past the packet (r0 = 0)
    helper_fault,  // a helper called RunState::fault() (a failed tail call too); exit_insn: call
    callx_unknown, // callx named no helper; callx_id and callx_reg say what it named
    call_depth,    // a local call would have made frame MAX_CALL_FRAMES + 1
};

// One per run, on the host stack of JitProgram::run; RunState::engine points at it. The fields
// without an initial value are written before they are read (run() sets up only the others: it
// is on every packet's path).
struct JitRunContext {
    RunState* state = nullptr;
    // The program running: a tail call switches it until the function that made it returns (its
    // caller's code restores its own, as the interpreter does); callbacks run its subprograms and
    // callx looks ids up in its helpers.
    const JitProgram* current = nullptr;
    const HelperRegistry* helpers = nullptr;
    uint32_t depth = 0; // local-call frames below the running one (callbacks count one)
    JitExit exit = JitExit::none;
    uint64_t host_sp;   // the innermost entry point's stack pointer, for early exits
    uint64_t callx_id;  // the value of the register a callx names
    uint64_t tail_r1;   // R1 when the last helper was called: a tail call's target gets it
    uint64_t callback;  // the code address the callback entry calls
    uint32_t exit_insn; // the instruction that ended the run early
    uint8_t callx_reg;  // the register the last callx named
};
static_assert(std::is_standard_layout_v<JitRunContext>, "generated code uses offsetof");

// The entry points every compiled program has. Both save what the host expects kept, pin the
// context, and clear the BPF registers the program names but the function does not get as
// arguments.
//  - JitEntry runs the program's body with R1 and R2.
//  - CallbackEntry runs the function at ctx->callback with R1-R5 (RunState::call_subprog).
using JitEntry = uint64_t (*)(uint64_t r1, uint64_t r2, JitRunContext* ctx);
using CallbackEntry = uint64_t (*)(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                   JitRunContext* ctx);

// The C++ side of a run. Generated code calls these by address.
struct Runtime {
    // callx: the code stores the id and register in ctx and calls this with R1-R5 where a
    // helper takes them and the context in place of the RunState. On an unknown id or a helper
    // fault it sets ctx->exit and the code ends the run.
    static uint64_t callx(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                          JitRunContext* ctx);

    // A helper set RunState::pending_tail_call: takes it, compiles the target if it is not yet
    // (JitProgram's targets), makes it the current program and gives the address to jump to.
    // Null when the target does not compile: the run faults at the call.
    static const uint8_t* tail_call(JitRunContext* ctx);

    // RunState::call_subprog for a JIT run: calls the current program's function that starts
    // at instruction `target`. A run that ends early inside faults the state with its error.
    static uint64_t call_subprog(RunState* state, uint64_t target, uint64_t r1, uint64_t r2,
                                 uint64_t r3, uint64_t r4, uint64_t r5);

    // The interpreter's error for a run that ended early, or none.
    static std::optional<Error> exit_error(const JitRunContext& ctx);
};

// Helpers that read the run's own memory as kernel memory (bpf_probe_read_kernel, bpf_snprintf's
// %pI4 and %s) may read the BPF stacks of its frames, as in the kernel and the interpreter. Those
// frames lie below the host frame that enters the code (`entry_frame`, that function's
// __builtin_frame_address(0)): this makes that much host stack readable for the window's life.
class StackWindow {
  public:
    StackWindow(RunState& state, const void* entry_frame);
    ~StackWindow() { state_.drop_regions(regions_); }
    StackWindow(const StackWindow&) = delete;
    StackWindow& operator=(const StackWindow&) = delete;

  private:
    RunState& state_;
    size_t regions_;
};

// Where generated code finds the RunState fields it reads. RunState is not standard layout, so
// the offsets come from a real object rather than offsetof.
struct RunStateLayout {
    int32_t fault_flag;        // bool
    int32_t packet;            // const uint8_t*
    int32_t packet_len;        // size_t
    int32_t pending_tail_call; // const Program*
};
const RunStateLayout& run_state_layout();

} // namespace ebpf::jit
