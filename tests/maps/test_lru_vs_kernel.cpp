// LRU eviction against the live kernel: the same sequence of updates, lookups and deletes on an
// LRU map here and in the kernel, from programs (an XDP program test-run on a pinned CPU, and our
// map's program view told that CPU) and from the syscall side (the thread pinned to a CPU), with
// the same answers and the same keys left after every step. Linux only, as root.
#include "tests/maps/kernel_pair.hpp"

#include <linux/bpf.h>
#include <sched.h>

#include <string>

namespace {

using namespace maps_kernel;

// The thread on one CPU for as long as it lives; false from ok() when that CPU is not ours.
class OnCpu {
  public:
    explicit OnCpu(uint32_t cpu) {
        sched_getaffinity(0, sizeof saved_, &saved_);
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        ok_ =
            sched_setaffinity(0, sizeof one, &one) == 0 && sched_getcpu() == static_cast<int>(cpu);
    }
    ~OnCpu() { sched_setaffinity(0, sizeof saved_, &saved_); }
    OnCpu(const OnCpu&) = delete;
    OnCpu& operator=(const OnCpu&) = delete;
    bool ok() const { return ok_; }

  private:
    cpu_set_t saved_;
    bool ok_ = false;
};

// The CPUs this test may pin itself to.
std::vector<uint32_t> usable_cpus() {
    std::vector<uint32_t> cpus;
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return cpus;
    for (uint32_t cpu = 0; cpu < possible_cpus(); ++cpu)
        if (CPU_ISSET(cpu, &allowed)) cpus.push_back(cpu);
    return cpus;
}

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    return bpf_insn{code, dst, src, off, imm};
}

// An XDP program that does one operation on the map, as its packet says: u32 op, u32 key, u64
// value. op 0: lookup (r0 1 when found), 1-3: update with flags op - 1, 4: delete (r0 the
// helper's answer).
int load_op_program(int map_fd) {
    const std::vector<bpf_insn> insns = {
        insn(BPF_LDX | BPF_W | BPF_MEM, 6, 1, 0, 0),     // r6 = ctx->data
        insn(BPF_LDX | BPF_W | BPF_MEM, 7, 1, 4, 0),     // r7 = ctx->data_end
        insn(BPF_ALU64 | BPF_MOV | BPF_X, 2, 6, 0, 0),   // r2 = r6
        insn(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, 16),  // r2 += 16
        insn(BPF_JMP | BPF_JGT | BPF_X, 2, 7, 24, 0),    // if r2 > r7 goto bad
        insn(BPF_LDX | BPF_W | BPF_MEM, 3, 6, 4, 0),     // r3 = key
        insn(BPF_STX | BPF_W | BPF_MEM, 10, 3, -4, 0),   // *(u32 *)(fp - 4) = r3
        insn(BPF_LDX | BPF_DW | BPF_MEM, 3, 6, 8, 0),    // r3 = value
        insn(BPF_STX | BPF_DW | BPF_MEM, 10, 3, -16, 0), // *(u64 *)(fp - 16) = r3
        insn(BPF_LDX | BPF_W | BPF_MEM, 8, 6, 0, 0),     // r8 = op
        insn(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, map_fd),
        insn(0, 0, 0, 0, 0),
        insn(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0), // r2 = fp
        insn(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -4), // r2 += -4
        insn(BPF_JMP | BPF_JNE | BPF_K, 8, 0, 5, 0),    // if op != 0 goto not_lookup
        insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
        insn(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2, 0),   // if r0 == 0 goto out
        insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1), // r0 = 1
        insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
        insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),        // out:
        insn(BPF_JMP | BPF_JNE | BPF_K, 8, 0, 2, 4), // not_lookup: if op != 4 goto update
        insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_delete_elem),
        insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
        insn(BPF_ALU64 | BPF_MOV | BPF_X, 3, 10, 0, 0),  // update: r3 = fp
        insn(BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, -16), // r3 += -16
        insn(BPF_ALU64 | BPF_MOV | BPF_X, 4, 8, 0, 0),   // r4 = op
        insn(BPF_ALU64 | BPF_ADD | BPF_K, 4, 0, 0, -1),  // r4 -= 1
        insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_update_elem),
        insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
        insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 255), // bad: r0 = 255
        insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
    };
    return bpf_prog_load(BPF_PROG_TYPE_XDP, "lru_ops", "GPL", insns.data(), insns.size(), nullptr);
}

enum Op : uint32_t { lookup = 0, update_any = 1, update_noexist = 2, update_exist = 3, erase = 4 };

// One LRU map on each side and the program that works the kernel's.
class LruPair {
  public:
    LruPair(e::MapType type, uint32_t max_entries, uint32_t map_flags)
        : pair_(type, 4, 8, max_entries, map_flags) {
        prog_fd_ = load_op_program(pair_.fd());
        REQUIRE(prog_fd_ >= 0);
    }
    ~LruPair() { close(prog_fd_); }
    LruPair(const LruPair&) = delete;
    LruPair& operator=(const LruPair&) = delete;

    // op by a program run on cpu (the thread pinned there).
    void prog(uint32_t cpu, Op op, uint32_t key, uint64_t value = 0) {
        struct {
            uint32_t op, key;
            uint64_t value;
        } packet = {op, key, value};
        LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = &packet, .data_size_in = sizeof packet);
        REQUIRE(bpf_prog_test_run_opts(prog_fd_, &opts) == 0);
        const auto theirs = static_cast<int32_t>(opts.retval);
        e::Map& map = pair_.ours();
        long ours;
        if (op == lookup)
            ours = map.lookup(&key, cpu) != nullptr;
        else if (op == erase)
            ours = map.erase(&key);
        else
            ours = map.update(&key, &value, op - 1, cpu);
        INFO("program on cpu " << cpu << ", op " << op << ", key " << key << ": kernel " << theirs
                               << ", ours " << ours);
        REQUIRE(ours == theirs);
    }

    // An update from the syscall side (the thread pinned to the CPU the kernel runs it on).
    void sys_update(uint32_t key, uint64_t value, uint64_t flags) {
        std::vector<uint64_t> values(pair_.value_out() / 8, value);
        Bytes v(pair_.value_out());
        std::memcpy(v.data(), values.data(), v.size());
        const auto k = u32(key);
        pair_.update(&k, v, flags);
    }
    void sys_delete(uint32_t key) { pair_.erase(u32(key)); }
    void sys_lookup(uint32_t key) {
        const auto k = u32(key);
        pair_.lookup(&k);
    }

    // The same keys on both sides.
    void same_keys(const std::string& step) {
        INFO("after " << step);
        pair_.keys();
    }

  private:
    Pair pair_;
    int prog_fd_ = -1;
};

struct Rng {
    uint32_t x;
    uint32_t next(uint32_t n) {
        x = x * 1664525 + 1013904223;
        return (x >> 8) % n;
    }
};

struct Config {
    e::MapType type;
    uint32_t map_flags;
};

const Config configs[] = {
    {e::MapType::lru_hash, 0},
    {e::MapType::lru_hash, BPF_F_NO_COMMON_LRU},
    {e::MapType::lru_percpu_hash, 0},
    {e::MapType::lru_percpu_hash, BPF_F_NO_COMMON_LRU},
};

std::string describe(const Config& c, uint32_t max_entries) {
    return std::string(e::map_type_name(c.type)) + (c.map_flags ? " BPF_F_NO_COMMON_LRU" : "") +
           ", max_entries " + std::to_string(max_entries);
}

bool kernel_and_cpus(std::vector<uint32_t>& cpus) {
    if (!kernel_available()) return false;
    cpus = usable_cpus();
    if (cpus.empty()) WARN("no CPU to pin the test to; skipped");
    return !cpus.empty();
}

} // namespace

TEST_CASE("kernel vs ours: LRU eviction, inserts from a program on one CPU",
          "[maps][kernel][lru]") {
    std::vector<uint32_t> cpus;
    if (!kernel_and_cpus(cpus)) return;
    const uint32_t cpu = cpus.front();
    for (const Config& c : configs) {
        for (uint32_t max_entries : {1u, 2u, 3u, 8u, 17u, 64u, 300u}) {
            INFO(describe(c, max_entries));
            OnCpu on(cpu);
            REQUIRE(on.ok());
            LruPair p(c.type, max_entries, c.map_flags);
            // New keys, each looked up once, and every third one again later: the ref bits
            // decide which of them the batches evict.
            for (uint32_t key = 0; key < 3 * max_entries + 10; ++key) {
                p.prog(cpu, lookup, key);
                p.prog(cpu, update_noexist, key, key);
                if (key % 3 == 0) p.prog(cpu, lookup, key / 2);
                p.same_keys("key " + std::to_string(key));
            }
        }
    }
}

TEST_CASE("kernel vs ours: LRU eviction, random operations from programs and the syscall",
          "[maps][kernel][lru]") {
    std::vector<uint32_t> cpus;
    if (!kernel_and_cpus(cpus)) return;
    for (const Config& c : configs) {
        for (uint32_t max_entries : {4u, 8u, 13u, 40u, 130u}) {
            INFO(describe(c, max_entries));
            LruPair p(c.type, max_entries, c.map_flags);
            Rng rng{max_entries * 7 + c.map_flags + static_cast<uint32_t>(c.type)};
            const uint32_t key_space = 2 * max_entries + 3;
            for (uint32_t step = 0; step < 12 * max_entries + 40; ++step) {
                // Runs of operations on one CPU, then another: each CPU's local lists fill
                // and empty, and a CPU short of elements steals another's.
                const uint32_t cpu = cpus[(step / 7) % cpus.size()];
                OnCpu on(cpu);
                REQUIRE(on.ok());
                const uint32_t key = rng.next(key_space);
                const uint32_t what = rng.next(20);
                if (what < 6)
                    p.prog(cpu, lookup, key);
                else if (what < 11)
                    p.prog(cpu, update_noexist, key, step);
                else if (what < 13)
                    p.prog(cpu, update_any, key, step);
                else if (what < 14)
                    p.prog(cpu, update_exist, key, step);
                else if (what < 15)
                    p.prog(cpu, erase, key);
                else if (what < 17)
                    p.sys_update(key, step, BPF_ANY);
                else if (what < 18)
                    p.sys_update(key, step, BPF_EXIST);
                else if (what < 19)
                    p.sys_delete(key);
                else
                    p.sys_lookup(key);
                p.same_keys("step " + std::to_string(step));
            }
        }
    }
}

TEST_CASE("kernel vs ours: LRU update of a key already there, in a full map",
          "[maps][kernel][lru]") {
    std::vector<uint32_t> cpus;
    if (!kernel_and_cpus(cpus)) return;
    OnCpu on(cpus.front());
    REQUIRE(on.ok());
    for (const Config& c : configs) {
        INFO(describe(c, 2));
        LruPair p(c.type, 2 * possible_cpus(), c.map_flags);
        for (uint32_t key = 0; key < 2 * possible_cpus(); ++key)
            p.sys_update(key, key, BPF_NOEXIST);
        // The LRU hash takes a fresh element before it looks for the key, which can evict the
        // key itself; the per-CPU kind does not for BPF_EXIST, but does for BPF_ANY.
        for (uint32_t key = 0; key < 2 * possible_cpus(); ++key) {
            p.sys_update(key, 100 + key, BPF_EXIST);
            p.same_keys("BPF_EXIST update of " + std::to_string(key));
            p.sys_update(key, 200 + key, BPF_ANY);
            p.same_keys("BPF_ANY update of " + std::to_string(key));
        }
    }
}

TEST_CASE("kernel vs ours: a per-CPU LRU's max_entries is a multiple of the CPUs",
          "[maps][kernel][lru]") {
    if (!kernel_available()) return;
    for (uint32_t max_entries : {1u, 3u, 5u, 64u}) {
        Pair p(e::MapType::lru_hash, 4, 8, max_entries, BPF_F_NO_COMMON_LRU);
        bpf_map_info info = {};
        uint32_t len = sizeof info;
        REQUIRE(bpf_obj_get_info_by_fd(p.fd(), &info, &len) == 0);
        CHECK(p.ours().def().max_entries == info.max_entries);
    }
}
