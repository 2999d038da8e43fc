// Running the chosen program: the engine (interpreter or JIT, fast or checked mode), one run,
// and --repeat's timed runs.
#pragma once

#include "cli/run/failure.hpp"
#include "cli/run/options.hpp"
#include "cli/run/target.hpp"
#include "jit/jit.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace ebpf::cli::run {

struct Engine {
    EngineKind kind = EngineKind::interp;
    Mode mode = Mode::fast;        // checked for programs that were not verified
    std::optional<JitProgram> jit; // compiled when the JIT runs the program or --dump-jit asks
};

// The engine the options ask for, or the default: the JIT when the program was verified and this
// host has a code generator for it, the interpreter otherwise.
OrFailure<Engine> prepare_engine(const Options& options, const Target& target);

// The context of a raw program without a type: writable memory, r1 = its address, r2 = its size.
class MemoryContext final : public RunContext {
  public:
    explicit MemoryContext(std::vector<uint8_t> memory) : memory_(std::move(memory)) {}
    void* ctx() override { return memory_.empty() ? nullptr : memory_.data(); }
    Status attach(RunState& state) override;
    std::vector<uint8_t> data_out() const override { return memory_; }
    size_t size() const { return memory_.size(); }

  private:
    std::vector<uint8_t> memory_;
};

// What every run shares: the task helpers report (this process, as in the kernel's test run),
// and the bpf_trace_printk lines the runs printed: the first max_trace_lines, the rest counted.
struct RunEnv {
    static constexpr size_t max_trace_lines = 1000;
    TaskIdentity task;
    // --kmem and --umem: the files' bytes, and where they lie.
    std::vector<std::vector<uint8_t>> memory_bytes;
    std::vector<MemoryImage> kernel_memory, user_memory;
    std::vector<std::string> trace_pipe;
    uint64_t trace_dropped = 0;

    // Drops the lines past max_trace_lines, counting them.
    void trim_trace();

    RunEnv();
};

struct RunOutcome {
    uint64_t r0 = 0;
    // Where bpf_redirect or bpf_redirect_map sent the packet, when r0 asks for the redirect
    // (XDP_REDIRECT, TC_ACT_REDIRECT).
    std::optional<RedirectInfo> redirect;
    std::vector<SkbClone> clones;  // what bpf_clone_redirect sent
    std::optional<uint64_t> insns; // instructions executed: counted in checked mode only
    uint64_t ns = 0;               // the run's wall time
};

// One run on ctx (a MemoryContext for untyped bytecode). A fault, an exhausted budget or a
// helper's error is an Exit::runtime_fault. count_insns runs in checked mode whatever the engine,
// for the instruction count.
OrFailure<RunOutcome> run_once(const Target& target, const Engine& engine, const Options& options,
                               RunContext& ctx, RunEnv& env, bool count_insns = false);

struct Timing {
    uint64_t runs = 0;
    double median_ns = 0, p10_ns = 0, p90_ns = 0; // per run
    std::optional<uint64_t> insns;                // per run, when known
};

// --repeat N: N runs on the same context, as the kernel's test run repeats, timed in up to 1000
// batches; their ns per run gives the median and the 10th and 90th percentiles. On a terminal, a
// progress bar on stderr when the runs take over a second. The outcome is the last run's.
OrFailure<Timing> run_repeated(const Target& target, const Engine& engine, const Options& options,
                               RunContext& ctx, RunEnv& env, RunOutcome& last);

} // namespace ebpf::cli::run
