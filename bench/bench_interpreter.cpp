// Interpreter speed: ns per executed instruction on a tight ALU/branch loop and on a
// load/store-heavy loop, in fast mode (verified programs) and checked mode.
#include "bench/loops.hpp"
#include "vm/isa/assembler.hpp"
#include "vm/vm.hpp"

#include <benchmark/benchmark.h>

#include <stdexcept>
#include <vector>

namespace {

struct Bench {
    ebpf::Vm vm;
    ebpf::Program prog;
    uint64_t insns_per_run = 0;
};

Bench prepare(const char* text, std::vector<uint8_t>& memory) {
    auto insns = ebpf::assemble(text);
    if (!insns) throw std::runtime_error(insns.error().to_string());
    Bench b{ebpf::Vm{}, {}, 0};
    auto prog = b.vm.load(*insns);
    if (!prog) throw std::runtime_error(prog.error().to_string());
    b.prog = std::move(*prog);
    // Checked mode counts instructions; the count is the same in either mode.
    ebpf::RunState state;
    ebpf::RunArgs args{reinterpret_cast<uint64_t>(memory.data()), memory.size(),
                       ebpf::Mode::checked, UINT64_MAX};
    state.allow(memory.data(), memory.size(), true);
    auto r = b.vm.run(b.prog, args, state);
    if (!r) throw std::runtime_error(r.error().to_string());
    b.insns_per_run = r->insns_executed;
    return b;
}

void run_bench(benchmark::State& st, const char* text, ebpf::Mode mode) {
    std::vector<uint8_t> memory(4096 + 16);
    Bench b = prepare(text, memory);
    for (auto _ : st) {
        ebpf::RunState state;
        state.allow(memory.data(), memory.size(), true);
        ebpf::RunArgs args{reinterpret_cast<uint64_t>(memory.data()), memory.size(), mode,
                           UINT64_MAX};
        auto r = b.vm.run(b.prog, args, state);
        benchmark::DoNotOptimize(r);
    }
    // Seconds per instruction, printed with an SI prefix: "1.4n" is 1.4 ns.
    st.counters["per_insn"] = benchmark::Counter(
        static_cast<double>(b.insns_per_run) * static_cast<double>(st.iterations()),
        benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    st.counters["insns_per_run"] = static_cast<double>(b.insns_per_run);
}

} // namespace

BENCHMARK_CAPTURE(run_bench, alu_branch_fast, bench::alu_loop, ebpf::Mode::fast)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(run_bench, alu_branch_checked, bench::alu_loop, ebpf::Mode::checked)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(run_bench, load_store_fast, bench::mem_loop, ebpf::Mode::fast)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(run_bench, load_store_checked, bench::mem_loop, ebpf::Mode::checked)
    ->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
