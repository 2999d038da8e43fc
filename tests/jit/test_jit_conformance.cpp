// The bpf_conformance suite through the JIT: every program gives its expected r0, with constant
// blinding off and on, and in code for the baseline CPU of the architecture.
#include "jit/jit.hpp"
#include "tests/conformance/conformance_case.hpp"
#include "vm/vm.hpp"

#include <catch2/catch.hpp>

using namespace ebpf;

namespace {

Result<uint64_t> run_jitted(const Vm& vm, const test::ConformanceCase& c,
                            const JitOptions& options) {
    auto prog = vm.load(c.insns);
    if (!prog) return prog.error();
    auto jitted = jit_compile(*prog, options);
    if (!jitted) return jitted.error();
    auto memory = c.memory; // each run gets a fresh, writable copy
    RunState state;
    RunArgs args;
    args.r1 = memory.empty() ? 0 : reinterpret_cast<uint64_t>(memory.data());
    args.r2 = memory.size();
    auto result = jitted->run(args, state);
    if (!result) return result.error();
    return result->r0;
}

} // namespace

TEST_CASE("conformance programs give the expected r0 through the JIT") {
    const auto cases = test::load_conformance_dir(EBPF_CONFORMANCE_DIR "/tests");
    REQUIRE(cases.size() == 313);
    Vm vm;
    struct Variant {
        const char* name;
        JitOptions options;
    };
    const Variant variants[] = {{"", {}},
                                {" blinded", {.blind_constants = true}},
                                {" baseline CPU", {.host_cpu_features = false}}};
    for (const Variant& v : variants) {
        size_t passed = 0;
        for (const auto& c : cases) {
            auto r0 = run_jitted(vm, c, v.options);
            INFO(c.name << v.name << ": " << (r0 ? std::string("ran") : r0.error().to_string()));
            CHECK(r0.ok());
            if (!r0) continue;
            CHECK(*r0 == *c.expected_r0);
            passed += *r0 == *c.expected_r0;
        }
        CHECK(passed == cases.size());
    }
}
