// Precision tracking: a checkpoint prunes a path whose scalars differ from it only where no
// decision of the explored paths depended on them, and not where one did (here, the program
// type's return value range), including through a stack spill.
#include "verifier/verifier.hpp"
#include "vm/isa/assembler.hpp"

#include <catch2/catch.hpp>

using namespace ebpf;

namespace {

VerifierResult verify_text(const std::string& text, ProgType type) {
    auto insns = assemble(text);
    INFO((insns ? std::string() : insns.error().to_string()));
    REQUIRE(insns.ok());
    VerifierOptions opts;
    opts.prog_type = type;
    opts.test_state_freq = true; // a checkpoint at every prune point, as the kernel's tests ask
    opts.log_level = 1;
    return verify(*insns, opts);
}

// r6 is 0 or 1 on the two paths and becomes the return value.
constexpr const char* two_values = R"(
    call bpf_get_prandom_u32#7
    r6 = 0
    if r0 == 0x0 goto pc+1
    r6 = 1
    r0 = r6
    exit
)";

// The same through a spill to the stack and a fill.
constexpr const char* two_values_spilled = R"(
    call bpf_get_prandom_u32#7
    r6 = 0
    if r0 == 0x0 goto pc+1
    r6 = 1
    *(u64 *)(r10 -8) = r6
    r0 = *(u64 *)(r10 -8)
    exit
)";

} // namespace

TEST_CASE("a scalar nothing depended on does not stop pruning") {
    // XDP does not check its return value: the path from 2 to 4 is pruned at once.
    const auto r = verify_text(two_values, ProgType::xdp);
    REQUIRE(r.accepted);
    CHECK(r.insns_processed == 7);
    CHECK_THAT(r.log, Catch::Contains("from 2 to 4: safe"));
}

TEST_CASE("a scalar a decision depended on is compared, and traced back to its source") {
    // cgroup_skb returns 0 or 1: R0 at exit is precise, and so r6 at the checkpoint.
    for (const char* text : {two_values, two_values_spilled}) {
        const auto r = verify_text(text, ProgType::cgroup_skb);
        REQUIRE(r.accepted);
        CHECK_THAT(r.log, !Catch::Contains(": safe"));
    }
    CHECK(verify_text(two_values, ProgType::cgroup_skb).insns_processed == 8);
}

TEST_CASE("a branch on one of two linked scalars makes both precise") {
    // On the first path r7 is a copy of r6, so "r7 <= 7" bounds r6 for the stack access; on the
    // second r7 is unrelated. Pruning the second at the checkpoint before the branch would let
    // r6 up to 255 past the 8-byte buffer.
    const auto r = verify_text(R"(
        call bpf_get_prandom_u32#7
        r6 = r0
        r6 &= 0xff
        call bpf_get_prandom_u32#7
        if r0 == 0x0 goto other
        r7 = r6
        goto check
    other:
        call bpf_get_prandom_u32#7
        r7 = r0
        r7 &= 0xff
    check:
        if r7 > 0x7 goto out
        r1 = r10
        r1 += -8
        r1 += r6
        r0 = *(u8 *)(r1 +0)
    out:
        r0 = 0
        exit
    )",
                               ProgType::xdp);
    REQUIRE_FALSE(r.accepted);
    CHECK_THAT(r.error, Catch::Contains("invalid variable-offset read from stack R1"));
}
