// The kernel verifier corpus: every in-scope case gets the live kernel's verdict and, for
// rejections, its message; the cases that still disagree are listed with their reason in
// known_disagreements.txt, and that list may only shrink. Accepted cases also take the kernel's
// number of processed instructions (the same exploration, pruning and precision tracking), but
// for those in known_processed_differences.txt, a list that may only shrink too.
#include "cli/kernel_cases.hpp"
#include "verifier/verifier.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <set>

using namespace ebpf;

namespace {

std::map<std::string, std::string> read_list(const char* name) {
    std::ifstream in(std::string(EBPF_VERIFIER_TESTS_DIR "/") + name);
    std::map<std::string, std::string> known;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        const auto bar = line.find(" | ");
        known[line.substr(0, bar)] = bar == std::string::npos ? "" : line.substr(bar + 3);
    }
    return known;
}

VerifierResult verify_case(cli::KernelCase& c) {
    auto maps = cli::create_case_maps(c, 1);
    REQUIRE(maps.ok());
    VerifierOptions opts;
    opts.prog_type = *c.prog_type;
    opts.strict_alignment = c.test_flags & 2;
    opts.test_state_freq = c.test_flags & 8;
    for (auto& m : maps->maps)
        opts.maps.push_back(m.get());
    return verify(c.insns, opts);
}

} // namespace

TEST_CASE("the verifier agrees with the kernel on the corpus, but for the listed cases") {
    auto cases = cli::load_kernel_cases(EBPF_SHARED_DIR "/corpus/kernel-verifier/cases.jsonl");
    REQUIRE(cases.ok());
    const auto known = read_list("known_disagreements.txt");
    REQUIRE_FALSE(known.empty());

    size_t scored = 0, agree = 0;
    std::set<std::string> disagreeing;
    for (auto& c : *cases) {
        if (!c.in_scope || !c.prog_type) continue;
        const auto result = verify_case(c);
        ++scored;
        const bool same_verdict = result.accepted == (c.kernel.verdict == "accept");
        const bool same_message = result.accepted || result.error == c.kernel.message;
        if (same_verdict && same_message) {
            ++agree;
            continue;
        }
        disagreeing.insert(c.id);
        INFO(c.id << ": kernel " << c.kernel.verdict << " '" << c.kernel.message << "', ours "
                  << (result.accepted ? "accept" : "reject '" + result.error + "'"));
        CHECK(known.count(c.id) == 1);
    }
    for (const auto& [id, reason] : known) {
        INFO(id << " is listed (" << reason
                << ") but now agrees with the kernel: remove it from the list");
        CHECK(disagreeing.count(id) == 1);
    }
    WARN("verifier corpus: " << agree << "/" << scored << " in-scope cases agree with the kernel");
    CHECK(scored > 800);
}

TEST_CASE("accepted corpus cases process as many instructions as in the kernel") {
    auto cases = cli::load_kernel_cases(EBPF_SHARED_DIR "/corpus/kernel-verifier/cases.jsonl");
    REQUIRE(cases.ok());
    const auto known = read_list("known_processed_differences.txt");
    size_t compared = 0, same = 0;
    std::set<std::string> differing;
    for (auto& c : *cases) {
        if (!c.in_scope || !c.prog_type || c.kernel.verdict != "accept" ||
            !c.kernel.insns_processed)
            continue;
        const auto result = verify_case(c);
        if (!result.accepted) continue; // a verdict disagreement, listed above
        ++compared;
        if (result.insns_processed == *c.kernel.insns_processed) {
            ++same;
            continue;
        }
        differing.insert(c.id);
        INFO(c.id << ": the kernel processed " << *c.kernel.insns_processed << ", this verifier "
                  << result.insns_processed);
        CHECK(known.count(c.id) == 1);
    }
    for (const auto& [id, reason] : known) {
        INFO(id << " is listed but now processes as many as the kernel: remove it");
        CHECK(differing.count(id) == 1);
    }
    WARN("processed instructions: " << same << "/" << compared << " as in the kernel");
    CHECK(compared > 400);
}

// Soundness: what the verifier accepts must never touch memory it should not. Each accepted,
// test-runnable case runs in the interpreter's checked mode, which bounds-checks every access;
// a fault there is a verifier bug.
TEST_CASE("accepted corpus programs run in checked mode without a fault") {
    auto cases = cli::load_kernel_cases(EBPF_SHARED_DIR "/corpus/kernel-verifier/cases.jsonl");
    REQUIRE(cases.ok());
    size_t runs = 0;
    for (auto& c : *cases) {
        if (!c.in_scope || !c.prog_type || c.kernel.verdict != "accept" || !c.kernel.retval)
            continue;
        auto maps = cli::create_case_maps(c, 1);
        REQUIRE(maps.ok());
        VerifierOptions opts;
        opts.prog_type = *c.prog_type;
        for (auto& m : maps->maps)
            opts.maps.push_back(m.get());
        const auto result = verify(c.insns, opts);
        if (!result.accepted) continue;
        auto r0 = cli::run_case(c, *maps, Mode::checked, result);
        // Programs calling helpers this VM lacks do not load; that is no verdict on safety.
        if (!r0 && r0.error().message.find("unknown func") != std::string::npos) continue;
        INFO(c.id << ": " << (r0 ? std::string("ran") : r0.error().to_string()));
        CHECK(r0.ok());
        ++runs;
    }
    WARN("checked-mode runs of accepted corpus programs: " << runs);
    CHECK(runs > 350);
}
