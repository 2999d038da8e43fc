// The --dump-jit listing: every BPF instruction in the kernel's syntax, in order, each followed by
// the machine code that came from it; then the out-of-line code.
#include "jit/listing.hpp"
#include "vm/isa/assembler.hpp"
#include "vm/vm.hpp"

#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

using namespace ebpf;

TEST_CASE("the listing interleaves BPF instructions with their machine code") {
    Vm vm;
    auto prog = vm.load(*assemble(R"(
        r0 = 0x123456789 ll
        r0 += 1
        call bpf_ktime_get_ns#5
        call f
        exit
    f:
        r0 = 7
        exit
    )"));
    REQUIRE(prog.ok());
    auto jitted = jit_compile(*prog);
    REQUIRE(jitted.ok());
    auto listing = jit_listing(*prog, *jitted);
    REQUIRE(listing.ok());
    INFO(*listing);

    // The BPF lines, in order, as the verifier log prints them; lddw's second slot has none.
    const std::vector<std::string> bpf = {"0: (18) r0 = 0x123456789",
                                          "2: (07) r0 += 1",
                                          "3: (85) call bpf_ktime_get_ns#5",
                                          "4: (85) call pc+1",
                                          "5: (95) exit",
                                          "6: (b7) r0 = 7",
                                          "7: (95) exit"};
    std::istringstream lines(*listing);
    std::string line;
    size_t next = 0, machine_lines = 0;
    std::vector<size_t> under(bpf.size(), 0); // machine instructions under each BPF line
    while (std::getline(lines, line)) {
        if (next < bpf.size() && line == bpf[next]) {
            ++next;
            continue;
        }
        if (line.rfind("    0x", 0) == 0) {
            ++machine_lines;
            if (next > 0 && next <= bpf.size()) ++under[next - 1];
        }
    }
    CHECK(next == bpf.size());
    for (size_t i = 0; i < bpf.size(); ++i) {
        INFO(bpf[i]);
        CHECK(under[i] > 0);
    }
    // The first function's prologue and the helper's call are there, in Capstone's syntax.
    CHECK_THAT(*listing, Catch::Contains("push rbp"));
    CHECK_THAT(*listing, Catch::Contains("movabs rax, 0x123456789"));
    CHECK_THAT(*listing, Catch::Contains("call rax"));
    CHECK_THAT(*listing, Catch::Contains("; out of line"));
    CHECK_THAT(*listing, !Catch::Contains("(undecoded)"));
}

TEST_CASE("the listing shows jump tables as addresses, not as instructions") {
    Vm vm;
    // Four compares of w1 with 0..3: a switch tree, which gets a jump table.
    auto prog = vm.load(*assemble(R"(
        if w1 s> 0x1 goto pc+3
        if w1 == 0x0 goto pc+4
        r0 = 1
        exit
        if w1 == 0x2 goto pc+3
        if w1 == 0x3 goto pc+4
        r0 = 0
        exit
        r0 = 10
        exit
        r0 = 12
        exit
        r0 = 13
        exit
    )"));
    REQUIRE(prog.ok());
    auto jitted = jit_compile(*prog);
    REQUIRE(jitted.ok());
    CHECK(jitted->data_offset() < jitted->code().size());
    auto listing = jit_listing(*prog, *jitted);
    REQUIRE(listing.ok());
    INFO(*listing);
    CHECK_THAT(*listing, Catch::Contains("; jump tables\n"));
    CHECK_THAT(*listing, Catch::Contains(".quad 0x"));
    CHECK_THAT(*listing, !Catch::Contains("(undecoded)"));
}
