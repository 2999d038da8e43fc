// What generated code and the driver share while a compiled program runs: the per-run context
// that the code keeps in a pinned register, the ways a run can end early, and the C++ trampoline
// behind callx. Architecture-neutral: every back end addresses the same fields.
//
// Tail calls (with the loader) will count in this context, shared by every program of the chain
// (limit MAX_TAIL_CALL_CNT); every BPF frame has the same layout in a back end, so a tail call
// tears down the current frame and jumps to the target JitProgram's body, which builds its own.
#pragma once

#include "helpers/registry.hpp"
#include "helpers/run_state.hpp"

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace ebpf::jit {

// How a run ended. Anything but `none` unwinds straight to the entry point's exit.
enum class JitExit : uint32_t {
    none = 0,      // the main frame's exit, or a legacy packet load past the packet (r0 = 0)
    helper_fault,  // a helper called RunState::fault(); exit_insn is its call
    callx_unknown, // callx named no helper; callx_id holds the register's value
    call_depth,    // a local call would have made frame MAX_CALL_FRAMES + 1
};

// One per run, on the host stack of JitProgram::run.
struct JitRunContext {
    RunState* state = nullptr;
    const HelperRegistry* helpers = nullptr; // callx looks ids up here
    uint64_t host_sp = 0;  // the entry point's stack pointer, restored when a run ends early
    uint64_t callx_id = 0; // the value of the register a callx names
    uint32_t depth = 0;    // local-call frames below the running one
    JitExit exit = JitExit::none;
    uint32_t exit_insn = 0; // the instruction that ended the run early
};
static_assert(std::is_standard_layout_v<JitRunContext>, "generated code uses offsetof");

// The generated entry point: r1 and r2 as the program sees them, the context for the whole run.
using JitEntry = uint64_t (*)(uint64_t r1, uint64_t r2, JitRunContext* ctx);

// callx: the generated code stores the id in ctx->callx_id and calls this with R1-R5 where a
// helper takes them and the context in place of the RunState. On an unknown id or a helper
// fault it sets ctx->exit and the code ends the run.
uint64_t callx_trampoline(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                          JitRunContext* ctx);

// Where generated code finds the RunState fields it reads. RunState is not standard layout, so
// the offsets come from a real object rather than offsetof.
struct RunStateLayout {
    int32_t fault_flag; // bool
    int32_t packet;     // const uint8_t*
    int32_t packet_len; // size_t
};
const RunStateLayout& run_state_layout();

} // namespace ebpf::jit
