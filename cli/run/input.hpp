// The input of a run, by program type: a packet (--ctx, --pcap), a context image (--ctx, --regs)
// or plain memory (--mem), and the test-run context built from it for each run.
#pragma once

#include "cli/run/failure.hpp"
#include "cli/run/options.hpp"
#include "cli/run/target.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace ebpf::cli::run {

// Types whose input is a packet (the test run's data_in) rather than a context image.
bool takes_packet(ProgType type);

// The packet types whose programs see the Ethernet header (xdp, tc). The others see the packet
// from its network header, and the test run gives their packet back with a zeroed Ethernet header
// (as the kernel's bpf_prog_test_run_skb does); they cannot change the packet.
bool sees_l2(ProgType type);

// The packet as the test run gives it back when the program changed nothing: the input, with a
// zeroed Ethernet header for the types that do not see it.
std::vector<uint8_t> unchanged_packet(ProgType type, std::vector<uint8_t> packet);

// The bytes the options give for a single run: the packet, the context image (from --ctx or
// built from --regs) or the --mem memory. Checks that the options fit the program type.
OrFailure<std::vector<uint8_t>> read_input(const Options& options, const Target& target);

// A whole file, for an option; a failure naming the option.
OrFailure<std::vector<uint8_t>> read_bytes(const std::string& option, const std::string& path);

// --ctx-in's bytes, for a packet type; none without it.
OrFailure<std::optional<std::vector<uint8_t>>> read_ctx_in(const Options& options,
                                                           const Target& target);

// A fresh context of the target's type for one run on `input` (a packet or a context image) and,
// for a packet type, the ctx_in it starts from. Errors name what the kernel's test run would
// answer ("EINVAL: data_in must hold 14 ...").
OrFailure<std::unique_ptr<RunContext>>
make_context(const Target& target, std::span<const uint8_t> input,
             const std::optional<std::vector<uint8_t>>& ctx_in = std::nullopt);

} // namespace ebpf::cli::run
