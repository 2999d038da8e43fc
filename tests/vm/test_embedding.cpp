// The embedding API used the way a host application uses it: its own helper, its own data, its
// own memory, and errors it can show.
#include "vm/isa/assembler.hpp"
#include "vm/vm.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace ebpf;

namespace {

struct HostCounters {
    uint64_t calls = 0;
    uint64_t total = 0;
};

// A host helper: adds r1 to the host's running total and returns it.
uint64_t host_accumulate(uint64_t value, uint64_t, uint64_t, uint64_t, uint64_t, RunState* state) {
    auto* host = static_cast<HostCounters*>(state->host);
    host->calls++;
    host->total += value;
    return host->total;
}

uint64_t host_refuse(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunState* state) {
    state->fault("host_refuse: not today");
    return 0;
}

constexpr int32_t accumulate_id = 0x10000, refuse_id = 0x10001;

} // namespace

TEST_CASE("a host registers a helper, loads a program and runs it on its memory") {
    Vm vm;
    vm.register_helper(accumulate_id, "host_accumulate", host_accumulate);
    // Sums the bytes of the memory through the host helper; r0 = the final total.
    auto insns = assemble(R"(
        r6 = r1
        r7 = r2
        r8 = 0
    loop:
        if r8 >= r7 goto done
        r1 = r6
        r1 += r8
        r1 = *(u8 *)(r1 +0)
        call host_accumulate#65536
        r8 += 1
        goto loop
    done:
        exit
    )");
    REQUIRE(insns.ok());
    auto prog = vm.load(*insns);
    REQUIRE(prog.ok());

    std::vector<uint8_t> memory{1, 2, 3, 4};
    HostCounters counters;
    auto r0 = vm.run(*prog, memory, Mode::fast, &counters);
    REQUIRE(r0.ok());
    CHECK(*r0 == 10);
    CHECK(counters.calls == 4);

    r0 = vm.run(*prog, memory, Mode::checked, &counters);
    REQUIRE(r0.ok());
    CHECK(*r0 == 20);
}

TEST_CASE("a program calling an unknown helper is refused at load") {
    Vm vm;
    auto insns = assemble("call host#65536\nexit");
    REQUIRE(insns.ok());
    auto prog = vm.load(*insns);
    REQUIRE_FALSE(prog.ok());
    CHECK(prog.error().to_string() == "insn 0: unknown func #65536");
}

TEST_CASE("a helper that faults ends the run with its message") {
    Vm vm;
    vm.register_helper(refuse_id, "host_refuse", host_refuse);
    auto insns = assemble("r0 = 0\ncall host_refuse#65537\nexit");
    REQUIRE(insns.ok());
    auto prog = vm.load(*insns);
    REQUIRE(prog.ok());
    std::vector<uint8_t> none;
    auto r0 = vm.run(*prog, none, Mode::fast);
    REQUIRE_FALSE(r0.ok());
    CHECK(r0.error().to_string() == "insn 1: host_refuse: not today");
}

TEST_CASE("the VM knows the kernel helpers it implements") {
    Vm vm;
    const Helper* ktime = vm.helpers().find(5);
    REQUIRE(ktime != nullptr);
    CHECK(ktime->name == "bpf_ktime_get_ns");
    auto insns =
        assemble("call bpf_ktime_get_ns#5\nr6 = r0\ncall bpf_ktime_get_ns#5\nr0 -= r6\nexit");
    REQUIRE(insns.ok());
    auto prog = vm.load(*insns);
    REQUIRE(prog.ok());
    std::vector<uint8_t> none;
    auto r0 = vm.run(*prog, none);
    REQUIRE(r0.ok());
    CHECK(static_cast<int64_t>(*r0) >= 0); // monotonic
}
