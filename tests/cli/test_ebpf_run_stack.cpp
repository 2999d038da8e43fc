// ebpf-run --kstack/--ustack: the call chains a verified probe's bpf_get_stackid and
// bpf_get_stack report.
#include "tests/cli/run_support.hpp"

#include <catch2/catch.hpp>

using namespace ebpf::test;

TEST_CASE("ebpf-run gives a probe the call chains of --kstack and --ustack", "[cli][stack]") {
    const std::string stack = prog("run_stack.o") + " -p profile --regs rdi=1";
    SECTION("both chains") {
        const auto o = ebpf_run(stack + " --kstack 0xffffffff81000010,0xffffffff81000020,"
                                        "0xffffffff81000030 --ustack 4198710 --dump-maps");
        INFO(o.out << o.err);
        REQUIRE(o.exit_code == 0);
        CHECK_THAT(o.out, Catch::Contains("r0        16")); // two frames past the skipped one
        // The maps show bytes in memory order: the kernel chain, the user chain (4198710 is
        // 0x401136), the chain past its first frame.
        CHECK_THAT(o.out, Catch::Contains("10000081ffffffff20000081ffffffff30000081ffffffff00"));
        CHECK_THAT(o.out, Catch::Contains("361140000000000000"));
        CHECK_THAT(o.out, Catch::Contains("20000081ffffffff30000081ffffffff0000000000000000"));
    }
    SECTION("no chain: -EFAULT from both helpers") {
        const auto o = ebpf_run(stack);
        INFO(o.out << o.err);
        REQUIRE(o.exit_code == 0);
        CHECK_THAT(o.out, Catch::Contains("r0        18446744073709551602 (0xfffffffffffffff2)"));
        CHECK_THAT(o.out, Catch::Contains("f2fffffff2ffffff: 0100000000000000"));
    }
    SECTION("bad addresses") {
        CHECK(ebpf_run(stack + " --kstack 0x10,zz").exit_code == 2);
        CHECK(ebpf_run(stack + " --ustack 1,,2").exit_code == 2);
        CHECK(ebpf_run(stack + " --ustack -1").exit_code == 2);
    }
}
