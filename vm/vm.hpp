// The embedding API: one header. A host creates a Vm, registers its helpers, loads instructions
// and runs them against its memory.
//
//   ebpf::Vm vm;
//   vm.register_helper(0x10000, "host_log", &host_log);
//   auto prog = vm.load(insns);              // Result<Program>: validated and decoded
//   auto r0 = vm.run(*prog, buffer);         // Result<uint64_t>: r1 = buffer, r2 = its size
#pragma once

#include "helpers/registry.hpp"
#include "vm/interpreter.hpp"
#include "vm/program.hpp"

#include <memory>
#include <span>

namespace ebpf {

class Vm {
  public:
    // A new VM knows the kernel helpers this build implements.
    Vm();

    // Adds or replaces a helper; programs loaded afterwards can call it by id.
    void register_helper(int32_t id, std::string name, HelperFn fn);
    const HelperRegistry& helpers() const { return *helpers_; }

    // The program keeps a reference to this VM's helpers: the VM must outlive it.
    Result<Program> load(Insns insns) const;

    // Runs with r1 = memory (0 when empty) and r2 = its length. In checked mode the program may
    // touch only its stack and this memory.
    Result<uint64_t> run(const Program& prog, std::span<uint8_t> memory, Mode mode = Mode::fast,
                         void* host = nullptr) const;

    // The general form: registers and state set by the caller.
    Result<RunResult> run(const Program& prog, const RunArgs& args, RunState& state) const {
        return interpret(prog, args, state);
    }

  private:
    std::unique_ptr<HelperRegistry> helpers_; // stable address for loaded programs
};

} // namespace ebpf
