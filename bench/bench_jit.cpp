// JIT speed: ns per executed instruction on the interpreter benchmark's two loops (a tight
// ALU/branch loop and a load/store-heavy loop), the fixed cost of a run and of a helper call, and
// the time to compile a 4,096-instruction program, with and without constant blinding.
#include "bench/loops.hpp"
#include "jit/jit.hpp"
#include "vm/isa/assembler.hpp"
#include "vm/vm.hpp"

#include <benchmark/benchmark.h>

#include <stdexcept>
#include <vector>

namespace {

ebpf::Program load(const ebpf::Vm& vm, const std::vector<ebpf::Insn>& insns) {
    auto prog = vm.load(insns);
    if (!prog) throw std::runtime_error(prog.error().to_string());
    return std::move(*prog);
}

void run_bench(benchmark::State& st, const char* text, bool blind) {
    std::vector<uint8_t> memory(4096 + 16);
    auto insns = ebpf::assemble(text);
    if (!insns) throw std::runtime_error(insns.error().to_string());
    ebpf::Vm vm;
    const ebpf::Program prog = load(vm, *insns);
    // The checked interpreter counts the instructions one run executes.
    ebpf::RunState counting;
    counting.allow(memory.data(), memory.size(), true);
    auto counted = vm.run(
        prog,
        {reinterpret_cast<uint64_t>(memory.data()), memory.size(), ebpf::Mode::checked, UINT64_MAX},
        counting);
    if (!counted) throw std::runtime_error(counted.error().to_string());
    auto jitted = ebpf::jit_compile(prog, ebpf::JitOptions{blind});
    if (!jitted) throw std::runtime_error(jitted.error().to_string());

    for (auto _ : st) {
        ebpf::RunState state;
        auto r = jitted->run({reinterpret_cast<uint64_t>(memory.data()), memory.size()}, state);
        benchmark::DoNotOptimize(r);
    }
    const auto per_run = static_cast<double>(counted->insns_executed);
    st.counters["per_insn"] =
        benchmark::Counter(per_run * static_cast<double>(st.iterations()),
                           benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    st.counters["insns_per_run"] = per_run;
}

// The fixed cost of a run (entry, frame, exit) and of a helper call, on a state kept across runs
// as an embedder running packet after packet keeps it.
void overhead_bench(benchmark::State& st, const char* text) {
    auto insns = ebpf::assemble(text);
    if (!insns) throw std::runtime_error(insns.error().to_string());
    ebpf::Vm vm;
    const ebpf::Program prog = load(vm, *insns);
    auto jitted = ebpf::jit_compile(prog);
    if (!jitted) throw std::runtime_error(jitted.error().to_string());
    ebpf::RunState state;
    for (auto _ : st) {
        auto r = jitted->run({}, state);
        benchmark::DoNotOptimize(r);
    }
}

// 4,096 instructions of the usual mix: ALU with immediates and registers, stack loads and
// stores, forward branches, a helper call now and then.
std::vector<ebpf::Insn> large_program() {
    using namespace ebpf;
    constexpr size_t size = 4096;
    std::vector<Insn> insns;
    for (uint8_t r = 0; r <= 9; ++r)
        insns.push_back(make_insn(BPF_ALU64 | BPF_MOV | BPF_K, r, 0, 0, r));
    for (uint32_t k = 0; insns.size() < size - 3; ++k) { // branches skip at most 2
        const auto dst = static_cast<uint8_t>(k % 10), src = static_cast<uint8_t>((k * 7 + 3) % 10);
        const auto slot = static_cast<int16_t>(-8 * static_cast<int>(1 + k % 64));
        switch (k % 8) {
        case 0:
            insns.push_back(
                make_insn(BPF_ALU64 | BPF_ADD | BPF_K, dst, 0, 0, static_cast<int32_t>(k)));
            break;
        case 1: insns.push_back(make_insn(BPF_ALU | BPF_XOR | BPF_X, dst, src, 0, 0)); break;
        case 2:
            insns.push_back(make_insn(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_10, src, slot, 0));
            break;
        case 3:
            insns.push_back(make_insn(BPF_LDX | BPF_MEM | BPF_W, dst, BPF_REG_10, slot, 0));
            break;
        case 4: insns.push_back(make_insn(BPF_JMP | BPF_JGT | BPF_X, dst, src, 2, 0)); break;
        case 5: insns.push_back(make_insn(BPF_ALU64 | BPF_LSH | BPF_K, dst, 0, 0, 3)); break;
        case 6: insns.push_back(make_insn(BPF_ALU64 | BPF_MUL | BPF_X, dst, src, 0, 0)); break;
        default:
            insns.push_back(k % 64 == 7 ? make_insn(BPF_JMP | BPF_CALL, 0, 0, 0, 5) // ktime_get_ns
                                        : make_insn(BPF_JMP32 | BPF_JSLT | BPF_K, dst, 0, 1, -5));
            break;
        }
    }
    while (insns.size() < size - 1)
        insns.push_back(make_insn(BPF_ALU64 | BPF_ADD | BPF_K, 0, 0, 0, 1));
    insns.push_back(make_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    return insns;
}

void compile_bench(benchmark::State& st, bool blind) {
    ebpf::Vm vm;
    const auto insns = large_program();
    const ebpf::Program prog = load(vm, insns);
    size_t code_size = 0;
    for (auto _ : st) {
        auto jitted = ebpf::jit_compile(prog, ebpf::JitOptions{blind});
        if (!jitted) throw std::runtime_error(jitted.error().to_string());
        code_size = jitted->code().size();
        benchmark::DoNotOptimize(jitted);
    }
    st.counters["insns"] = static_cast<double>(insns.size());
    st.counters["code_bytes"] = static_cast<double>(code_size);
}

} // namespace

BENCHMARK_CAPTURE(run_bench, alu_branch_jit, bench::alu_loop, false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(run_bench, alu_branch_jit_blinded, bench::alu_loop, true)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(run_bench, load_store_jit, bench::mem_loop, false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(run_bench, load_store_jit_blinded, bench::mem_loop, true)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(overhead_bench, run_empty, "r0 = 2\nexit")->Unit(benchmark::kNanosecond);
BENCHMARK_CAPTURE(overhead_bench, run_one_helper, "call bpf_get_smp_processor_id#8\nexit")
    ->Unit(benchmark::kNanosecond);
BENCHMARK_CAPTURE(compile_bench, compile_4096, false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(compile_bench, compile_4096_blinded, true)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
