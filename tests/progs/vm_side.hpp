// This VM's side of the oracle: the same object opened with LoadedObject (maps created, programs
// verified and rewritten), the same inputs framed by make_test_run_context, and the maps read
// through their host view. Runs in the interpreter or in the JIT.
#pragma once

#include "jit/jit.hpp"
#include "tests/progs/map_dump.hpp"
#include "vm/loaded_object.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string>

namespace oracle {

class VmObject {
  public:
    // Opens the object with ncpus per-CPU slots. On failure, *error says why: the loader's or a
    // map's error, or each program the verifier refused and its message.
    enum class Engine { interpreter, jit };
    static std::unique_ptr<VmObject> open(const std::string& path, uint32_t ncpus, Engine engine,
                                          std::string* error);

    // Writes a control-plane element through the map's syscall view; an error message, or empty.
    std::string setup(const MapSetup& s);

    // Runs the program on an input as on CPU cpu; the maps are dumped after the run.
    Outcome run(const std::string& program, const Input& input, uint32_t cpu);

    std::map<std::string, Dump> dump();

    // How many instructions this VM's verifier processed for the program.
    std::optional<uint64_t> insns_processed(const std::string& program) const;

  private:
    VmObject() = default;

    std::unique_ptr<ebpf::Vm> vm_; // the object's programs keep a reference to its helpers
    std::optional<ebpf::LoadedObject> obj_;
    std::map<std::string, ebpf::JitProgram> jitted_; // by program name, with Engine::jit
    std::map<std::string, std::unique_ptr<MapView>> maps_;
};

} // namespace oracle
