// The oracle: an object loaded into the running kernel with libbpf, its programs test-run with
// BPF_PROG_TEST_RUN, its maps read with BPF_MAP_GET_NEXT_KEY / BPF_MAP_LOOKUP_ELEM, its ring
// buffer and perf event array records consumed as ring_buffer / perf_buffer deliver them.
#pragma once

#include "tests/progs/map_dump.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string>

struct bpf_object;
struct ring_buffer;
struct perf_buffer;

namespace oracle {

class KernelObject {
  public:
    // Opens and loads the object; null and *error (libbpf's messages, the verifier's log) when
    // the kernel refuses it.
    static std::unique_ptr<KernelObject> load(const std::string& path, std::string* error);
    ~KernelObject();
    KernelObject(const KernelObject&) = delete;
    KernelObject& operator=(const KernelObject&) = delete;

    // The program's bpf_prog_type, or -1 when the object has no such program.
    int program_type(const std::string& program) const;

    // Writes a control-plane element; an error message, or empty.
    std::string setup(const MapSetup& s);

    // Test-runs the program on cpu (the caller's CPU: the test pins itself to it). A refused
    // run gives the errno's name in Outcome::error. The maps are dumped after the run.
    Outcome run(const std::string& program, const Input& input, uint32_t cpu);

    std::map<std::string, Dump> dump();

    // How many instructions the kernel's verifier processed for the program.
    std::optional<uint64_t> insns_processed(const std::string& program) const;

  private:
    KernelObject() = default;
    bool open_consumers(std::string* error);

    bpf_object* obj_ = nullptr;
    std::map<std::string, std::unique_ptr<MapView>> maps_;
    std::vector<ring_buffer*> rings_;
    std::vector<perf_buffer*> perfs_;
    std::map<std::string, std::string> stats_; // the verifier's statistics, by program
};

// Whether this process may load programs into the kernel (root: CAP_BPF, CAP_PERFMON,
// CAP_NET_ADMIN); the reason when not.
bool kernel_available(std::string* why);

} // namespace oracle
