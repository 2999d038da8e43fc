// ebpf-run's command line: every option, parsed with Boost.Program_options into one struct.
#pragma once

#include "cli/run/failure.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace ebpf::cli::run {

enum class EngineKind { interp, jit };

struct Options {
    std::string object; // the positional OBJECT

    // Which program.
    bool raw = false;                // --raw (or a .bin file): bytecode, not ELF
    std::optional<std::string> type; // --type NAME
    std::string program;             // --program NAME
    std::string section;             // --section SEC
    bool list = false;

    // Verification and engine.
    bool verify = true; // --no-verify clears it
    bool verify_only = false;
    int log_level = 0;
    std::optional<EngineKind> engine; // none: the JIT where it can run the program
    uint64_t budget = 10'000'000;     // checked mode's instruction budget
    std::string btf;                  // --btf FILE: the CO-RE target BTF
    std::string kconfig;              // --kconfig FILE: kconfig extern values

    // Input.
    std::string ctx;    // --ctx FILE
    std::string ctx_in; // --ctx-in FILE: a packet type's ctx_in
    std::string regs;   // --regs rdi=1,rsi=0x10
    std::string mem;    // --mem FILE
    std::string pcap, pcap_out;
    // --kstack, --ustack: the call chains bpf_get_stackid and bpf_get_stack report.
    std::vector<uint64_t> kstack, ustack;
    // --kmem, --umem ADDR=FILE: the file's bytes at ADDR in the kernel or user memory the probe
    // reads see; --task-struct ADDR: what bpf_get_current_task answers.
    struct MemoryFile {
        uint64_t addr;
        std::string file;
    };
    std::vector<MemoryFile> kmem, umem;
    uint64_t task_struct = 0;

    // State.
    std::string map_init;
    bool dump_maps = false;
    uint32_t cpus = 1; // --cpus; the host's CPU count by default
    uint32_t cpu = 0;

    // Output.
    bool json = false;
    bool disasm = false;
    bool dump_jit = false;
    std::string cfg;     // --cfg FILE.dot
    uint64_t repeat = 0; // --repeat N; 0: a single run
};

// The options, or what to do instead of running: the help text was printed (Exit::ran) or the
// command line is wrong (Exit::usage with a message).
std::variant<Options, Failure> parse_options(int argc, const char* const* argv);

} // namespace ebpf::cli::run
