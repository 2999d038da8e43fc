// The verifier's structural rules, each from a program written as text, with the kernel's
// message and the instruction it names.
#include "maps/map.hpp"
#include "verifier/verifier.hpp"
#include "vm/isa/assembler.hpp"

#include <catch2/catch.hpp>

using namespace ebpf;

namespace {

VerifierResult verify_text(const char* text, ProgType type = ProgType::socket_filter) {
    auto insns = assemble(text);
    INFO((insns ? std::string() : insns.error().to_string()));
    REQUIRE(insns.ok());
    VerifierOptions opts;
    opts.prog_type = type;
    return verify(*insns, opts);
}

std::string rejected(const char* text) {
    const auto r = verify_text(text);
    REQUIRE_FALSE(r.accepted);
    return r.error;
}

} // namespace

TEST_CASE("a minimal program is accepted, with the kernel's statistics") {
    const auto r = verify_text("r0 = 1\nexit");
    CHECK(r.accepted);
    CHECK(r.insns_processed == 2);
    CHECK_THAT(r.log, Catch::Contains("processed 2 insns (limit 1000000)"));
    CHECK_THAT(r.log, Catch::Contains("stack depth 0"));
}

TEST_CASE("control flow: unreachable code, jumps out of range, falling off the end") {
    CHECK(rejected("r0 = 0\nexit\nr0 = 1\nexit") == "unreachable insn 2");
    CHECK(rejected("r0 = 0\ngoto pc+5\nexit") == "jump out of range from insn 1 to 7");
    CHECK(rejected("r0 = 0") == "last insn is not an exit or jmp");
    CHECK(rejected("r0 = 0\ncall pc+5\nexit") == "call to invalid destination");
}

TEST_CASE("reads of uninitialised registers and writes to the frame pointer") {
    CHECK(rejected("exit") == "R0 !read_ok");
    CHECK(rejected("r0 = r2\nexit") == "R2 !read_ok");
    CHECK(rejected("r10 = 0\nr0 = 0\nexit") == "frame pointer is read only");
}

TEST_CASE("loops: bounded ones verify, endless ones are found") {
    CHECK(verify_text("r0 = 0\nr1 = 0\nloop:\nr1 += 1\nif r1 < 10 goto loop\nexit").accepted);
    const auto r = verify_text("r0 = 0\nloop:\nif r0 == 0x0 goto loop\nexit");
    REQUIRE_FALSE(r.accepted);
    CHECK_THAT(r.log, Catch::Contains("infinite loop detected at insn 1"));
}

TEST_CASE("constant conditions take one branch only") {
    // The fall-through reads an uninitialised register, but r1 == 1 always jumps.
    CHECK(verify_text("r1 = 1\nif r1 == 0x1 goto pc+1\nr0 = r5\nr0 = 0\nexit").accepted);
    CHECK(rejected("r1 = 2\nif r1 == 0x1 goto pc+1\nr0 = r5\nr0 = 0\nexit") == "R5 !read_ok");
}

TEST_CASE("the call stack is limited to eight frames") {
    CHECK(rejected("call pc-1\nexit") == "the call stack of 9 frames is too deep");
}

TEST_CASE("memory safety on the stack and the context") {
    CHECK(rejected("r0 = *(u64 *)(r10 +8)\nexit") == "invalid read from stack R10 off=8 size=8");
    CHECK(rejected("*(u64 *)(r10 -520) = 0\nr0 = 0\nexit") ==
          "invalid write to stack R10 off=-520 size=8");
    CHECK(rejected("r0 = *(u32 *)(r1 +1000)\nexit") ==
          "invalid bpf_context access off=1000 size=4");
    CHECK(rejected("r0 = 0\nr0 = *(u64 *)(r0 +0)\nexit") == "R0 invalid mem access 'scalar'");
}

TEST_CASE("a helper's result must be null-checked before use") {
    // No map here: an unknown helper id and a forbidden one give the kernel's messages.
    CHECK(rejected("call unknown#999\nr0 = 0\nexit") == "invalid func unknown#999");
}

TEST_CASE("bpf_loop callbacks are verified in their own frame and must return 0 or 1") {
    // callback_fn(u32 index, void *ctx) at insn 8: returns 0.
    const char* ok = R"(
        r1 = 4
        r2 = subprog[+6]
        r3 = 0
        r4 = 0
        call bpf_loop#181
        r0 = 0
        exit
        r0 = 0
        exit
    )";
    CHECK(verify_text(ok).accepted);
    const char* bad = R"(
        r1 = 4
        r2 = subprog[+6]
        r3 = 0
        r4 = 0
        call bpf_loop#181
        r0 = 0
        exit
        r0 = 7
        exit
    )";
    const auto r = verify_text(bad);
    REQUIRE_FALSE(r.accepted);
    CHECK(r.error ==
          "At callback return the register R0 has smin=7 smax=7 should have been in [0, 1]");
}

TEST_CASE("bpf_get_smp_processor_id() is below the CPU count the verifier is given") {
    // The CPU number indexes two 8-byte stack slots.
    auto insns = assemble(R"(
        r1 = 0
        *(u64 *)(r10 -16) = r1
        *(u64 *)(r10 -8) = r1
        call bpf_get_smp_processor_id#8
        r0 <<= 3
        r1 = r10
        r1 += -16
        r1 += r0
        r0 = *(u64 *)(r1 +0)
        exit
    )");
    REQUIRE(insns.ok());
    VerifierOptions opts;
    opts.prog_type = ProgType::xdp;
    opts.ncpus = 2;
    CHECK(verify(*insns, opts).accepted);
    opts.ncpus = 3;
    CHECK_FALSE(verify(*insns, opts).accepted);
    opts.ncpus = 0; // not known: any u32
    CHECK_FALSE(verify(*insns, opts).accepted);
}

TEST_CASE("a packet pointer found past pkt_end decides a later comparison with it") {
    // After "end >= pkt + 8" fails, pkt + 8 is beyond pkt_end: "pkt + 8 > end" is always taken,
    // so the out-of-range load after it is dead (Linux 6.18 accepts this, 10 insns processed).
    const auto r = verify_text(R"(
        r2 = *(u32 *)(r1 +0)
        r3 = *(u32 *)(r1 +4)
        r0 = r2
        r0 += 8
        if r3 >= r0 goto pc+2
        if r0 > r3 goto pc+1
        r0 = *(u8 *)(r2 +100)
        r0 = 0
        exit
    )",
                               ProgType::xdp);
    CHECK(r.accepted);
    CHECK(r.insns_processed == 10);
}

TEST_CASE("an array lookup at a constant key within the array cannot return null") {
    // As Linux 6.18: with key 1 of a 2-entry array the result is used without a null check;
    // key 2 is past the end, and the unchecked use is refused.
    MapDef def;
    def.type = MapType::array;
    def.key_size = 4;
    def.value_size = 8;
    def.max_entries = 2;
    auto array = create_map(def);
    REQUIRE(array.ok());
    for (int key : {1, 2}) {
        auto insns = assemble("*(u32 *)(r10 -8) = " + std::to_string(key) + R"(
            r2 = r10
            r2 += -8
            r1 = map[idx:0]
            call bpf_map_lookup_elem#1
            r0 = *(u64 *)(r0 +0)
            exit
        )");
        REQUIRE(insns.ok());
        VerifierOptions opts;
        opts.prog_type = ProgType::xdp;
        opts.maps = {array->get()};
        const auto r = verify(*insns, opts);
        INFO("key " << key << ": " << r.error);
        CHECK(r.accepted == (key == 1));
    }
}

TEST_CASE("unprivileged pointer arithmetic follows the kernel's Spectre v1 rules") {
    const auto unprivileged = [](const char* text) {
        auto insns = assemble(text);
        REQUIRE(insns.ok());
        VerifierOptions opts;
        opts.prog_type = ProgType::socket_filter;
        opts.privileged = false;
        return verify(*insns, opts);
    };
    // A stack pointer must stay inside the stack, even where nothing is accessed.
    auto r = unprivileged("r1 = r10\nr1 += 8\nr0 = 0\nexit");
    CHECK(r.error == "R1 stack pointer arithmetic goes out of range, prohibited for !root; off=8");
    // Only stack and map value pointers can be masked against a register offset.
    r = unprivileged("r2 = 1\nr1 += r2\nr0 = 0\nexit");
    CHECK(r.error == "R1 has pointer with unsupported alu operation, pointer arithmetic with it "
                     "prohibited for !root");
    // Privileged, both are fine.
    for (const char* text : {"r1 = r10\nr1 += 8\nr0 = 0\nexit", "r2 = 1\nr1 += r2\nr0 = 0\nexit"})
        CHECK(verify_text(text).accepted);
}
