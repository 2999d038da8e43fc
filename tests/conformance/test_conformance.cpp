// The bpf_conformance suite through the embedding API: every program gives its expected r0 in
// both interpreter modes, and every program with a non-zero reserved field is refused at load.
#include "tests/conformance/conformance_case.hpp"
#include "vm/vm.hpp"

#include <catch2/catch.hpp>

using namespace ebpf;

TEST_CASE("conformance programs give the expected r0 in both interpreter modes") {
    const auto cases = test::load_conformance_dir(EBPF_CONFORMANCE_DIR "/tests");
    REQUIRE(cases.size() == 313);
    Vm vm;
    for (const auto& c : cases) {
        for (Mode mode : {Mode::checked, Mode::fast}) {
            DYNAMIC_SECTION(c.name << (mode == Mode::fast ? " fast" : " checked")) {
                auto prog = vm.load(c.insns);
                INFO((prog ? std::string("loaded") : prog.error().to_string()));
                REQUIRE(prog.ok());
                auto memory = c.memory; // each run gets a fresh, writable copy
                auto r0 = vm.run(*prog, memory, mode);
                INFO((r0 ? std::string("ran") : r0.error().to_string()));
                REQUIRE(r0.ok());
                CHECK(*r0 == *c.expected_r0);
            }
        }
    }
}

TEST_CASE("programs with non-zero reserved fields are refused at load") {
    const auto cases = test::load_conformance_dir(EBPF_CONFORMANCE_DIR "/negative");
    REQUIRE(cases.size() == 45);
    Vm vm;
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.name) {
            auto prog = vm.load(c.insns);
            REQUIRE_FALSE(prog.ok());
            CHECK(prog.error().insn.has_value());
            CHECK_THAT(prog.error().message, Catch::Contains("reserved fields"));
        }
    }
}
