// The driver: picks the host's code generator, places its code in sealed executable memory, and
// runs it, turning an early exit recorded in the run context into the interpreter's error; the
// cache of compiled programs that tail calls use.
#include "jit/jit.hpp"

#include "jit/backend.hpp"
#include "jit/runtime.hpp"

#if defined(__x86_64__) && !defined(_WIN32)
#include "jit/x86_64/backend.hpp"
#endif

#include <algorithm>
#include <mutex>
#include <string>

namespace ebpf {
namespace {

// The generator for this host, or none. The x86-64 one speaks the System V ABI, not Win64.
jit::Backend host_backend() {
#if defined(__x86_64__) && !defined(_WIN32)
    return &jit::x86_64::generate;
#else
    return nullptr;
#endif
}

// asmjit reports errors here rather than through each call's return value.
class FirstError : public asmjit::ErrorHandler {
  public:
    void handleError(asmjit::Error, const char* message, asmjit::BaseEmitter*) override {
        if (text.empty()) text = message;
    }
    std::string text;
};

// Out of line: run() is on every packet's path.
[[gnu::noinline, gnu::cold]] Error checked_run_refused() {
    return Error{"the JIT runs in fast mode only; checked runs are the interpreter's",
                 std::nullopt};
}

Error asmjit_error(asmjit::Error err) {
    return Error{std::string("code generation failed: ") + asmjit::DebugUtils::errorAsString(err),
                 std::nullopt};
}

} // namespace

Result<JitProgram> JitProgram::compile(const Program& prog, const JitOptions& options,
                                       bool tail_call_target) {
    const jit::Backend generate = host_backend();
    if (!generate) return Error{"the JIT has no code generator for this host", std::nullopt};

    asmjit::CodeHolder code;
    if (asmjit::Error err = code.init(asmjit::Environment::host())) return asmjit_error(err);
    FirstError errors;
    code.setErrorHandler(&errors);
    auto generated = generate(code, prog, options, tail_call_target);
    if (!generated) return generated.error();
    if (!errors.text.empty()) return Error{"code generation failed: " + errors.text, std::nullopt};
    if (asmjit::Error err = code.flatten()) return asmjit_error(err);
    if (asmjit::Error err = code.resolveUnresolvedLinks()) return asmjit_error(err);

    const size_t size = code.codeSize();
    auto memory = jit::CodeMemory::allocate(size);
    if (!memory) return memory.error();
    if (asmjit::Error err = code.relocateToBase(reinterpret_cast<uint64_t>(memory->data())))
        return asmjit_error(err);
    if (asmjit::Error err = code.copyFlattenedData(memory->data(), size)) return asmjit_error(err);
    if (auto err = memory->make_executable()) return *err;

    JitProgram jitted;
    uint8_t* base = memory->data();
    jitted.entry_ = reinterpret_cast<jit::JitEntry>(base + generated->entry_offset);
    jitted.callback_entry_ =
        reinterpret_cast<jit::CallbackEntry>(base + generated->callback_entry_offset);
    jitted.tail_entry_ = base + generated->tail_entry_offset;
    jitted.memory_ = std::move(*memory);
    jitted.insn_offsets_ = std::move(generated->insn_offsets);
    jitted.layout_ = std::move(generated->layout);
    jitted.data_offset_ = generated->data_offset;
    jitted.functions_ = std::move(generated->functions);
    jitted.function_entries_ = std::move(generated->function_entries);
    jitted.helpers_ = &prog.helpers();
    jitted.maps_.assign(prog.maps().begin(), prog.maps().end());
    return jitted;
}

Result<JitProgram> jit_compile(const Program& prog, const JitOptions& options) {
    // Tail calls reach other programs through the cache below, never this one.
    auto jitted = JitProgram::compile(prog, options, false);
    if (!jitted) return jitted;
    jitted->own_targets_ = std::make_shared<JitCache>(options);
    jitted->targets_ = jitted->own_targets_.get();
    return jitted;
}

const uint8_t* JitProgram::function_at(size_t insn) const {
    const auto it = std::lower_bound(functions_.begin(), functions_.end(), insn);
    if (it == functions_.end() || *it != insn) return nullptr;
    return memory_.data() + function_entries_[static_cast<size_t>(it - functions_.begin())];
}

Result<RunResult> JitProgram::run(const RunArgs& args, RunState& state) const {
    if (args.mode != Mode::fast) [[unlikely]]
        return checked_run_refused();
    state.checked = false;
    if (state.maps.empty()) state.maps = maps_;
    jit::JitRunContext ctx;
    ctx.state = &state;
    ctx.current = this;
    ctx.helpers = helpers_;
    state.engine = &ctx;
    state.call_subprog = &jit::Runtime::call_subprog;
    state.tail_call_cnt = 0;
    state.pending_tail_call = nullptr;
    const jit::StackWindow window(state, __builtin_frame_address(0));
    const uint64_t r0 = entry_(args.r1, args.r2, &ctx);
    state.engine = nullptr;
    state.call_subprog = nullptr;
    if (ctx.exit != jit::JitExit::none) [[unlikely]]
        return *jit::Runtime::exit_error(ctx);
    return RunResult{r0, 0};
}

Result<const JitProgram*> JitCache::get(const Program& prog) {
    {
        std::shared_lock lock(mutex_);
        if (auto it = programs_.find(&prog); it != programs_.end()) return it->second.get();
    }
    std::unique_lock lock(mutex_);
    auto& slot = programs_[&prog];
    if (!slot) {
        auto jitted = JitProgram::compile(prog, options_, true);
        if (!jitted) {
            programs_.erase(&prog);
            return jitted.error();
        }
        jitted->targets_ = this;
        slot = std::make_unique<JitProgram>(std::move(*jitted));
    }
    return slot.get();
}

} // namespace ebpf
