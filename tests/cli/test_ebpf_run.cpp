// ebpf-run, the real binary: its output forms and its exit codes.
#include "tests/cli/process.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>

using namespace ebpf;

namespace {

const std::string run_bin = EBPF_RUN;
const std::string example = std::string(EBPF_EXAMPLES_DIR) + "/fnv1a.bin";
const std::string hello = std::string(EBPF_EXAMPLES_DIR) + "/hello.txt";

uint64_t fnv1a(const std::string& s) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : s)
        h = (h ^ c) * 0x100000001b3ULL;
    return h;
}

std::string temp_file(const std::string& name, const std::string& bytes) {
    const auto path = std::filesystem::temp_directory_path() / name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path.string();
}

} // namespace

TEST_CASE("ebpf-run runs the clang-built example on memory") {
    const auto o = test::run_command(run_bin + " " + example + " --mem " + hello);
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
    CHECK_THAT(o.out, Catch::StartsWith("r0 = " + std::to_string(fnv1a(test::slurp(hello)))));
}

TEST_CASE("ebpf-run --json prints one object") {
    const auto o = test::run_command(run_bin + " " + example + " --mem " + hello + " --json");
    REQUIRE(o.exit_code == 0);
    const auto j = nlohmann::json::parse(o.out);
    CHECK(j.at("r0").get<uint64_t>() == fnv1a(test::slurp(hello)));
    CHECK(j.at("engine") == "interp");
    CHECK(j.at("mode") == "checked");
    CHECK(j.at("insns_executed").get<uint64_t>() > 12);
    CHECK(j.at("program") == example);
}

TEST_CASE("ebpf-run --disasm prints the kernel's syntax") {
    const auto o = test::run_command(run_bin + " " + example + " --disasm");
    REQUIRE(o.exit_code == 0);
    CHECK_THAT(o.out, Catch::StartsWith("0: (18) r0 = 0xcbf29ce484222325\n"));
    CHECK_THAT(o.out, Catch::Contains("exit\n"));
}

TEST_CASE("ebpf-run exit codes") {
    CHECK(test::run_command(run_bin + " --help").exit_code == 0);
    CHECK(test::run_command(run_bin).exit_code == 2);
    CHECK(test::run_command(run_bin + " " + example + " --no-such-option").exit_code == 2);
    const auto missing = test::run_command(run_bin + " /nonexistent/prog.bin");
    CHECK(missing.exit_code == 3);
    CHECK_THAT(missing.err, Catch::Contains("/nonexistent/prog.bin"));
    const auto ragged = test::run_command(run_bin + " " + temp_file("ebpf_ragged.bin", "abc"));
    CHECK(ragged.exit_code == 3);
    CHECK_THAT(ragged.err, Catch::Contains("not a whole number"));
    const auto bad_op = test::run_command(
        run_bin + " " + temp_file("ebpf_badop.bin", std::string("\xff\0\0\0\0\0\0\0", 8)));
    CHECK(bad_op.exit_code == 3);
    CHECK_THAT(bad_op.err, Catch::Contains("insn 0: unknown opcode ff"));
    // r0 = *(u64 *)(r1 +0) with no memory: a checked-mode fault.
    const auto fault = test::run_command(
        run_bin + " " +
        temp_file("ebpf_fault.bin", std::string("\x79\x10\0\0\0\0\0\0\x95\0\0\0\0\0\0\0", 16)));
    CHECK(fault.exit_code == 4);
    CHECK_THAT(fault.err, Catch::Contains("invalid read of 8 bytes"));
    // An endless loop: goto pc-1.
    const auto loop =
        test::run_command(run_bin + " --budget 100 " +
                          temp_file("ebpf_loop.bin", std::string("\x05\0\xff\xff\0\0\0\0", 8)));
    CHECK(loop.exit_code == 4);
    CHECK_THAT(loop.err, Catch::Contains("budget of 100"));
}
