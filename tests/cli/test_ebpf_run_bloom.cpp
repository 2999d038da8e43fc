// ebpf-run with a bloom filter map from a BTF .maps definition (map_extra: the number of
// hashes): a verified program pushes and peeks.
#include "tests/cli/run_support.hpp"

#include <catch2/catch.hpp>

using namespace ebpf::test;

TEST_CASE("ebpf-run runs a program that pushes to and peeks a bloom filter", "[cli][bloom]") {
    const auto o = ebpf_run(prog("run_bloom.o") + " -p bloom");
    INFO(o.out << o.err);
    REQUIRE(o.exit_code == 0);
    CHECK_THAT(o.out, Catch::Contains("verifier  accept"));
    // 42 is found; 43, never pushed, is not (3 of 8192 bits set).
    CHECK_THAT(o.out, Catch::Contains("r0        0\n"));
}
