// Differential fuzzing: random valid programs (random_program.hpp) run in the interpreter's
// checked mode and through the JIT, blinded on every other seed and for the baseline CPU on
// every third, must end alike: the same r0 or the same error at the same instruction, the same
// memory (which holds R0-R8 at the end), and the same helper calls with the same arguments.
#include "jit/jit.hpp"
#include "tests/jit/random_program.hpp"
#include "vm/isa/disasm.hpp"
#include "vm/vm.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <random>

using namespace ebpf;

namespace {

// Seeds that once found a difference run first, every time. None has so far: add any seed that
// fails here, once the difference is fixed.
constexpr std::array<uint64_t, 0> regression_seeds{};

struct Outcome {
    Result<RunResult> result = Error{"not run", std::nullopt};
    std::vector<uint8_t> memory;
    test::FuzzHost host;
};

std::string describe(const Result<RunResult>& r) {
    return r ? "r0 = " + std::to_string(r->r0) : r.error().to_string();
}

template <typename Run> Outcome run_with(uint64_t seed, Run&& run) {
    Outcome out;
    std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ull);
    out.memory.resize(test::fuzz_memory_size);
    for (auto& b : out.memory)
        b = static_cast<uint8_t>(rng());
    std::vector<uint8_t> packet(test::fuzz_packet_size);
    for (auto& b : packet)
        b = static_cast<uint8_t>(rng());
    RunState state;
    state.host = &out.host;
    state.packet = packet.data();
    state.packet_len = packet.size();
    state.allow(out.memory.data(), out.memory.size(), true);
    RunArgs args;
    args.r1 = reinterpret_cast<uint64_t>(out.memory.data());
    args.r2 = out.memory.size();
    out.result = run(args, state);
    return out;
}

// True when the two engines agree on the program of this seed.
bool agree(const HelperRegistry& helpers, uint64_t seed) {
    const auto insns = test::random_program(seed);
    auto prog = Program::load(insns, helpers);
    INFO("seed " << seed << "\n" << disasm_program(insns));
    INFO((prog ? std::string("loaded") : prog.error().to_string()));
    REQUIRE(prog.ok());
    auto jitted =
        jit_compile(*prog, {.blind_constants = seed % 2 == 1, .host_cpu_features = seed % 3 != 0});
    REQUIRE(jitted.ok());

    const Outcome expected = run_with(seed, [&](RunArgs args, RunState& state) {
        args.mode = Mode::checked;
        return interpret(*prog, args, state);
    });
    const Outcome got = run_with(
        seed, [&](const RunArgs& args, RunState& state) { return jitted->run(args, state); });
    INFO("interpreter: " << describe(expected.result) << "; JIT: " << describe(got.result));
    CHECK(expected.result.ok() == got.result.ok());
    if (expected.result && got.result) {
        CHECK(expected.result->r0 == got.result->r0);
    } else if (!expected.result && !got.result) {
        CHECK(expected.result.error().to_string() == got.result.error().to_string());
    }
    CHECK(expected.memory == got.memory);
    CHECK(expected.host.trace == got.host.trace);
    CHECK(expected.host.calls == got.host.calls);
    return expected.result.ok() == got.result.ok() && expected.memory == got.memory &&
           expected.host.trace == got.host.trace &&
           (expected.result
                ? expected.result->r0 == got.result->r0
                : expected.result.error().to_string() == got.result.error().to_string());
}

} // namespace

TEST_CASE("the JIT agrees with the checked interpreter on random programs") {
    HelperRegistry helpers;
    register_kernel_helpers(helpers);
    test::register_fuzz_helpers(helpers);

    for (uint64_t seed : regression_seeds)
        REQUIRE(agree(helpers, seed));

    // Fixed seeds, as many as fit the time budget.
    constexpr uint64_t max_seeds = 20'000;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    uint64_t seeds = 0;
    for (uint64_t seed = 1; seed <= max_seeds && std::chrono::steady_clock::now() < deadline;
         ++seed) {
        REQUIRE(agree(helpers, seed));
        ++seeds;
    }
    CHECK(seeds >= 500);
    WARN(seeds << " random programs agreed");
}
