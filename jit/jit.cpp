// The driver: picks the host's code generator, places its code in sealed executable memory, and
// runs it, turning an early exit recorded in the run context into the interpreter's error.
#include "jit/jit.hpp"

#include "jit/backend.hpp"
#include "jit/runtime.hpp"

#if defined(__x86_64__) && !defined(_WIN32)
#include "jit/x86_64/backend.hpp"
#endif

#include <cstdio>
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

std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(v));
    return buf;
}

Error asmjit_error(asmjit::Error err) {
    return Error{std::string("code generation failed: ") + asmjit::DebugUtils::errorAsString(err),
                 std::nullopt};
}

} // namespace

Result<JitProgram> jit_compile(const Program& prog, const JitOptions& options) {
    const jit::Backend generate = host_backend();
    if (!generate) return Error{"the JIT has no code generator for this host", std::nullopt};

    asmjit::CodeHolder code;
    if (asmjit::Error err = code.init(asmjit::Environment::host())) return asmjit_error(err);
    FirstError errors;
    code.setErrorHandler(&errors);
    auto generated = generate(code, prog, options);
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
    jitted.entry_ = reinterpret_cast<jit::JitEntry>(memory->data() + generated->entry_offset);
    jitted.memory_ = std::move(*memory);
    jitted.insn_offsets_ = std::move(generated->insn_offsets);
    jitted.insns_.assign(prog.insns().begin(), prog.insns().end());
    jitted.helpers_ = &prog.helpers();
    return jitted;
}

Result<RunResult> JitProgram::run(const RunArgs& args, RunState& state) const {
    if (args.mode != Mode::fast)
        return Error{"the JIT runs in fast mode only; checked runs are the interpreter's",
                     std::nullopt};
    state.checked = false;
    jit::JitRunContext ctx;
    ctx.state = &state;
    ctx.helpers = helpers_;
    const uint64_t r0 = entry_(args.r1, args.r2, &ctx);
    const size_t at = ctx.exit_insn;
    switch (ctx.exit) {
    case jit::JitExit::none: break;
    case jit::JitExit::helper_fault: return error_at(at, state.fault_message());
    case jit::JitExit::callx_unknown:
        return error_at(at, "callx to r" + std::to_string(insns_[at].dst) + " = " +
                                hex(ctx.callx_id) + ", which is no helper id");
    case jit::JitExit::call_depth:
        return error_at(at, "call stack is over " + std::to_string(MAX_CALL_FRAMES) + " frames");
    }
    return RunResult{r0, 0};
}

} // namespace ebpf
