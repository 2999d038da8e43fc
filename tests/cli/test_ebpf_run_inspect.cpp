// ebpf-run's ways of looking at a program: --disasm, --dump-jit, --cfg, --log-level,
// --verify-only, and --repeat's timing.
#include "tests/cli/run_support.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <regex>
#include <set>

using namespace ebpf::test;
using nlohmann::json;

namespace {

const std::string firewall = example("xdp_firewall.o");
const std::string packet = example("packets/http_syn.bin");

} // namespace

TEST_CASE("ebpf-run --disasm prints the kernel's syntax with source lines") {
    const auto o = ebpf_run(firewall + " --disasm --verify-only");
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
    CHECK(std::regex_search(o.out, std::regex("^xdp_firewall:\n"
                                              "; void\\* data_end = \\(void\\*\\)\\(long\\)"
                                              "ctx->data_end; @ xdp_firewall.c:[0-9]+\n"
                                              "0: \\(61\\) r2 = \\*\\(u32 \\*\\)\\(r1 \\+4\\)\n")));
    CHECK_THAT(o.out, Catch::Contains("(85) call bpf_map_lookup_elem#1\n"));
    CHECK_THAT(o.out, Catch::Contains("; if (bpf_map_lookup_elem(&blocked, &key)) return "
                                      "count(XDP_DROP); @ xdp_firewall.c:"));
    CHECK_THAT(o.out, Catch::Contains("verifier  accept"));

    const auto raw = ebpf_run(example("fnv1a.bin") + " --disasm");
    REQUIRE(raw.exit_code == 0);
    CHECK_THAT(raw.out, Catch::StartsWith("0: (18) r0 = 0xcbf29ce484222325\n"));
}

TEST_CASE("ebpf-run --dump-jit lists the machine code under each instruction") {
    const auto o = ebpf_run(firewall + " --dump-jit --ctx " + packet);
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
    // The first instruction carries the prologue; the context load became a 64-bit load.
    CHECK_THAT(o.out, Catch::StartsWith("0: (79) r2 = *(u64 *)(r1 +8)\n    0x0000:  55"));
    CHECK_THAT(o.out, Catch::Contains("push rbp\n"));
    CHECK_THAT(o.out, Catch::Contains("; out of line: entry points and early exits\n"));
    CHECK(std::regex_search(o.out, std::regex("\n    0x[0-9a-f]{4}: [0-9a-f ]+ +ret *\n")));
    CHECK_THAT(o.out, Catch::Contains("r0        2  XDP_PASS"));

    const auto unverified = ebpf_run(firewall + " --dump-jit --no-verify --ctx " + packet);
    CHECK(unverified.exit_code == 2);
    CHECK(one_line_error(unverified));
}

TEST_CASE("ebpf-run --cfg writes the control-flow graph in Graphviz syntax") {
    const std::string dot = scratch("calls.dot");
    const auto o = ebpf_run(prog("run_calls.o") + " --no-verify --cfg " + dot + " --ctx " + packet);
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
    CHECK_THAT(o.out, Catch::Contains("r0        2  XDP_PASS"));
    const std::string graph = slurp(dot);
    INFO(graph);
    CHECK_THAT(graph, Catch::StartsWith("digraph \"CFG\" {\n"));
    // One cluster per subprogram: the program, its callback and the two called functions.
    CHECK_THAT(graph, Catch::Contains("label=\"subprog 0: calls\";"));
    CHECK_THAT(graph, Catch::Contains(": add_index\";"));
    CHECK_THAT(graph, Catch::Contains(": plus_one\";"));
    CHECK_THAT(graph, Catch::Contains(": twice\";"));
    CHECK_THAT(graph, Catch::Contains("[color=\"green\" label=\"true\"]"));
    CHECK_THAT(graph, Catch::Contains("[color=\"red\" label=\"false\"]"));
    CHECK_THAT(graph, Catch::Contains("_exit;\n"));
    // Every edge joins declared nodes.
    std::set<std::string> nodes;
    const std::regex node_decl("\t\t(fn_[0-9a-z_]+) \\[");
    for (std::sregex_iterator it(graph.begin(), graph.end(), node_decl), end; it != end; ++it)
        nodes.insert((*it)[1]);
    const std::regex edge("\t(fn_[0-9a-z_]+) -> (fn_[0-9a-z_]+)");
    size_t edges = 0;
    for (std::sregex_iterator it(graph.begin(), graph.end(), edge), end; it != end; ++it, ++edges) {
        CHECK(nodes.count((*it)[1]) == 1);
        CHECK(nodes.count((*it)[2]) == 1);
    }
    CHECK(edges > 8);
    // Braces balance once the escaped ones (source text in labels) are left out.
    const std::string bare = std::regex_replace(graph, std::regex("\\\\[{}]"), "");
    CHECK(std::count(bare.begin(), bare.end(), '{') == std::count(bare.begin(), bare.end(), '}'));
    // Graphviz itself, where it is installed.
    if (std::system("command -v dot >/dev/null 2>&1") == 0)
        CHECK(run_command("dot -Tsvg " + dot + " -o /dev/null").exit_code == 0);

    const auto unwritable = ebpf_run(firewall + " --cfg /nonexistent/dir/x.dot --verify-only");
    CHECK(unwritable.exit_code == 2);
    CHECK(one_line_error(unwritable));
}

TEST_CASE("ebpf-run --log-level prints the verifier's log") {
    const auto one = ebpf_run(firewall + " --log-level 1 --verify-only");
    REQUIRE(one.exit_code == 0);
    CHECK_THAT(one.out, Catch::Contains("0: (61) r2 = *(u32 *)(r1 +4)"));
    CHECK_THAT(one.out, Catch::Contains("processed "));
    const auto two = ebpf_run(firewall + " --log-level 2 --verify-only");
    REQUIRE(two.exit_code == 0);
    CHECK(two.out.size() > one.out.size());
    const auto rejected = ebpf_run(prog("run_unsafe.o") + " --log-level 1 --ctx " + packet);
    CHECK(rejected.exit_code == 1);
    CHECK_THAT(rejected.out, Catch::Contains("R1 offset is outside of the packet"));
}

TEST_CASE("ebpf-run --verify-only answers with the exit code") {
    CHECK(ebpf_run(firewall + " --verify-only").exit_code == 0);
    const auto rejected = ebpf_run(prog("run_unsafe.o") + " --verify-only");
    CHECK(rejected.exit_code == 1);
    CHECK(one_line_error(rejected));
    CHECK(ebpf_run(example("fnv1a.bin") + " --verify-only").exit_code == 2);
}

TEST_CASE("ebpf-run --repeat reports the median and spread per run and per instruction") {
    for (const char* engine : {"jit", "interp"}) {
        const auto o =
            ebpf_run(firewall + " --repeat 2000 --engine " + engine + " --ctx " + packet);
        INFO(engine << ": " << o.err);
        REQUIRE(o.exit_code == 0);
        CHECK(std::regex_search(
            o.out, std::regex("time      [0-9.]+ ns per run \\(median of 2000; p10 [0-9.]+, p90 "
                              "[0-9.]+\\), [0-9.]+ ns per insn \\([0-9]+ insns\\)")));
    }
    const auto j = json::parse(ebpf_run(firewall + " --repeat 50 --json --ctx " + packet).out);
    CHECK(j["repeat"]["runs"] == 50);
    CHECK(j["repeat"]["median_ns"].get<double>() > 0);
    CHECK(j["repeat"]["p10_ns"] <= j["repeat"]["median_ns"]);
    CHECK(j["repeat"]["median_ns"] <= j["repeat"]["p90_ns"]);
    CHECK(j["repeat"]["insns"].get<int>() > 10);
    CHECK(j["repeat"]["ns_per_insn"].get<double>() > 0);
    CHECK(j["time_ns_per_run"] == j["repeat"]["median_ns"]);
    // Each run counts: the verdicts array holds 50 runs plus the counting one.
    CHECK(j["maps"]["verdicts"]["entries"][2]["values"][0] == "3300000000000000");
    // No terminal, no progress bar.
    CHECK(ebpf_run(firewall + " --repeat 10 --ctx " + packet).err.empty());
}
