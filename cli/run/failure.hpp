// ebpf-run's exit codes and the one-line failure every stage returns instead of throwing.
#pragma once

#include <optional>
#include <string>
#include <variant>

namespace ebpf::cli::run {

enum class Exit : int {
    ran = 0,           // the program ran (or --list, --help)
    rejected = 1,      // the verifier refused the program
    usage = 2,         // bad options or bad input files (--ctx, --map-init, --pcap, ...)
    load_failed = 3,   // the object could not be loaded: the message names the section or offset
    runtime_fault = 4, // a fault in checked mode, an exhausted budget, a helper's fault
};

struct Failure {
    Exit code;
    std::string message; // one line, without the "ebpf-run: " prefix
};

// What a stage gives back: its value, or why the run stops.
template <typename T> using OrFailure = std::variant<T, Failure>;
using Stop = std::optional<Failure>;

} // namespace ebpf::cli::run
