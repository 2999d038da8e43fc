// An ELF object made ready to run: its maps created (global data filled in), each program
// verified like the kernel would, its context accesses rewritten for the runtime context, its
// map references bound, and prog arrays and map-in-maps given their static contents.
//
//   auto obj = ebpf::LoadedObject::open(bytes, "xdp_fw", vm, {});
//   const ebpf::LoadedProgram* p = obj->program("xdp_filter");
//   auto ctx = ebpf::make_test_run_context(p->type, {packet});
//   auto r0 = obj->run(*p, **ctx, {});
#pragma once

#include "maps/map.hpp"
#include "verifier/verifier.hpp"
#include "vm/loader/object.hpp"
#include "vm/progtypes/test_run.hpp"
#include "vm/vm.hpp"

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ebpf {

class LoadedObject;

struct ObjectOptions {
    uint32_t ncpus = 1;           // per-CPU map slots
    bool verify = true;           // false: run unverified programs in checked mode only
    int log_level = 0;            // the verifier's
    std::optional<ProgType> type; // for programs whose section names no known type
    LoadOptions load; // CO-RE target BTF, kconfig values, host defaults (vm/loader/object.hpp)
    // Called once the maps exist, before any program is verified: where a host sets global data
    // the verifier reads as constants (.rodata), as a libbpf skeleton does before load.
    std::function<Status(const LoadedObject&)> maps_created;
};

struct LoadedProgram {
    std::string name;
    std::string section;
    ProgType type = ProgType::unspec;
    std::vector<Insn> insns;        // as linked by the loader (before rewriting)
    VerifierResult verdict;         // the verifier's verdict, log and statistics
    std::optional<Program> program; // absent when the verifier refused it
    std::vector<FuncInfo> func_info;
    std::vector<LineInfo> line_info;
    std::vector<PoisonedInsn> poisoned; // instructions the loader made invalid calls, and why
    bool verified = false;              // false: only checked-mode runs are allowed
    // Why this VM cannot take the program, which is then not runnable: a program type it does not
    // describe (fentry, lsm, struct_ops, ...: not verified either), or a call of a helper the
    // verifier knows but this VM does not implement. Empty otherwise. The rest of the object
    // loads and runs.
    std::string unsupported;
};

struct RunOptions {
    Mode mode = Mode::fast;
    uint32_t cpu = 0;
    uint64_t insn_budget = 10'000'000;
    void* host = nullptr;
    std::vector<std::string>* trace_pipe = nullptr; // receives the bpf_trace_printk lines
    const TaskIdentity* task = nullptr;             // the current task helpers report
    // The kernel and user call chains bpf_get_stackid and bpf_get_stack report (innermost
    // first; RunState::kernel_callchain); empty, none.
    std::span<const uint64_t> kernel_callchain;
    std::span<const uint64_t> user_callchain;
    // The kernel and user memory bpf_probe_read* and the %s of printk read
    // (RunState::kernel_memory, user_memory); empty, none beyond the run's own.
    std::span<const MemoryImage> kernel_memory;
    std::span<const MemoryImage> user_memory;
    // Receives where the run's last bpf_redirect or bpf_redirect_map sent the packet.
    RedirectInfo* redirect = nullptr;
    // Receives the copies bpf_clone_redirect sent, in order.
    std::vector<SkbClone>* clones = nullptr;
    // Runs a verified program in fast mode instead of the interpreter when set: the JIT's
    // compiled code (jit/ builds on vm/, so it comes in as a function).
    std::function<Result<RunResult>(const RunArgs&, RunState&)> engine;
};

class LoadedObject {
  public:
    static Result<LoadedObject> open(std::span<const uint8_t> elf, const std::string& object_name,
                                     const Vm& vm, const ObjectOptions& options = {});
    // One program from raw instructions (no maps, no BTF), of options.type, named `name`.
    static Result<LoadedObject> from_insns(std::vector<Insn> insns, const std::string& name,
                                           const Vm& vm, const ObjectOptions& options);

    const std::vector<MapSpec>& map_specs() const { return map_specs_; }
    // By map_specs() index; null for a map of a kind this VM does not have (map_type_supported),
    // which the programs using it make unsupported.
    const std::vector<std::shared_ptr<Map>>& maps() const { return maps_; }
    std::shared_ptr<Map> map(std::string_view name) const;

    std::deque<LoadedProgram>& programs() { return programs_; }
    const std::deque<LoadedProgram>& programs() const { return programs_; }
    const LoadedProgram* program(std::string_view name) const;

    // Runs a program on a context built by make_test_run_context. Unverified programs run in
    // checked mode whatever options.mode says.
    Result<RunResult> run(const LoadedProgram& prog, RunContext& ctx,
                          const RunOptions& options) const;

  private:
    std::vector<MapSpec> map_specs_;
    std::vector<std::shared_ptr<Map>> maps_; // by map_specs_ index; null for a kind not supported
    std::vector<Map*> map_ptrs_;             // the same, as programs' lddw name them
    std::vector<Map*> live_maps_;            // the maps that exist, for runs
    uint32_t ncpus_ = 1;                     // the CPUs a run may say it is on
    std::deque<LoadedProgram> programs_;     // stable addresses: prog arrays point at them
    const Vm* vm_ = nullptr;
};

} // namespace ebpf
