// Soundness by mutation: corpus programs with one instruction changed at random. Whatever the
// verifier accepts then runs in the interpreter's checked mode, which bounds-checks every access:
// a fault is a verifier bug. Fixed seeds, bounded time.
#include "cli/kernel_cases.hpp"
#include "verifier/verifier.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <random>

using namespace ebpf;

namespace {

// Changes one field of one non-lddw instruction: an offset, an immediate, a register, or the
// comparison of a jump.
void mutate(std::vector<Insn>& insns, std::mt19937& rng) {
    for (int tries = 0; tries < 16; ++tries) {
        const size_t i = rng() % insns.size();
        Insn& insn = insns[i];
        if (insn.opcode == BPF_LDDW || (i > 0 && insns[i - 1].opcode == BPF_LDDW)) continue;
        switch (rng() % 4) {
        case 0: insn.off = static_cast<int16_t>(insn.off + static_cast<int>(rng() % 17) - 8); break;
        case 1:
            insn.imm = static_cast<int32_t>(insn.imm + static_cast<int>(rng() % 65) - 32);
            break;
        case 2: insn.src = static_cast<uint8_t>(rng() % 11); break;
        default: insn.dst = static_cast<uint8_t>(rng() % 10); break;
        }
        return;
    }
}

} // namespace

TEST_CASE("mutated corpus programs the verifier accepts never fault in checked mode") {
    auto cases = cli::load_kernel_cases(EBPF_SHARED_DIR "/corpus/kernel-verifier/cases.jsonl");
    REQUIRE(cases.ok());
    std::vector<cli::KernelCase*> seeds;
    for (auto& c : *cases)
        if (c.in_scope && c.prog_type && c.kernel.verdict == "accept" && c.kernel.retval &&
            c.insns.size() < 4096)
            seeds.push_back(&c);
    REQUIRE(seeds.size() > 300);

    std::mt19937 rng(20261122);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(8);
    size_t mutants = 0, accepted = 0, ran = 0;
    while (std::chrono::steady_clock::now() < deadline && mutants < 20000) {
        cli::KernelCase c = *seeds[rng() % seeds.size()];
        auto maps = cli::create_case_maps(c, 1);
        REQUIRE(maps.ok());
        mutate(c.insns, rng);
        ++mutants;
        VerifierOptions opts;
        opts.prog_type = *c.prog_type;
        for (auto& m : maps->maps)
            opts.maps.push_back(m.get());
        const auto result = verify(c.insns, opts);
        if (!result.accepted) continue;
        ++accepted;
        auto r0 = cli::run_case(c, *maps, Mode::checked, result);
        if (!r0) {
            const auto& msg = r0.error().message;
            // Not about memory: a helper this VM lacks, or a loop the verifier proved finite
            // running past the checked mode's instruction budget.
            if (msg.find("unknown func") != std::string::npos ||
                msg.find("budget") != std::string::npos)
                continue;
        }
        INFO(c.id << " mutated: " << (r0 ? std::string("ran") : r0.error().to_string()));
        CHECK(r0.ok());
        ++ran;
    }
    WARN("mutants: " << mutants << ", accepted: " << accepted << ", run in checked mode: " << ran);
    CHECK(ran > 100);
}
