// bpf_get_stackid and bpf_get_stack over the host's call chains: each flag and error as
// kernel/bpf/stackmap.c answers it, ids checked against the bucket of a jhash2 computed here,
// called directly and through programs in both modes.
#include "tests/helpers/helper_test.hpp"

#include "helpers/kernel_helpers.hpp"
#include "maps/jhash.hpp"
#include "maps/kernel_errno.hpp"
#include "maps/stack_trace.hpp"
#include "verifier/verifier.hpp"
#include "vm/isa/assembler.hpp"

#include <cstring>
#include <numeric>

using namespace ebpf;
using namespace helper_test;

namespace {

uint64_t u(const void* p) {
    return reinterpret_cast<uint64_t>(p);
}

// The id the kernel gives frames: their bucket among n_buckets.
uint32_t bucket_of(const std::vector<uint64_t>& frames, uint32_t n_buckets) {
    std::vector<uint32_t> words(frames.size() * 2);
    std::memcpy(words.data(), frames.data(), frames.size() * 8);
    return jhash2(words.data(), static_cast<uint32_t>(words.size()), 0) & (n_buckets - 1);
}

std::vector<uint64_t> chain(size_t n, uint64_t base = 0xffffffff81000000) {
    std::vector<uint64_t> out(n);
    for (size_t i = 0; i < n; ++i)
        out[i] = base + 0x10 * (i + 1);
    return out;
}

std::vector<uint64_t> slice(const std::vector<uint64_t>& v, size_t from, size_t n) {
    return {v.begin() + from, v.begin() + std::min(v.size(), from + n)};
}

// The syscall view of id: the frames stored (zero frames dropped from the end), or empty.
std::vector<uint64_t> stored(Map& map, uint32_t id) {
    std::vector<uint64_t> value(map.def().value_size / 8);
    if (map.sys_lookup(&id, value.data()) != 0) return {};
    while (!value.empty() && value.back() == 0)
        value.pop_back();
    return value;
}

// struct bpf_stack_build_id frames as the kernel writes those it cannot resolve: status
// BPF_STACK_BUILD_ID_IP, the build id zeroed, the IP.
void check_unresolved_frames(const uint8_t* frames, const std::vector<uint64_t>& ips) {
    for (size_t i = 0; i < ips.size(); ++i) {
        const uint8_t* f = frames + 32 * i;
        int32_t status;
        uint64_t ip;
        std::memcpy(&status, f, 4);
        std::memcpy(&ip, f + 24, 8);
        CHECK(status == BPF_STACK_BUILD_ID_IP);
        CHECK(ip == ips[i]);
        CHECK(std::all_of(f + 4, f + 24, [](uint8_t b) { return !b; }));
    }
}

long stackid(RunState& state, Map& map, uint64_t flags) {
    return static_cast<long>(helpers::get_stackid(0, u(&map), flags, 0, 0, &state));
}

long get_stack(RunState& state, void* buf, uint32_t size, uint64_t flags) {
    return static_cast<long>(helpers::get_stack(0, u(buf), size, flags, 0, &state));
}

} // namespace

TEST_CASE("bpf_get_stackid: the id is the bucket of the skipped, truncated chain",
          "[helpers][stack]") {
    const auto kernel = chain(6), user = chain(3, 0x401000);
    RunState state;
    state.kernel_callchain = kernel;
    state.user_callchain = user;

    auto map = make_map(MapType::stack_trace, 4, 4 * 8, 1000); // 1024 buckets, 4 frames
    const long id = stackid(state, *map, 0);
    CHECK(id == bucket_of(slice(kernel, 0, 4), 1024));
    CHECK(stored(*map, static_cast<uint32_t>(id)) == slice(kernel, 0, 4));
    CHECK(stackid(state, *map, 0) == id); // the same chain: the same id

    const long skipped = stackid(state, *map, 3);
    CHECK(skipped == bucket_of(slice(kernel, 3, 4), 1024));
    CHECK(stored(*map, static_cast<uint32_t>(skipped)) == slice(kernel, 3, 4));

    const long uid = stackid(state, *map, BPF_F_USER_STACK | 1);
    CHECK(uid == bucket_of(slice(user, 1, 4), 1024));
    CHECK(stored(*map, static_cast<uint32_t>(uid)) == slice(user, 1, 4));

    // Skipping all of it, or an empty chain: no chain (-EFAULT).
    CHECK(stackid(state, *map, 6) == -kerr::efault);
    CHECK(stackid(state, *map, BPF_F_USER_STACK | 3) == -kerr::efault);
    state.kernel_callchain = {};
    CHECK(stackid(state, *map, 0) == -kerr::efault);

    // Flags it does not know, BPF_F_USER_BUILD_ID among them.
    state.kernel_callchain = kernel;
    CHECK(stackid(state, *map, BPF_F_USER_BUILD_ID) == -kerr::einval);
    CHECK(stackid(state, *map, 1u << 12) == -kerr::einval);
    CHECK(stackid(state, *map, uint64_t{1} << 40) == -kerr::einval);
}

TEST_CASE("bpf_get_stackid: chains deeper than perf_event_max_stack are cut at 127 frames",
          "[helpers][stack]") {
    const auto deep = chain(200);
    RunState state;
    state.kernel_callchain = deep;
    auto map = make_map(MapType::stack_trace, 4, 127 * 8, 64);
    const long id = stackid(state, *map, 10);
    // perf collects 127 frames (max_depth = 127 + 10, capped at 127); 10 are skipped.
    CHECK(id == bucket_of(slice(deep, 10, 117), 64));
    CHECK(stored(*map, static_cast<uint32_t>(id)) == slice(deep, 10, 117));
}

TEST_CASE("bpf_get_stackid: a bucket holding another chain", "[helpers][stack]") {
    // Two chains in the same one of 2 buckets, and an element to spare for a replacement.
    const auto a = chain(3);
    auto b = chain(3, 0xffffffff82000000);
    while (bucket_of(b, 2) != bucket_of(a, 2))
        ++b[0];
    const long id = bucket_of(a, 2);
    RunState state;
    auto map = make_map(MapType::stack_trace, 4, 8 * 8, 2);
    state.kernel_callchain = a;
    CHECK(stackid(state, *map, 0) == id);
    state.kernel_callchain = b;
    CHECK(stackid(state, *map, 0) == -kerr::eexist);
    // BPF_F_FAST_STACK_CMP returns at once only when the hashes are equal; these differ.
    CHECK(stackid(state, *map, BPF_F_FAST_STACK_CMP) == -kerr::eexist);
    CHECK(stored(*map, id) == a);
    CHECK(stackid(state, *map, BPF_F_REUSE_STACKID) == id);
    CHECK(stored(*map, id) == b);
    CHECK(stackid(state, *map, BPF_F_FAST_STACK_CMP) == id);
    state.kernel_callchain = a;
    CHECK(stackid(state, *map, 0) == -kerr::eexist);
}

TEST_CASE("bpf_get_stackid: -ENOMEM once max_entries chains are stored", "[helpers][stack]") {
    auto map = make_map(MapType::stack_trace, 4, 8, 3); // 4 buckets, 3 elements
    RunState state;
    std::vector<std::vector<uint64_t>> by_bucket(4);
    for (uint64_t ip = 1;
         std::any_of(by_bucket.begin(), by_bucket.end(), [](const auto& c) { return c.empty(); });
         ++ip)
        if (auto& c = by_bucket[bucket_of({ip}, 4)]; c.empty()) c = {ip};
    for (uint32_t i = 0; i < 3; ++i) {
        state.kernel_callchain = by_bucket[i];
        CHECK(stackid(state, *map, 0) == i);
    }
    state.kernel_callchain = by_bucket[3];
    CHECK(stackid(state, *map, 0) == -kerr::enomem);
    // A replacement too needs a free element first: the kernel pops one before the swap.
    std::vector<uint64_t> rival = {by_bucket[0][0]};
    while (rival == by_bucket[0] || bucket_of(rival, 4) != 0)
        ++rival[0];
    state.kernel_callchain = rival;
    CHECK(stackid(state, *map, BPF_F_REUSE_STACKID) == -kerr::enomem);
    uint32_t zero = 0;
    CHECK(map->sys_delete(&zero) == 0);
    state.kernel_callchain = by_bucket[3];
    CHECK(stackid(state, *map, 0) == 3);
    CHECK(stored(*map, 3) == by_bucket[3]);
}

TEST_CASE("bpf_get_stackid: build-id maps store each frame as an unresolved IP",
          "[helpers][stack]") {
    const auto kernel = chain(5);
    RunState state;
    state.kernel_callchain = kernel;
    auto map = make_map(MapType::stack_trace, 4, 2 * 32, 16, 1, BPF_F_STACK_BUILD_ID);
    const long id = stackid(state, *map, 1);
    CHECK(id == bucket_of(slice(kernel, 1, 2), 16));
    uint8_t value[64];
    const uint32_t key = static_cast<uint32_t>(id);
    REQUIRE(map->sys_lookup(&key, value) == 0);
    check_unresolved_frames(value, slice(kernel, 1, 2));
}

TEST_CASE("bpf_get_stack: copies, zero-fills and errors as the kernel's", "[helpers][stack]") {
    const auto kernel = chain(5), user = chain(2, 0x401000);
    RunState state;
    state.kernel_callchain = kernel;
    state.user_callchain = user;
    uint64_t buf[10];
    const auto filled = [&] { std::fill(std::begin(buf), std::end(buf), ~uint64_t{0}); };
    const auto frames = [&](size_t n) { return std::vector<uint64_t>(buf, buf + n); };

    filled();
    CHECK(get_stack(state, buf, 3 * 8, 1) == 24); // room for 3 of the 4 left after the skip
    CHECK(frames(3) == slice(kernel, 1, 3));
    CHECK(buf[3] == ~uint64_t{0}); // past size: untouched

    filled();
    CHECK(get_stack(state, buf, 10 * 8, 1) == 32);
    CHECK(frames(4) == slice(kernel, 1, 4));
    CHECK(std::all_of(buf + 4, buf + 10, [](uint64_t v) { return v == 0; }));

    filled();
    CHECK(get_stack(state, buf, 10 * 8, BPF_F_USER_STACK) == 16);
    CHECK(frames(2) == user);
    CHECK(buf[2] == 0);

    // Skipping exactly the whole chain copies nothing; skipping past it is -EFAULT.
    filled();
    CHECK(get_stack(state, buf, 4 * 8, 5) == 0);
    CHECK(frames(4) == std::vector<uint64_t>(4, 0));
    filled();
    CHECK(get_stack(state, buf, 4 * 8, 6) == -kerr::efault);
    CHECK(frames(4) == std::vector<uint64_t>(4, 0));

    // An empty chain is a chain of no frames.
    state.kernel_callchain = {};
    filled();
    CHECK(get_stack(state, buf, 4 * 8, 0) == 0);
    CHECK(frames(4) == std::vector<uint64_t>(4, 0));
    state.kernel_callchain = kernel;

    // -EINVAL, the buffer zeroed: a size not a multiple of a frame, unknown flags,
    // BPF_F_USER_BUILD_ID without BPF_F_USER_STACK.
    for (auto [size, flags] : {std::pair<uint32_t, uint64_t>{12, 0},
                               {32, 1u << 12},
                               {32, BPF_F_FAST_STACK_CMP},
                               {64, BPF_F_USER_BUILD_ID},
                               {40, BPF_F_USER_STACK | BPF_F_USER_BUILD_ID}}) {
        filled();
        INFO("size " << size << " flags " << flags);
        CHECK(get_stack(state, buf, size, flags) == -kerr::einval);
        CHECK(std::all_of(reinterpret_cast<uint8_t*>(buf), reinterpret_cast<uint8_t*>(buf) + size,
                          [](uint8_t b) { return b == 0; }));
    }
}

TEST_CASE("bpf_get_stack: build-id frames for the user stack, and the 127-frame cap",
          "[helpers][stack]") {
    const auto user = chain(3, 0x401000);
    RunState state;
    state.user_callchain = user;
    uint8_t buf[96];
    std::memset(buf, 0xff, sizeof buf);
    CHECK(get_stack(state, buf, 64, BPF_F_USER_STACK | BPF_F_USER_BUILD_ID) == 64);
    check_unresolved_frames(buf, slice(user, 0, 2));
    CHECK(buf[64] == 0xff);

    const auto deep = chain(200);
    state.kernel_callchain = deep;
    std::vector<uint64_t> big(127, ~uint64_t{0});
    CHECK(get_stack(state, big.data(), 127 * 8, 10) == 117 * 8);
    CHECK(slice(big, 0, 117) == slice(deep, 10, 117));
    CHECK(std::all_of(big.begin() + 117, big.end(), [](uint64_t v) { return v == 0; }));
}

TEST_CASE("bpf_get_stackid and bpf_get_stack through a program", "[helpers][stack]") {
    // r0 = bpf_get_stackid(ctx, map, 1) + 1000 * bpf_get_stack(ctx, fp-32, 32, 0)
    const char* text = R"(
        r6 = r1
        r2 = map[idx:0]
        r3 = 1
        call bpf_get_stackid#27
        r7 = r0
        r1 = r6
        r2 = r10
        r2 += -32
        r3 = 32
        r4 = 0
        call bpf_get_stack#67
        r0 *= 1000
        r0 += r7
        exit
    )";
    const auto kernel = chain(3);
    auto map = make_map(MapType::stack_trace, 4, 8 * 8, 256);
    auto prog = load(text, {map.get()});
    for (Mode mode : both_modes) {
        INFO(mode_name(mode));
        uint64_t ctx[21] = {};
        RunState state;
        state.ctx = ctx;
        state.kernel_callchain = kernel;
        auto r = run(prog, state, mode, u(ctx));
        REQUIRE(r);
        CHECK(*r == 24 * 1000 + bucket_of(slice(kernel, 1, 2), 256));
    }
}

TEST_CASE("the verifier lets only bpf_get_stackid take a stack trace map", "[helpers][stack]") {
    auto stacks = make_map(MapType::stack_trace, 4, 8 * 8, 16);
    auto hash = make_map(MapType::hash, 4, 8, 16);
    const auto verify_text = [&](const char* text) {
        auto insns = assemble(text);
        REQUIRE(insns);
        VerifierOptions opts;
        opts.prog_type = ProgType::kprobe;
        opts.maps = {stacks.get(), hash.get()};
        return verify(*insns, opts);
    };
    CHECK(verify_text("r2 = map[idx:0]\nr3 = 0\ncall bpf_get_stackid#27\nexit").accepted);
    const auto other_map = verify_text("r2 = map[idx:1]\nr3 = 0\ncall bpf_get_stackid#27\nexit");
    CHECK_FALSE(other_map.accepted);
    CHECK(other_map.error == "cannot pass map_type 1 into func bpf_get_stackid#27");
    const auto lookup = verify_text(R"(
        *(u32 *)(r10 -4) = 0
        r1 = map[idx:0]
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem#1
        r0 = 0
        exit
    )");
    CHECK_FALSE(lookup.accepted);
    CHECK(lookup.error == "cannot pass map_type 7 into func bpf_map_lookup_elem#1");
}
