// The kernel oracle's vocabulary: a case (a program of an object, the map contents the control
// plane gives it, its inputs), what one run of an input produced on one side (this VM or the
// kernel), and the differences between two such outcomes.
#pragma once

#include "tests/progs/packets.hpp"
#include "vm/progtypes/prog_type.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace oracle {

// A map's contents as text, one line an element or record, so that two sides compare line by
// line and a difference reads well: "key 0a000001 => 0200000000000000".
using Dump = std::vector<std::string>;

struct Input {
    Input(std::string name_, Bytes data_, std::optional<Bytes> ctx_ = std::nullopt,
          int kernel_errno_ = 0)
        : name(std::move(name_)), data(std::move(data_)), ctx(std::move(ctx_)),
          kernel_errno(kernel_errno_) {}

    std::string name;
    Bytes data;               // data_in: the packet (network types)
    std::optional<Bytes> ctx; // ctx_in: a UAPI context or a tracing type's record
    int kernel_errno = 0;     // the kernel's test run fails with this (an input it refuses)
};

// An element the control plane writes before the first input (BPF_ANY).
struct MapSetup {
    std::string map;
    Bytes key;
    Bytes value;
};

struct Outcome {
    std::string error; // a failed run: the errno name of a refused test run, or the VM's error
    uint32_t r0 = 0;   // BPF_PROG_TEST_RUN's retval is 32 bits
    Bytes packet;      // data_out
    std::optional<Bytes> ctx;         // ctx_out, when ctx_in was given
    std::map<std::string, Dump> maps; // after the run, by map name
};

// For the types the kernel cannot test-run (kprobe, tracepoint, perf_event): what the test
// computes the run must give. Only the maps named here are compared; a name starting with '.'
// stands for the global data map of that section (libbpf prefixes it with the object's name).
struct Expected {
    uint32_t r0 = 0;
    std::map<std::string, Dump> maps;
};

struct Case {
    std::string object;  // the .o file, without its directory
    std::string program; // the program run; also the case's name in the known differences
    ebpf::ProgType type;
    std::vector<MapSetup> setup;
    std::vector<Input> inputs;
    // Set for the types the kernel cannot test-run: the outcome after inputs[0..i].
    std::function<Expected(size_t i)> expect;
};

struct Difference {
    std::string program;
    std::string input;  // "*" for the whole program (it did not load)
    std::string aspect; // load, setup, run, r0, packet, ctx, "map <name>"
    std::string detail;
};

// The differences between the oracle's outcome and this VM's for one input.
std::vector<Difference> compare(const std::string& program, const std::string& input,
                                const Outcome& oracle, const Outcome& vm);
// The same against an expectation (only its maps are compared).
std::vector<Difference> compare(const std::string& program, const std::string& input,
                                const Expected& expected, const Outcome& vm);

// Hex text of bytes, for dumps and messages.
std::string hex(const uint8_t* p, size_t n);
inline std::string hex(const Bytes& b) {
    return hex(b.data(), b.size());
}

} // namespace oracle
