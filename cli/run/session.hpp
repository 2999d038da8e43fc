// ebpf-run from its command line to its exit code: load, verify, inspect, preload the maps, run
// (once, --repeat times, or per --pcap packet) and report.
#pragma once

namespace ebpf::cli::run {

// The whole tool; returns the exit code (cli/run/failure.hpp). Failures print one line on
// stderr.
int ebpf_run(int argc, const char* const* argv);

} // namespace ebpf::cli::run
