// BPF_MAP_TYPE_STACK_TRACE against the live kernel: create rules, and stack ids. The kernel's
// chains come from a raw tracepoint program calling bpf_get_stackid under BPF_PROG_TEST_RUN (its
// own kernel stack); the same chain given to our map must get the same id and read back the same
// frames, so bucket choice (jhash2, seed 0, masked to n_buckets) is the kernel's. Linux only.
#include "maps/jhash.hpp"
#include "maps/stack_trace.hpp"
#include "tests/maps/kernel_pair.hpp"

#include <linux/bpf.h>

namespace e = ebpf;

static_assert(e::BPF_F_SKIP_FIELD_MASK == BPF_F_SKIP_FIELD_MASK &&
              e::BPF_F_USER_STACK == BPF_F_USER_STACK &&
              e::BPF_F_FAST_STACK_CMP == BPF_F_FAST_STACK_CMP &&
              e::BPF_F_REUSE_STACKID == BPF_F_REUSE_STACKID &&
              e::BPF_F_USER_BUILD_ID == BPF_F_USER_BUILD_ID &&
              e::BPF_F_STACK_BUILD_ID == BPF_F_STACK_BUILD_ID);
static_assert(e::BPF_STACK_BUILD_ID_SIZE == sizeof(bpf_stack_build_id) &&
              e::BPF_STACK_BUILD_ID_IP_OFF == offsetof(bpf_stack_build_id, ip) &&
              e::BPF_STACK_BUILD_ID_IP == BPF_STACK_BUILD_ID_IP);
static_assert(e::kerr::efault == EFAULT);

namespace {

using namespace maps_kernel;

// Both sides refuse or accept the same attributes with the same errno.
void same_create(uint32_t key_size, uint32_t value_size, uint32_t max_entries, uint32_t flags) {
    LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags);
    const int fd =
        bpf_map_create(BPF_MAP_TYPE_STACK_TRACE, "st", key_size, value_size, max_entries, &opts);
    if (fd >= 0) close(fd);
    e::MapDef def;
    def.type = e::MapType::stack_trace;
    def.key_size = key_size;
    def.value_size = value_size;
    def.max_entries = max_entries;
    def.map_flags = flags;
    auto ours = e::create_map(def);
    const long err = ours ? 0 : [&] {
        const auto& m = ours.error().message;
        for (long c : {e::kerr::einval, e::kerr::e2big, e::kerr::enomem})
            if (m.find(std::string("(-") + e::kerr::name(c) + ")") != std::string::npos) return -c;
        return -1l;
    }();
    INFO("key " << key_size << " value " << value_size << " max " << max_entries << " flags "
                << flags << ": kernel " << (fd >= 0 ? 0 : fd) << ", ours " << err);
    CHECK(err == (fd >= 0 ? 0 : fd));
}

// A raw tracepoint program returning bpf_get_stackid(ctx, map, flags), test-run by the kernel.
// Frame 0 of its chain lies in the program, so one program gives the same chain every run.
class StackidProg {
  public:
    StackidProg(int map_fd, int32_t flags) {
        const bpf_insn insns[] = {
            {BPF_LD | BPF_DW | BPF_IMM, 2, BPF_PSEUDO_MAP_FD, 0, map_fd},
            {0, 0, 0, 0, 0},
            {BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, flags},
            {BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_stackid},
            {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
        };
        fd_ = bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "stackid", "GPL", insns,
                            sizeof insns / sizeof insns[0], nullptr);
        REQUIRE(fd_ >= 0);
    }
    ~StackidProg() { close(fd_); }
    StackidProg(const StackidProg&) = delete;
    StackidProg& operator=(const StackidProg&) = delete;

    int32_t run() const {
        uint64_t args[1] = {};
        LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof args);
        REQUIRE(bpf_prog_test_run_opts(fd_, &opts) == 0);
        return static_cast<int32_t>(opts.retval);
    }

  private:
    int fd_ = -1;
};

// The kernel's answer to bpf_get_stackid from a program of its own.
int32_t kernel_stackid(int map_fd, int32_t flags) {
    return StackidProg(map_fd, flags).run();
}

std::vector<uint64_t> frames_of(const Bytes& value) {
    std::vector<uint64_t> ips(value.size() / 8);
    std::memcpy(ips.data(), value.data(), value.size());
    while (!ips.empty() && ips.back() == 0)
        ips.pop_back();
    return ips;
}

// Our bpf_get_stackid on chain, as the helper cuts it (max_depth = frames + skip).
long our_stackid(e::Map& map, const std::vector<uint64_t>& chain, uint64_t flags) {
    auto& st = static_cast<e::StackTraceMap&>(map);
    const size_t depth = map.def().value_size / st.frame_size() + (flags & 0xff);
    return st.get_stackid(std::span(chain).first(std::min(chain.size(), depth)), flags);
}

} // namespace

TEST_CASE("stack trace map: create rules as the kernel's", "[maps][stack_trace][kernel]") {
    if (!kernel_available()) return;
    same_create(4, 8, 1, 0);
    same_create(4, 127 * 8, 100, 0);
    same_create(4, 128 * 8, 100, 0);
    same_create(4, 12, 4, 0);
    same_create(4, 4, 4, 0);
    same_create(4, 0, 4, 0);
    same_create(8, 64, 4, 0);
    same_create(0, 64, 4, 0);
    same_create(4, 64, 0, 0);
    same_create(4, 64, 4, BPF_F_STACK_BUILD_ID);
    same_create(4, 40, 4, BPF_F_STACK_BUILD_ID);
    same_create(4, 127 * 32, 4, BPF_F_STACK_BUILD_ID);
    same_create(4, 128 * 32, 4, BPF_F_STACK_BUILD_ID);
    same_create(4, 64, 4, BPF_F_RDONLY);
    same_create(4, 64, 4, BPF_F_WRONLY);
    same_create(4, 64, 4, BPF_F_RDONLY | BPF_F_WRONLY);
    same_create(4, 64, 4, BPF_F_RDONLY_PROG);
    same_create(4, 64, 4, BPF_F_NO_PREALLOC);
    same_create(4, 64, 4, BPF_F_ZERO_SEED);
    same_create(4, 64, (1u << 31) + 1, 0);
}

TEST_CASE("stack trace map: syscall side as the kernel's", "[maps][stack_trace][kernel]") {
    if (!kernel_available()) return;
    Pair p(e::MapType::stack_trace, 4, 16 * 8, 5); // 8 buckets
    for (uint32_t id : {0u, 3u, 7u, 8u, 100u}) {
        const Bytes k = u32(id);
        p.lookup(&k);
        p.erase(k);
        p.update(&k, Bytes(16 * 8, 1), BPF_ANY);
        p.update(&k, Bytes(16 * 8, 1), BPF_F_LOCK);
        p.lookup_and_delete(&k);
    }
    p.next_key(nullptr);
    const Bytes k9 = u32(9);
    p.next_key(&k9);

    // A chain from the kernel, stored in both.
    const StackidProg prog(p.fd(), 0);
    const int32_t id = prog.run();
    REQUIRE(id >= 0);
    REQUIRE(id < 8);
    Bytes value(16 * 8);
    REQUIRE(bpf_map_lookup_elem(p.fd(), &id, value.data()) == 0);
    const auto chain = frames_of(value);
    REQUIRE(!chain.empty());
    CHECK(our_stackid(p.ours(), chain, 0) == id);
    const Bytes k = u32(static_cast<uint32_t>(id));
    p.lookup(&k);
    p.keys();
    p.next_key(&k);
    p.next_key(nullptr);
    p.update(&k, value, BPF_ANY);
    p.update(&k, value, BPF_EXIST);
    p.lookup_and_delete(&k);
    p.lookup(&k);
    p.keys();
    CHECK(prog.run() == id);
    CHECK(our_stackid(p.ours(), chain, 0) == id);
    p.erase(k);
    p.erase(k);
    p.keys();
}

TEST_CASE("stack trace map: ids and frames as the kernel's, with skip and truncation",
          "[maps][stack_trace][kernel]") {
    if (!kernel_available()) return;
    // The kernel's full chain for this program's call path; past frame 0 (in the program itself)
    // it is the same for every program loaded here.
    std::vector<uint64_t> chain;
    {
        Pair full(e::MapType::stack_trace, 4, 127 * 8, 1u << 16);
        const int32_t id = kernel_stackid(full.fd(), 0);
        REQUIRE(id >= 0);
        Bytes value(127 * 8);
        REQUIRE(bpf_map_lookup_elem(full.fd(), &id, value.data()) == 0);
        chain = frames_of(value);
        REQUIRE(chain.size() >= 3);
        // The id is the bucket of jhash2 over the frames, computed here on its own.
        const uint32_t hash =
            e::jhash2(reinterpret_cast<const uint32_t*>(chain.data()), chain.size() * 2, 0);
        CHECK(static_cast<uint32_t>(id) == (hash & ((1u << 16) - 1)));
        CHECK(our_stackid(full.ours(), chain, 0) == id);
        const Bytes k = u32(static_cast<uint32_t>(id));
        full.lookup(&k);
    }
    for (uint32_t frames : {1u, 2u, 4u, 127u}) {
        for (uint32_t skip : {0u, 1u, 2u}) {
            if (skip >= chain.size()) continue;
            INFO(frames << " frames, skip " << skip);
            Pair p(e::MapType::stack_trace, 4, frames * 8, 1u << 12);
            const int32_t id = kernel_stackid(p.fd(), static_cast<int32_t>(skip));
            REQUIRE(id >= 0);
            if (skip > 0) {
                CHECK(our_stackid(p.ours(), chain, skip) == id);
            } else {
                // Frame 0 is in the calling program, which differs from one load to the next:
                // the kernel's stored frames stand for this program's chain.
                Bytes value(frames * 8);
                REQUIRE(bpf_map_lookup_elem(p.fd(), &id, value.data()) == 0);
                CHECK(frames_of(value).size() == std::min<size_t>(frames, chain.size()));
                CHECK(our_stackid(p.ours(), frames_of(value), 0) == id);
            }
            const Bytes k = u32(static_cast<uint32_t>(id));
            p.lookup(&k);
            p.keys();
        }
    }
    // Skipping the whole chain.
    Pair p(e::MapType::stack_trace, 4, 127 * 8, 64);
    const int32_t too_far = static_cast<int32_t>(chain.size());
    CHECK(kernel_stackid(p.fd(), too_far) == -EFAULT);
    CHECK(our_stackid(p.ours(), chain, too_far) == -EFAULT);
}

TEST_CASE("stack trace map: build-id frames as the kernel's for kernel stacks",
          "[maps][stack_trace][kernel]") {
    if (!kernel_available()) return;
    Pair full(e::MapType::stack_trace, 4, 127 * 8, 1024);
    const int32_t id = kernel_stackid(full.fd(), 0);
    REQUIRE(id >= 0);
    Bytes value(127 * 8);
    REQUIRE(bpf_map_lookup_elem(full.fd(), &id, value.data()) == 0);
    const auto chain = frames_of(value);

    // A kernel stack in a build-id map: every frame falls back to its IP.
    Pair p(e::MapType::stack_trace, 4, 8 * 32, 1024, BPF_F_STACK_BUILD_ID);
    const int32_t bid = kernel_stackid(p.fd(), 1);
    REQUIRE(bid >= 0);
    CHECK(our_stackid(p.ours(), chain, 1) == bid);
    const Bytes k = u32(static_cast<uint32_t>(bid));
    p.lookup(&k);
}
