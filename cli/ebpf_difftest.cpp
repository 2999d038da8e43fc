// ebpf-difftest: the kernel verifier cases through this VM's verifier, scored against what the
// live kernel did (the `kernel` fields of each case).
//
//   ebpf-difftest --cases cases.jsonl [--report OUT.jsonl] [--only ID] [--all]
//
// One JSON line a case goes to the report: {"id", "verdict", "message", "insns_processed",
// "retval"}. The summary counts agreement over the in-scope cases (--all: every case) and lists
// the disagreements.
#include "cli/kernel_cases.hpp"
#include "verifier/verifier.hpp"
#ifdef EBPF_KERNEL_ORACLE
#include "cli/kernel_oracle.hpp"
#endif

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <unistd.h>

namespace po = boost::program_options;

// --unpriv: the verifier with the unprivileged rules against the live kernel's, for the program
// types an unprivileged user may load.
int score_unprivileged(std::vector<ebpf::cli::KernelCase>& cases, const std::string& only,
                       bool quiet) {
#ifdef EBPF_KERNEL_ORACLE
    size_t scored = 0, verdict_agree = 0, rejects = 0, message_agree = 0;
    for (auto& c : cases) {
        if (!only.empty() && c.id != only) continue;
        if (!c.in_scope || !c.prog_type ||
            (c.prog_type_name != "socket_filter" && c.prog_type_name != "cgroup_skb"))
            continue;
        auto maps = ebpf::cli::create_case_maps(c, 1);
        if (!maps) continue;
        auto k = ebpf::cli::run_in_kernel(c, true);
        if (!k && k.error().message.find("not permitted") != std::string::npos) {
            std::cerr << "ebpf-difftest: " << k.error().to_string() << "\n";
            return 1;
        }
        if (!k) continue; // a map the kernel side does not make
        ebpf::VerifierOptions vopts;
        vopts.prog_type = *c.prog_type;
        vopts.privileged = false;
        vopts.log_level = only.empty() ? 0 : 2;
        vopts.strict_alignment = c.test_flags & 2;
        vopts.test_state_freq = c.test_flags & 8;
        vopts.ncpus = static_cast<uint32_t>(sysconf(_SC_NPROCESSORS_CONF));
        for (auto& m : maps->maps)
            vopts.maps.push_back(m.get());
        const auto result = ebpf::verify(c.insns, vopts);
        if (!only.empty()) std::cout << result.log;
        ++scored;
        const std::string ours = result.accepted ? "accept" : "reject";
        if (ours == k->verdict) ++verdict_agree;
        if (k->verdict == "reject") {
            ++rejects;
            if (!result.accepted && result.error == k->message) ++message_agree;
        }
        if (!quiet && (ours != k->verdict || (!result.accepted && result.error != k->message)))
            std::cout << c.id << ": kernel " << k->verdict
                      << (k->message.empty() ? "" : " '" + k->message + "'") << ", ours " << ours
                      << (result.accepted ? "" : " '" + result.error + "'") << "\n";
    }
    std::printf("unprivileged cases scored: %zu\nverdict agreement: %zu/%zu\nrejections with the "
                "kernel's message: %zu/%zu\n",
                scored, verdict_agree, scored, message_agree, rejects);
    return 0;
#else
    (void)cases, (void)only, (void)quiet;
    std::cerr << "ebpf-difftest: this build has no kernel oracle (libbpf, Linux)\n";
    return 1;
#endif
}

int main(int argc, char** argv) {
    std::string cases_path, report_path, only, engine;
    po::options_description opts("Usage: ebpf-difftest --cases FILE.jsonl [options]\n\nOptions");
    opts.add_options()("help,h", "show this help")("cases", po::value(&cases_path),
                                                   "FILE: cases in the corpus format")(
        "report", po::value(&report_path), "FILE: write one JSON line per case")(
        "only", po::value(&only), "ID: run just this case and print its verifier log")(
        "all", "score every case, not only the in-scope ones")(
        "engine", po::value(&engine)->default_value("interp"),
        "interp|jit: what runs the accepted cases")(
        "kernel",
        "also load and run each case in the live kernel (Linux, root) and report it beside")(
        "unpriv", "score the unprivileged verifier instead, against the live kernel loading the "
                  "socket filter and cgroup_skb cases as nobody (needs "
                  "kernel.unprivileged_bpf_disabled=0)")(
        "quiet,q", "print the summary only, not each disagreement");
    po::variables_map args;
    try {
        po::store(po::parse_command_line(argc, argv, opts), args);
        po::notify(args);
    } catch (const po::error& e) {
        std::cerr << "ebpf-difftest: " << e.what() << "\n";
        return 2;
    }
    if (args.count("help") || cases_path.empty()) {
        std::cout << opts;
        return args.count("help") ? 0 : 2;
    }
    if (engine != "interp" && engine != "jit") {
        std::cerr << "ebpf-difftest: --engine is interp or jit\n";
        return 2;
    }
    const auto case_engine =
        engine == "jit" ? ebpf::cli::CaseEngine::jit : ebpf::cli::CaseEngine::interp;
    auto cases = ebpf::cli::load_kernel_cases(cases_path);
    if (cases && args.count("unpriv")) return score_unprivileged(*cases, only, args.count("quiet"));
    if (!cases) {
        std::cerr << "ebpf-difftest: " << cases.error().to_string() << "\n";
        return 3;
    }
    std::ofstream report;
    if (!report_path.empty()) report.open(report_path);

    size_t live_runs = 0, live_verdict_agree = 0; // against the live kernel (--kernel)
    size_t scored = 0, verdict_agree = 0, rejects = 0, message_agree = 0, runs = 0,
           retval_agree = 0;
    std::vector<std::string> disagreements;
    for (auto& c : *cases) {
        if (!only.empty() && c.id != only) continue;
        const bool score = args.count("all") || c.in_scope;
        if (!c.prog_type) continue;
        auto maps = ebpf::cli::create_case_maps(c, 1);
        ebpf::VerifierOptions vopts;
        vopts.prog_type = *c.prog_type;
        vopts.log_level = only.empty() ? 0 : 2;
        vopts.strict_alignment = c.test_flags & 2;
        vopts.test_state_freq = c.test_flags & 8;
        vopts.ncpus = static_cast<uint32_t>(sysconf(_SC_NPROCESSORS_CONF)); // the kernel's machine
        std::vector<const ebpf::Map*> raw;
        if (maps)
            for (auto& m : maps->maps)
                raw.push_back(m.get());
        vopts.maps = raw;
        const auto t0 = std::chrono::steady_clock::now();
        const auto result = ebpf::verify(c.insns, vopts);
        const auto usec = std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::steady_clock::now() - t0)
                              .count();
        if (!only.empty()) std::cout << result.log;

        // Accepted programs run once on the case's data, framed like the kernel's test run.
        nlohmann::json retval = nullptr;
        std::string run_error;
        if (result.accepted && maps && c.kernel.retval) {
            auto r0 = ebpf::cli::run_case(c, *maps, ebpf::Mode::fast, result, case_engine);
            if (r0)
                retval = *r0;
            else
                run_error = r0.error().to_string();
        }
        nlohmann::json line{
            {"id", c.id},
            {"verdict", result.accepted ? "accept" : "reject"},
            {"message", result.accepted ? nlohmann::json(nullptr) : nlohmann::json(result.error)},
            {"insns_processed", result.insns_processed},
            {"retval", retval},
            {"verification_usec", usec}};
        if (!run_error.empty()) line["run_error"] = run_error;
        if (args.count("kernel")) {
#ifdef EBPF_KERNEL_ORACLE
            auto k = ebpf::cli::run_in_kernel(c);
            if (k) {
                ++live_runs;
                if (k->verdict == (result.accepted ? "accept" : "reject")) ++live_verdict_agree;
            }
            if (k)
                line["kernel"] = {{"verdict", k->verdict},
                                  {"message", k->message.empty() ? nlohmann::json(nullptr)
                                                                 : nlohmann::json(k->message)},
                                  {"insns_processed", k->insns_processed
                                                          ? nlohmann::json(*k->insns_processed)
                                                          : nullptr},
                                  {"retval", k->retval ? nlohmann::json(*k->retval) : nullptr}};
            else
                line["kernel"] = {{"error", k.error().to_string()}};
#else
            line["kernel"] = {{"error", "this build has no kernel oracle (libbpf, Linux)"}};
#endif
        }
        if (report) report << line.dump() << "\n";
        if (!score) continue;
        ++scored;
        if (c.kernel.retval && c.kernel.retval_stable && result.accepted &&
            c.kernel.verdict == "accept") {
            ++runs;
            // BPF_PROG_TEST_RUN reports r0 as a u32.
            if (retval.is_number() &&
                static_cast<uint32_t>(retval.get<uint64_t>()) == *c.kernel.retval)
                ++retval_agree;
            else
                disagreements.push_back(
                    c.id + ": kernel retval " + std::to_string(*c.kernel.retval) + ", ours " +
                    (retval.is_number() ? std::to_string(retval.get<uint64_t>()) : run_error));
        }
        const std::string ours = result.accepted ? "accept" : "reject";
        if (ours == c.kernel.verdict) ++verdict_agree;
        if (c.kernel.verdict == "reject") {
            ++rejects;
            if (!result.accepted && result.error == c.kernel.message) ++message_agree;
        }
        if (ours != c.kernel.verdict || (!result.accepted && result.error != c.kernel.message))
            disagreements.push_back(
                c.id + ": kernel " + c.kernel.verdict +
                (c.kernel.message.empty() ? "" : " '" + c.kernel.message + "'") + ", ours " + ours +
                (result.accepted ? "" : " '" + result.error + "'"));
    }
    if (!args.count("quiet"))
        for (const auto& d : disagreements)
            std::cout << d << "\n";
    auto pct = [](size_t a, size_t b) {
        return b ? 100.0 * static_cast<double>(a) / static_cast<double>(b) : 0.0;
    };
    std::printf("cases scored: %zu\nverdict agreement: %zu/%zu (%.1f%%)\nrejections with the "
                "kernel's message: %zu/%zu (%.1f%%)\n",
                scored, verdict_agree, scored, pct(verdict_agree, scored), message_agree, rejects,
                pct(message_agree, rejects));
    std::printf("return values of accepted runs (stable ones): %zu/%zu (%.1f%%)\n", retval_agree,
                runs, pct(retval_agree, runs));
    if (args.count("kernel"))
        std::printf("live kernel: %zu cases loaded, verdict agreement %zu/%zu (%.1f%%)\n",
                    live_runs, live_verdict_agree, live_runs, pct(live_verdict_agree, live_runs));
    return 0;
}
