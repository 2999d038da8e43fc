// What ebpf-run prints after a run: a short human summary, or one JSON object (the schema is in
// README.md: program, section, type, engine, verifier, r0, packet_out, maps, output,
// time_ns_per_run, plus repeat with --repeat and pcap with --pcap).
#pragma once

#include "cli/run/engine.hpp"
#include "cli/run/target.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ebpf::cli::run {

struct PcapSummary {
    uint64_t packets = 0;
    uint64_t passed = 0;
    std::map<std::string, uint64_t> verdicts; // r0's name (or value), or "not run: EINVAL"
    double median_ns = 0;
};

struct Report {
    const Target* target = nullptr;
    const Options* options = nullptr;
    EngineKind engine = EngineKind::interp;
    Mode mode = Mode::fast;
    bool ran = false; // false for --verify-only and rejected programs
    RunOutcome outcome;
    // Packet types' single run: the packet as the test run gives it back unchanged, and as the
    // program left it.
    std::optional<std::vector<uint8_t>> packet_in, packet_out;
    // With --ctx-in: the context given and the one the run left (as the test run's ctx_out).
    std::optional<std::vector<uint8_t>> ctx_in, ctx_out;
    std::optional<Timing> timing;    // --repeat
    std::optional<PcapSummary> pcap; // --pcap
    nlohmann::ordered_json maps =
        nlohmann::ordered_json::object(); // changed maps, or all with --dump-maps
    std::vector<std::string> trace_printk;
    uint64_t trace_dropped = 0; // lines past RunEnv::max_trace_lines
    std::vector<std::vector<uint8_t>> perf_events;
};

// What r0 means for the program type: "XDP_DROP", "TC_ACT_SHOT", "keep 64 bytes", "drop",
// "allow"; empty when the type gives it no meaning.
std::string r0_meaning(const ProgTypeInfo* info, uint64_t r0);

std::string human_report(const Report& report);
nlohmann::ordered_json json_report(const Report& report);

} // namespace ebpf::cli::run
