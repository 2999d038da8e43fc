#include "jit/runtime.hpp"

#include "jit/jit.hpp"

#include <cstdio>
#include <string>

namespace ebpf::jit {
namespace {

std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(v));
    return buf;
}

} // namespace

uint64_t Runtime::callx(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                        JitRunContext* ctx) {
    const uint64_t id = ctx->callx_id;
    const Helper* h = id <= INT32_MAX ? ctx->helpers->find(static_cast<int32_t>(id)) : nullptr;
    if (!h) {
        ctx->exit = JitExit::callx_unknown;
        return 0;
    }
    const uint64_t r0 = h->fn(r1, r2, r3, r4, r5, ctx->state);
    if (ctx->state->faulted()) ctx->exit = JitExit::helper_fault;
    return r0;
}

const uint8_t* Runtime::tail_call(JitRunContext* ctx) {
    RunState& state = *ctx->state;
    const Program* target = state.pending_tail_call;
    state.pending_tail_call = nullptr;
    auto jitted = ctx->current->targets_->get(*target);
    if (!jitted) {
        state.fault("tail call target does not compile: " + jitted.error().to_string());
        return nullptr;
    }
    ctx->current = *jitted;
    ctx->helpers = (*jitted)->helpers_;
    return (*jitted)->tail_entry_;
}

uint64_t Runtime::call_subprog(RunState* state, uint64_t target, uint64_t r1, uint64_t r2,
                               uint64_t r3, uint64_t r4, uint64_t r5) {
    auto* ctx = static_cast<JitRunContext*>(state->engine);
    const JitProgram& prog = *ctx->current;
    const size_t size = prog.insn_offsets_.size() - 1;
    const std::string where = "callback at insn " + std::to_string(target);
    if (target >= size) {
        state->fault(where + " is outside the program");
        return 0;
    }
    // Callbacks the program names with BPF_PSEUDO_FUNC are functions of their own; anything else
    // is a program the verifier would have refused.
    const uint8_t* code = prog.function_at(static_cast<size_t>(target));
    if (!code) {
        state->fault(where + " is not the start of a function");
        return 0;
    }
    // The callback's frame counts as one below the helper's caller, as in the interpreter; an
    // early exit inside unwinds to the callback entry and leaves the depth to be restored here.
    const uint32_t depth = ctx->depth;
    const HelperRegistry* helpers = ctx->helpers;
    ctx->callback = reinterpret_cast<uint64_t>(code);
    ctx->depth = depth + 1;
    const StackWindow window(*state, __builtin_frame_address(0));
    const uint64_t r0 = prog.callback_entry_(r1, r2, r3, r4, r5, ctx);
    ctx->depth = depth;
    // The helper's caller goes on in its own program, whatever the callback tail-called.
    ctx->current = &prog;
    ctx->helpers = helpers;
    if (auto err = exit_error(*ctx)) {
        ctx->exit = JitExit::none;
        state->fault(err->to_string());
        return 0;
    }
    return r0;
}

// At most MAX_CALL_FRAMES frames of MAX_BPF_STACK bytes, each with the saved registers, frame
// pointer, return address and padding of its prologue (under 128 bytes), plus the entry point's
// saves and the entering function's own locals below its frame address.
constexpr uint64_t stack_window_size = MAX_CALL_FRAMES * (MAX_BPF_STACK + 128) + 512;

StackWindow::StackWindow(RunState& state, const void* entry_frame)
    : state_(state), regions_(state.region_count()) {
    const auto top = reinterpret_cast<uintptr_t>(entry_frame);
    // A full region table leaves the stack unreadable to such helpers, never the run broken.
    state.allow(reinterpret_cast<const void*>(top - stack_window_size), stack_window_size, false);
}

std::optional<Error> Runtime::exit_error(const JitRunContext& ctx) {
    const size_t at = ctx.exit_insn;
    switch (ctx.exit) {
    case JitExit::none: return std::nullopt;
    case JitExit::helper_fault: return error_at(at, ctx.state->fault_message());
    case JitExit::callx_unknown:
        return error_at(at, "callx to r" + std::to_string(ctx.callx_reg) + " = " +
                                hex(ctx.callx_id) + ", which is no helper id");
    case JitExit::call_depth:
        return error_at(at, "call stack is over " + std::to_string(MAX_CALL_FRAMES) + " frames");
    }
    return std::nullopt;
}

const RunStateLayout& run_state_layout() {
    static const RunStateLayout layout = [] {
        const RunState probe;
        const auto at = [&](const void* field) {
            return static_cast<int32_t>(static_cast<const char*>(field) -
                                        reinterpret_cast<const char*>(&probe));
        };
        return RunStateLayout{at(&probe.fault_flag()), at(&probe.packet), at(&probe.packet_len),
                              at(&probe.pending_tail_call)};
    }();
    return layout;
}

} // namespace ebpf::jit
