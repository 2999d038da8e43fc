// The JIT against the interpreter, native code and the kernel's JIT, on the C programs of
// bench/progs: each built by clang -O2 -target bpf (run here and in the kernel) and by the host
// compiler at -O2 from the same source (run natively on the same packet). Every engine runs on
// one packet again and again, as BPF_PROG_TEST_RUN with repeat does; the kernel's time per run is
// its own (the test run's duration). Before timing, each program's first run is checked to give
// the same r0 and packet in every engine.
//
//   bench_progs                       Google Benchmark output, then the README's table
//   bench_progs --benchmark_repetitions=5 --benchmark_filter=lpm
#include "bench/progs_support.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace {

using bench::Case;

const char* const engines[] = {"interp", "jit", "native", "kernel"};
constexpr uint32_t kernel_repeat = 10000; // runs per BPF_PROG_TEST_RUN

struct Loaded {
    std::unique_ptr<bench::VmProgram> vm;
    std::unique_ptr<bench::KernelProgram> kernel;
    std::string vm_error, kernel_error;
};

std::map<std::string, Loaded>& loaded() {
    static std::map<std::string, Loaded> all;
    return all;
}

Loaded& load(const Case& c) {
    auto [it, fresh] = loaded().try_emplace(c.name);
    if (fresh) {
        it->second.vm = bench::VmProgram::load(c, it->second.vm_error);
        it->second.kernel = bench::KernelProgram::load(c, it->second.kernel_error);
    }
    return it->second;
}

// The first run of a fresh copy in each engine: r0 and the packet agree, or the reason they do
// not. The kernel's answer counts when it could run.
std::string check_agreement(const Case& c) {
    std::string error;
    auto vm = bench::VmProgram::load(c, error);
    if (!vm) return "cannot load: " + error;
    const uint64_t interp = vm->run_interpreter();
    const auto interp_packet = vm->packet();
    auto jit_vm = bench::VmProgram::load(c, error);
    const uint64_t jit = jit_vm->run_jit();
    auto native_vm = bench::VmProgram::load(c, error);
    native_vm->bind_native_maps(c);
    const auto native = static_cast<uint32_t>(native_vm->run_native());
    if (jit != interp || jit_vm->packet() != interp_packet)
        return "the JIT gives " + std::to_string(jit) + ", the interpreter " +
               std::to_string(interp);
    if (native != static_cast<uint32_t>(interp) || native_vm->native_packet() != interp_packet)
        return "native code gives " + std::to_string(native) + ", the interpreter " +
               std::to_string(interp);
    Loaded& l = load(c);
    if (l.kernel) {
        auto run = l.kernel->run(1, error);
        if (!run) return error;
        if (run->retval != static_cast<uint32_t>(interp) || run->packet != interp_packet)
            return "the kernel gives " + std::to_string(run->retval) + ", the interpreter " +
                   std::to_string(interp);
    }
    return "";
}

void run_engine(benchmark::State& st, const Case* c, std::string engine) {
    Loaded& l = load(*c);
    if (!l.vm) return st.SkipWithError(l.vm_error.c_str());
    bench::VmProgram& vm = *l.vm;
    uint64_t r0 = 0;
    if (engine == "interp") {
        for (auto _ : st)
            benchmark::DoNotOptimize(r0 = vm.run_interpreter());
    } else if (engine == "jit") {
        for (auto _ : st)
            benchmark::DoNotOptimize(r0 = vm.run_jit());
    } else if (engine == "native") {
        vm.bind_native_maps(*c);
        for (auto _ : st)
            benchmark::DoNotOptimize(r0 = static_cast<uint64_t>(vm.run_native()));
    } else {
        if (!l.kernel) return st.SkipWithError(l.kernel_error.c_str());
        std::string error;
        for (auto _ : st) {
            auto run = l.kernel->run(kernel_repeat, error);
            if (!run) return st.SkipWithError(error.c_str());
            r0 = run->retval;
            st.SetIterationTime(1e-9 * run->ns_per_run * kernel_repeat);
        }
        st.counters["runs_per_iteration"] = kernel_repeat;
    }
    st.counters["r0"] = static_cast<double>(r0);
}

// Shows every run as the console does and keeps each (program, engine)'s ns per run: the fastest
// of the repetitions when there are some (the machine may be shared: interference only adds).
class TableReporter : public benchmark::ConsoleReporter {
  public:
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const Run& run : runs) {
            if (run.error_occurred) continue;
            const bool aggregate = run.run_type == Run::RT_Aggregate;
            if (aggregate && run.aggregate_name != "min") continue;
            const std::string name = run.run_name.function_name;
            const auto slash = name.find('/');
            if (slash == std::string::npos) continue;
            const auto per = run.counters.find("runs_per_iteration");
            double ns = run.GetAdjustedRealTime();
            if (per != run.counters.end()) ns /= per->second.value;
            double& cell = ns_[name.substr(0, slash)][name.substr(slash + 1)];
            if (aggregate || cell == 0) cell = ns;
        }
    }

    // The README's table: ns per run in each engine and the ratios, with their geometric means.
    void print_table() const {
        std::printf("\n| program | interp ns | JIT ns | native ns | kernel ns | JIT/native | "
                    "JIT/kernel | interp/JIT |\n|---|--:|--:|--:|--:|--:|--:|--:|\n");
        std::vector<double> jit_native, jit_kernel, interp_jit;
        for (const Case& c : bench::cases()) {
            const auto it = ns_.find(c.name);
            if (it == ns_.end()) continue;
            const auto cell = [&](const char* engine) {
                const auto e = it->second.find(engine);
                return e == it->second.end() ? 0.0 : e->second;
            };
            const double interp = cell("interp"), jit = cell("jit"), native = cell("native"),
                         kernel = cell("kernel");
            std::printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", c.name.c_str(),
                        number(interp).c_str(), number(jit).c_str(), number(native).c_str(),
                        number(kernel).c_str(), ratio(jit, native, jit_native).c_str(),
                        ratio(jit, kernel, jit_kernel).c_str(),
                        ratio(interp, jit, interp_jit).c_str());
        }
        std::printf("| geometric mean | | | | | %s | %s | %s |\n", geomean(jit_native).c_str(),
                    geomean(jit_kernel).c_str(), geomean(interp_jit).c_str());
    }

  private:
    static std::string number(double ns) {
        if (ns == 0) return "-";
        char buf[32];
        std::snprintf(buf, sizeof buf, ns < 100 ? "%.1f" : "%.0f", ns);
        return buf;
    }
    static std::string ratio(double a, double b, std::vector<double>& all) {
        if (a == 0 || b == 0) return "-";
        all.push_back(a / b);
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.2f", a / b);
        return buf;
    }
    static std::string geomean(const std::vector<double>& ratios) {
        if (ratios.empty()) return "-";
        double log_sum = 0;
        for (double r : ratios)
            log_sum += std::log(r);
        char buf[32];
        std::snprintf(buf, sizeof buf, "**%.2f**",
                      std::exp(log_sum / static_cast<double>(ratios.size())));
        return buf;
    }

    std::map<std::string, std::map<std::string, double>> ns_;
};

} // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    bool kernel_reason_shown = false;
    for (const Case& c : bench::cases()) {
        Loaded& l = load(c);
        if (!l.kernel && !kernel_reason_shown) {
            std::fprintf(stderr, "kernel column skipped (%s): %s\n", c.name.c_str(),
                         l.kernel_error.c_str());
            kernel_reason_shown = true;
        }
        if (const std::string disagreement = check_agreement(c); !disagreement.empty()) {
            std::fprintf(stderr, "%s: engines disagree: %s\n", c.name.c_str(),
                         disagreement.c_str());
            return 1;
        }
        for (const char* engine : engines) {
            auto* b = benchmark::RegisterBenchmark((c.name + "/" + engine).c_str(), &run_engine, &c,
                                                   std::string(engine));
            b->Unit(benchmark::kNanosecond);
            b->ComputeStatistics("min", [](const std::vector<double>& v) {
                return *std::min_element(v.begin(), v.end());
            });
            if (std::string(engine) == "kernel") b->UseManualTime();
        }
    }
    std::fprintf(stderr, "every program gives the same r0 and packet in every engine\n");
    TableReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    reporter.print_table();
    benchmark::Shutdown();
    return 0;
}
