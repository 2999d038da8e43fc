// What bench_progs.cpp runs: the benchmark programs of bench/progs (each an XDP program built
// twice, by clang -target bpf into BENCH_PROGS_DIR and natively into this binary), the packet they
// all get, the contents of their maps, and each program made ready in the four engines.
#pragma once

#include "jit/jit.hpp"
#include "vm/loaded_object.hpp"

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct bpf_object; // libbpf's

extern "C" {

// bench/progs/bench.h's native struct xdp_md.
struct NativeXdpMd {
    uintptr_t data;
    uintptr_t data_end;
    uintptr_t data_meta;
    uint32_t ingress_ifindex;
    uint32_t rx_queue_index;
    uint32_t egress_ifindex;
};

// A native map: the shim's bpf_map_lookup_elem() reads the ebpf::Map from its first field.
struct NativeMap {
    ebpf::Map* map;
};

using NativeProgram = int (*)(NativeXdpMd* ctx);

} // extern "C"

namespace bench {

// Writes one element of a map, by the map's name in the object.
using MapWriter = std::function<void(const std::string& map, const void* key, const void* value)>;

struct Case {
    std::string name; // bench/progs/<name>.c; its program is bench_<name>
    NativeProgram native;
    // The maps' contents, and the native maps to point at the VM's (by name).
    std::function<void(const MapWriter&)> fill_maps;
    std::vector<std::pair<std::string, NativeMap*>> native_maps;
};

const std::vector<Case>& cases();

// Ethernet, IPv4 and UDP headers (checksums right) and BENCH_PAYLOAD bytes of payload.
std::vector<uint8_t> bench_packet();

// One program in this VM: interpreted or compiled, on its own copy of the packet.
class VmProgram {
  public:
    static std::unique_ptr<VmProgram> load(const Case& c, std::string& error);

    // One run. The context and state last as long as this object, like the kernel's test run
    // that repeats on one packet.
    uint64_t run_interpreter();
    uint64_t run_jit();
    // Native runs look maps up in this object's maps once they are bound here (the native maps
    // are globals: the last binding wins).
    void bind_native_maps(const Case& c);
    int run_native();
    std::vector<uint8_t> packet() const { return ctx_->data_out(); }
    std::vector<uint8_t> native_packet() const;
    bool verified() const { return program_->verified; }

  private:
    VmProgram() = default;

    ebpf::Vm vm_;
    std::optional<ebpf::LoadedObject> object_;
    const ebpf::LoadedProgram* program_ = nullptr;
    std::unique_ptr<ebpf::RunContext> ctx_;
    std::unique_ptr<ebpf::RunState> state_;
    ebpf::RunArgs args_;
    std::optional<ebpf::JitProgram> jitted_;
    NativeProgram native_ = nullptr;
    // As the kernel's test run lays a packet out: a page, the packet at 256 bytes into it.
    struct PageDeleter {
        void operator()(uint8_t* page) const { std::free(page); }
    };
    std::unique_ptr<uint8_t, PageDeleter> native_page_;
    NativeXdpMd native_ctx_{};
};

// One program in the running kernel (libbpf), or why it cannot be.
class KernelProgram {
  public:
    static std::unique_ptr<KernelProgram> load(const Case& c, std::string& error);
    ~KernelProgram();

    struct Run {
        uint32_t retval = 0;
        uint32_t ns_per_run = 0; // the kernel's duration: an integer mean
        std::vector<uint8_t> packet;
    };
    // BPF_PROG_TEST_RUN with repeat; the packet the last run left. Fails with errno's text.
    std::optional<Run> run(uint32_t repeat, std::string& error);

  private:
    KernelProgram() = default;
    ::bpf_object* object_ = nullptr;
    int fd_ = -1;
};

std::string object_path(const std::string& name);

} // namespace bench
