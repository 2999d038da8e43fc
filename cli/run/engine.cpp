#include "cli/run/engine.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <unistd.h>

namespace ebpf::cli::run {
namespace {

using Clock = std::chrono::steady_clock;

// XDP_REDIRECT and TC_ACT_REDIRECT: the host sends the packet where the program's last
// bpf_redirect or bpf_redirect_map said.
bool asks_redirect(ProgType type, uint64_t r0) {
    constexpr uint64_t XDP_REDIRECT = 4, TC_ACT_REDIRECT = 7;
    if (type == ProgType::xdp) return r0 == XDP_REDIRECT;
    if (type == ProgType::sched_cls || type == ProgType::sched_act) return r0 == TC_ACT_REDIRECT;
    return false;
}

uint64_t ns_since(Clock::time_point start) {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
}

// A terminal progress bar on stderr, redrawn at most ten times a second.
class ProgressBar {
  public:
    explicit ProgressBar(uint64_t total) : total_(total) {}
    void update(uint64_t done) {
        if (Clock::now() - last_ < std::chrono::milliseconds(100)) return;
        last_ = Clock::now();
        constexpr int width = 40;
        const int filled = static_cast<int>(width * done / total_);
        std::fprintf(stderr, "\r[%.*s%*s] %3d%% %llu/%llu runs", filled,
                     "########################################", width - filled, "",
                     static_cast<int>(100 * done / total_), static_cast<unsigned long long>(done),
                     static_cast<unsigned long long>(total_));
        std::fflush(stderr);
        shown_ = true;
    }
    ~ProgressBar() {
        if (shown_) std::fprintf(stderr, "\r\033[K");
    }

  private:
    uint64_t total_;
    Clock::time_point last_{};
    bool shown_ = false;
};

double percentile(const std::vector<double>& sorted, double p) {
    const size_t i = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
    return sorted[i];
}

} // namespace

Status MemoryContext::attach(RunState& state) {
    if (!memory_.empty() && !state.allow(memory_.data(), memory_.size(), true))
        return Error{"the run's memory region table is full", std::nullopt};
    return std::nullopt;
}

OrFailure<Engine> prepare_engine(const Options& o, const Target& t) {
    Engine e;
    const bool verified = t.verified();
    e.mode = verified ? Mode::fast : Mode::checked;
    if (o.engine == EngineKind::jit && !verified)
        return Failure{Exit::usage, "--engine jit runs verified programs only; this one runs "
                                    "unverified in the interpreter's checked mode"};
    if (o.dump_jit && !verified) return Failure{Exit::usage, "--dump-jit needs a verified program"};
    const bool want_jit = o.engine == EngineKind::jit || (!o.engine && verified);
    if (want_jit || o.dump_jit) {
        auto jitted = jit_compile(*t.prog->program);
        if (jitted) {
            e.jit.emplace(std::move(*jitted));
        } else if (o.engine == EngineKind::jit || o.dump_jit) {
            return Failure{Exit::load_failed, "the JIT: " + jitted.error().to_string()};
        }
    }
    e.kind = want_jit && e.jit ? EngineKind::jit : EngineKind::interp;
    return e;
}

RunEnv::RunEnv() {
    task.pid = task.tgid = static_cast<uint32_t>(getpid());
    task.uid = static_cast<uint32_t>(getuid());
    task.gid = static_cast<uint32_t>(getgid());
    std::memcpy(task.comm.data(), "ebpf-run", 8);
}

void RunEnv::trim_trace() {
    if (trace_pipe.size() <= max_trace_lines) return;
    trace_dropped += trace_pipe.size() - max_trace_lines;
    trace_pipe.resize(max_trace_lines);
}

OrFailure<RunOutcome> run_once(const Target& t, const Engine& e, const Options& o, RunContext& ctx,
                               RunEnv& env, bool count_insns) {
    RunOutcome out;
    RedirectInfo redirect;
    Result<RunResult> result = Error{"", std::nullopt};
    const bool checked = count_insns || e.mode == Mode::checked;
    if (t.untyped) {
        RunState state;
        state.cpu = o.cpu;
        state.task = &env.task;
        state.trace_pipe = &env.trace_pipe;
        state.kernel_callchain = o.kstack;
        state.user_callchain = o.ustack;
        state.kernel_memory = env.kernel_memory;
        state.user_memory = env.user_memory;
        if (auto err = ctx.attach(state)) return Failure{Exit::runtime_fault, err->to_string()};
        RunArgs args;
        args.r1 = reinterpret_cast<uint64_t>(ctx.ctx());
        args.r2 = static_cast<MemoryContext&>(ctx).size();
        args.mode = Mode::checked;
        args.insn_budget = o.budget;
        const auto start = Clock::now();
        result = interpret(*t.untyped, args, state);
        out.ns = ns_since(start);
    } else {
        RunOptions ro;
        ro.mode = checked ? Mode::checked : Mode::fast;
        ro.cpu = o.cpu;
        ro.insn_budget = o.budget;
        ro.task = &env.task;
        ro.trace_pipe = &env.trace_pipe;
        ro.redirect = &redirect;
        ro.clones = &out.clones;
        ro.kernel_callchain = o.kstack;
        ro.user_callchain = o.ustack;
        ro.kernel_memory = env.kernel_memory;
        ro.user_memory = env.user_memory;
        if (e.kind == EngineKind::jit && !checked)
            ro.engine = [&e](const RunArgs& args, RunState& state) {
                return e.jit->run(args, state);
            };
        const auto start = Clock::now();
        result = t.object->run(*t.prog, ctx, ro);
        out.ns = ns_since(start);
    }
    if (!result) return Failure{Exit::runtime_fault, result.error().to_string()};
    out.r0 = result->r0;
    if (checked) out.insns = result->insns_executed;
    if (!t.untyped && asks_redirect(t.type_info()->type, out.r0)) out.redirect = redirect;
    return out;
}

OrFailure<Timing> run_repeated(const Target& t, const Engine& e, const Options& o, RunContext& ctx,
                               RunEnv& env, RunOutcome& last) {
    Timing timing;
    timing.runs = o.repeat;
    const uint64_t batches = std::min<uint64_t>(o.repeat, 1000);
    std::vector<double> per_run;
    per_run.reserve(batches);
    std::optional<ProgressBar> bar;
    const auto start = Clock::now();
    uint64_t done = 0;
    for (uint64_t b = 0; b < batches; ++b) {
        const uint64_t size = o.repeat / batches + (b < o.repeat % batches ? 1 : 0);
        uint64_t ns = 0;
        for (uint64_t i = 0; i < size; ++i) {
            auto run = run_once(t, e, o, ctx, env);
            if (auto* f = std::get_if<Failure>(&run)) {
                f->message = "run " + std::to_string(done + i + 1) + ": " + f->message;
                return *f;
            }
            last = std::get<RunOutcome>(run);
            ns += last.ns;
        }
        done += size;
        env.trim_trace();
        per_run.push_back(static_cast<double>(ns) / static_cast<double>(size));
        // The first batch tells how long the whole will take.
        if (b == 0 && isatty(STDERR_FILENO) &&
            ns_since(start) * (o.repeat / size) > 1'000'000'000ULL)
            bar.emplace(o.repeat);
        if (bar) bar->update(done);
    }
    std::sort(per_run.begin(), per_run.end());
    timing.median_ns = percentile(per_run, 0.5);
    timing.p10_ns = percentile(per_run, 0.1);
    timing.p90_ns = percentile(per_run, 0.9);
    timing.insns = last.insns;
    return timing;
}

} // namespace ebpf::cli::run
