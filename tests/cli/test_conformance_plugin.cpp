// ebpf-conformance-plugin speaks the bpf_conformance runner's protocol: the whole suite through
// the real binary, as the runner would drive it.
#include "cli/io.hpp"
#include "tests/cli/process.hpp"
#include "tests/conformance/conformance_case.hpp"

#include <catch2/catch.hpp>

#include <cstring>

using namespace ebpf;

namespace {

std::string hex_of(const std::vector<Insn>& insns) {
    return cli::to_hex(reinterpret_cast<const uint8_t*>(insns.data()), insns.size() * sizeof(Insn));
}

std::string command_for(const test::ConformanceCase& c, const std::string& extra = "") {
    std::string cmd = EBPF_PLUGIN;
    if (!c.memory.empty()) cmd += " " + cli::to_hex(c.memory.data(), c.memory.size());
    return cmd + extra;
}

} // namespace

TEST_CASE("the plugin passes every conformance program") {
    const auto cases = test::load_conformance_dir(EBPF_CONFORMANCE_DIR "/tests");
    REQUIRE(cases.size() == 313);
    int passed = 0;
    for (const auto& c : cases) {
        const auto o = test::run_command(command_for(c), hex_of(c.insns) + "\n");
        INFO(c.name << ": exit " << o.exit_code << " stderr " << o.err);
        CHECK(o.exit_code == 0);
        if (o.exit_code == 0 && std::stoull(o.out, nullptr, 16) == *c.expected_r0) ++passed;
    }
    CHECK(passed == 313);
}

TEST_CASE("the plugin refuses every program with reserved fields set") {
    const auto cases = test::load_conformance_dir(EBPF_CONFORMANCE_DIR "/negative");
    REQUIRE(cases.size() == 45);
    for (const auto& c : cases) {
        const auto o = test::run_command(command_for(c), hex_of(c.insns));
        INFO(c.name);
        CHECK(o.exit_code != 0);
        CHECK_THAT(o.err, Catch::Contains("reserved fields"));
    }
}

TEST_CASE("the plugin reports bad input and unknown engines") {
    CHECK(test::run_command(EBPF_PLUGIN, "b7000000").exit_code == 1);
    CHECK(test::run_command(EBPF_PLUGIN, "zz").exit_code == 1);
    CHECK(test::run_command(std::string(EBPF_PLUGIN) + " 00 --engine warp", "9500000000000000")
              .exit_code == 2);
    const auto fast =
        test::run_command(std::string(EBPF_PLUGIN) + " --fast", "b7000000070000009500000000000000");
    CHECK(fast.exit_code == 0);
    CHECK(fast.out == "7\n");
}
