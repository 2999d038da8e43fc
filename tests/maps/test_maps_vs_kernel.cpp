// The same syscall-view operations on our maps and on the live kernel's (bpf(2) through libbpf),
// with the same return codes and values required. Linux only; skips with a warning when bpf()
// is not permitted.
#include "tests/maps/kernel_pair.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstring>
#include <sched.h>
#include <set>
#include <unistd.h>
#include <vector>

namespace e = ebpf;

// What this project states about linux/bpf.h and errno, checked against them.
static_assert(static_cast<uint32_t>(e::MapType::hash) == BPF_MAP_TYPE_HASH);
static_assert(static_cast<uint32_t>(e::MapType::array) == BPF_MAP_TYPE_ARRAY);
static_assert(static_cast<uint32_t>(e::MapType::prog_array) == BPF_MAP_TYPE_PROG_ARRAY);
static_assert(static_cast<uint32_t>(e::MapType::perf_event_array) == BPF_MAP_TYPE_PERF_EVENT_ARRAY);
static_assert(static_cast<uint32_t>(e::MapType::percpu_hash) == BPF_MAP_TYPE_PERCPU_HASH);
static_assert(static_cast<uint32_t>(e::MapType::percpu_array) == BPF_MAP_TYPE_PERCPU_ARRAY);
static_assert(static_cast<uint32_t>(e::MapType::lru_hash) == BPF_MAP_TYPE_LRU_HASH);
static_assert(static_cast<uint32_t>(e::MapType::lru_percpu_hash) == BPF_MAP_TYPE_LRU_PERCPU_HASH);
static_assert(static_cast<uint32_t>(e::MapType::lpm_trie) == BPF_MAP_TYPE_LPM_TRIE);
static_assert(static_cast<uint32_t>(e::MapType::array_of_maps) == BPF_MAP_TYPE_ARRAY_OF_MAPS);
static_assert(static_cast<uint32_t>(e::MapType::hash_of_maps) == BPF_MAP_TYPE_HASH_OF_MAPS);
static_assert(static_cast<uint32_t>(e::MapType::queue) == BPF_MAP_TYPE_QUEUE);
static_assert(static_cast<uint32_t>(e::MapType::stack) == BPF_MAP_TYPE_STACK);
static_assert(static_cast<uint32_t>(e::MapType::ringbuf) == BPF_MAP_TYPE_RINGBUF);
static_assert(static_cast<uint32_t>(e::MapType::user_ringbuf) == BPF_MAP_TYPE_USER_RINGBUF);
static_assert(e::BPF_F_NO_PREALLOC == BPF_F_NO_PREALLOC && e::BPF_F_RDONLY == BPF_F_RDONLY &&
              e::BPF_F_WRONLY == BPF_F_WRONLY && e::BPF_F_RDONLY_PROG == BPF_F_RDONLY_PROG &&
              e::BPF_F_WRONLY_PROG == BPF_F_WRONLY_PROG && e::BPF_F_ZERO_SEED == BPF_F_ZERO_SEED &&
              e::BPF_F_MMAPABLE == BPF_F_MMAPABLE && e::BPF_F_INNER_MAP == BPF_F_INNER_MAP &&
              e::BPF_F_NO_COMMON_LRU == BPF_F_NO_COMMON_LRU &&
              e::BPF_F_PRESERVE_ELEMS == BPF_F_PRESERVE_ELEMS);
static_assert(e::BPF_ANY == BPF_ANY && e::BPF_NOEXIST == BPF_NOEXIST && e::BPF_EXIST == BPF_EXIST &&
              e::BPF_F_LOCK == BPF_F_LOCK);
static_assert(e::BPF_F_CURRENT_CPU == BPF_F_CURRENT_CPU &&
              e::BPF_F_CTXLEN_MASK == BPF_F_CTXLEN_MASK);
static_assert(e::BPF_RB_AVAIL_DATA == BPF_RB_AVAIL_DATA && e::BPF_RB_PROD_POS == BPF_RB_PROD_POS &&
              e::BPF_RB_NO_WAKEUP == BPF_RB_NO_WAKEUP);
static_assert(e::kerr::eperm == EPERM && e::kerr::enoent == ENOENT && e::kerr::e2big == E2BIG &&
              e::kerr::ebadf == EBADF && e::kerr::eagain == EAGAIN && e::kerr::enomem == ENOMEM &&
              e::kerr::eacces == EACCES && e::kerr::eexist == EEXIST && e::kerr::einval == EINVAL &&
              e::kerr::enospc == ENOSPC && e::kerr::eopnotsupp == EOPNOTSUPP);

namespace {

using namespace maps_kernel;

Bytes lpm_key(uint32_t prefixlen, uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    Bytes out(8);
    std::memcpy(out.data(), &prefixlen, 4);
    out[4] = a;
    out[5] = b;
    out[6] = c;
    out[7] = d;
    return out;
}

// The test thread on one CPU: the kernel's LRU lists are per CPU underneath, and a thread that
// moves between CPUs can strand free elements where eviction then starts early.
class PinnedToOneCpu {
  public:
    PinnedToOneCpu() {
        pinned_ = sched_getaffinity(0, sizeof(saved_), &saved_) == 0;
        cpu_set_t one;
        CPU_ZERO(&one);
        for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
            if (CPU_ISSET(cpu, &saved_)) {
                CPU_SET(cpu, &one);
                break;
            }
        pinned_ = pinned_ && sched_setaffinity(0, sizeof(one), &one) == 0;
    }
    ~PinnedToOneCpu() {
        if (pinned_) sched_setaffinity(0, sizeof(saved_), &saved_);
    }
    bool pinned() const { return pinned_; }

  private:
    cpu_set_t saved_;
    bool pinned_ = false;
};

} // namespace

TEST_CASE("kernel vs ours: array", "[maps][kernel]") {
    if (!kernel_available()) return;
    Pair p(e::MapType::array, 4, 12, 4);
    for (uint32_t i = 0; i <= 4; ++i) {
        const auto k = u32(i);
        p.lookup(&k);
    }
    auto k0 = u32(0), k1 = u32(1), k2 = u32(2), k3 = u32(3), k4 = u32(4), far = u32(1000);
    CHECK(p.update(&k1, pattern(12, 1), BPF_ANY) == 0);
    CHECK(p.update(&k2, pattern(12, 2), BPF_EXIST) == 0);
    CHECK(p.update(&k0, pattern(12, 3), BPF_NOEXIST) == -EEXIST);
    CHECK(p.update(&k4, pattern(12, 4), BPF_ANY) == -E2BIG);
    CHECK(p.update(&k4, pattern(12, 4), BPF_NOEXIST) == -E2BIG);
    CHECK(p.update(&k1, pattern(12, 5), 3) == -EINVAL);
    CHECK(p.update(&k1, pattern(12, 5), BPF_F_LOCK) == -EINVAL);
    CHECK(p.update(&k1, pattern(12, 5), 8) == -EINVAL);
    CHECK(p.erase(k1) == -EINVAL);
    CHECK(p.lookup_and_delete(&k1) == -e::kerr::enotsupp);
    for (const Bytes* k : {&k0, &k1, &k2, &k3, &k4})
        p.lookup(k);
    CHECK(p.next_key(nullptr) == 0);
    for (const Bytes* k : {&k0, &k1, &k2, &far})
        CHECK(p.next_key(k) == 0);
    CHECK(p.next_key(&k3) == -ENOENT);
    CHECK(p.keys().size() == 4);
}

TEST_CASE("kernel vs ours: BPF_F_RDONLY and BPF_F_WRONLY", "[maps][kernel]") {
    if (!kernel_available()) return;
    const auto k = u32(0);
    {
        Pair p(e::MapType::array, 4, 4, 2, BPF_F_RDONLY);
        CHECK(p.update(&k, u32(1), BPF_ANY) == -EPERM);
        CHECK(p.erase(k) == -EPERM);
        CHECK(p.lookup(&k) == 0);
        CHECK(p.next_key(nullptr) == 0);
    }
    {
        Pair p(e::MapType::hash, 4, 4, 2, BPF_F_WRONLY);
        CHECK(p.update(&k, u32(1), BPF_ANY) == 0);
        CHECK(p.lookup(&k) == -EPERM);
        CHECK(p.next_key(nullptr) == -EPERM);
        CHECK(p.lookup_and_delete(&k) == -EPERM);
        CHECK(p.erase(k) == 0);
    }
    {
        Pair p(e::MapType::queue, 0, 4, 2, BPF_F_RDONLY);
        CHECK(p.update(nullptr, u32(1), BPF_ANY) == -EPERM);
        CHECK(p.lookup(nullptr) == -ENOENT);
        CHECK(p.lookup_and_delete(nullptr) == -EPERM);
    }
}

TEST_CASE("kernel vs ours: percpu array", "[maps][kernel][percpu]") {
    if (!kernel_available()) return;
    for (uint32_t value_size : {4u, 12u}) {
        INFO("value_size " << value_size);
        Pair p(e::MapType::percpu_array, 4, value_size, 3);
        auto k0 = u32(0), k1 = u32(1), k3 = u32(3);
        p.lookup(&k1);
        // every byte of every CPU's slot, padding included
        CHECK(p.update(&k1, pattern(p.value_out(), 7), BPF_ANY) == 0);
        CHECK(p.lookup(&k1) == 0);
        CHECK(p.update(&k0, pattern(p.value_out(), 8), BPF_EXIST) == 0);
        CHECK(p.update(&k0, pattern(p.value_out(), 9), BPF_NOEXIST) == -EEXIST);
        CHECK(p.update(&k3, pattern(p.value_out(), 9), BPF_ANY) == -E2BIG);
        CHECK(p.update(&k0, pattern(p.value_out(), 9), 3) == -EINVAL);
        CHECK(p.update(&k0, pattern(p.value_out(), 9), BPF_F_LOCK) == -EINVAL);
        CHECK(p.lookup(&k0) == 0);
        CHECK(p.lookup(&k3) == -ENOENT);
        CHECK(p.erase(k0) == -EINVAL);
        CHECK(p.next_key(&k1) == 0);
        CHECK(p.keys().size() == 3);
    }
}

TEST_CASE("kernel vs ours: hash", "[maps][kernel]") {
    if (!kernel_available()) return;
    for (uint32_t key_size : {4u, 6u}) {
        INFO("key_size " << key_size);
        Pair p(e::MapType::hash, key_size, 8, 8);
        auto key = [&](uint32_t i) { return pattern(key_size, i); };
        CHECK(p.next_key(nullptr) == -ENOENT);
        const auto k1 = key(1), k2 = key(2), k100 = key(100), missing = key(77);
        CHECK(p.update(&k1, pattern(8, 1), BPF_EXIST) == -ENOENT);
        CHECK(p.update(&k1, pattern(8, 1), BPF_NOEXIST) == 0);
        CHECK(p.update(&k1, pattern(8, 2), BPF_NOEXIST) == -EEXIST);
        CHECK(p.update(&k1, pattern(8, 3), BPF_EXIST) == 0);
        CHECK(p.lookup(&k1) == 0);
        CHECK(p.update(&k1, pattern(8, 3), 3) == -EINVAL);
        CHECK(p.update(&k1, pattern(8, 3), BPF_F_LOCK) == -EINVAL);
        CHECK(p.update(&k1, pattern(8, 3), BPF_F_LOCK | BPF_EXIST) == -EINVAL);
        CHECK(p.update(&k2, pattern(8, 3), 16) == -EINVAL);
        for (uint32_t i = 2; i <= 8; ++i) {
            const auto k = key(i);
            CHECK(p.update(&k, pattern(8, i), BPF_ANY) == 0);
        }
        CHECK(p.update(&k100, pattern(8, 9), BPF_ANY) == -E2BIG); // full
        CHECK(p.update(&k100, pattern(8, 9), BPF_NOEXIST) == -E2BIG);
        CHECK(p.update(&k100, pattern(8, 9), BPF_EXIST) == -ENOENT);
        CHECK(p.update(&k2, pattern(8, 10), BPF_ANY) == 0); // replacing when full
        CHECK(p.lookup(&k2) == 0);
        CHECK(p.keys().size() == 8);
        CHECK(p.lookup(&missing) == -ENOENT);
        CHECK(p.erase(missing) == -ENOENT);
        CHECK(p.erase(k2) == 0);
        CHECK(p.erase(k2) == -ENOENT);
        CHECK(p.update(&k100, pattern(8, 11), BPF_NOEXIST) == 0);
        CHECK(p.lookup_and_delete(&k100) == 0);
        CHECK(p.lookup_and_delete(&k100) == -ENOENT);
        CHECK(p.lookup(&k100) == -ENOENT);
        const auto keys = p.keys();
        CHECK(keys.size() == 7);
        // a key that is not there starts the walk over (from each side's own first key)
        Bytes theirs(key_size), ours(key_size), first(key_size);
        CHECK(bpf_map_get_next_key(p.fd(), missing.data(), theirs.data()) == 0);
        CHECK(p.ours().get_next_key(missing.data(), ours.data()) == 0);
        CHECK(bpf_map_get_next_key(p.fd(), nullptr, first.data()) == 0);
        CHECK(theirs == first);
        CHECK(p.ours().get_next_key(nullptr, first.data()) == 0);
        CHECK(ours == first);
    }
}

TEST_CASE("kernel vs ours: percpu hash", "[maps][kernel][percpu]") {
    if (!kernel_available()) return;
    for (uint32_t value_size : {4u, 16u}) {
        INFO("value_size " << value_size);
        Pair p(e::MapType::percpu_hash, 4, value_size, 3);
        auto k1 = u32(1), k2 = u32(2), k3 = u32(3), k4 = u32(4);
        CHECK(p.update(&k1, pattern(p.value_out(), 1), BPF_NOEXIST) == 0);
        CHECK(p.lookup(&k1) == 0);
        CHECK(p.update(&k1, pattern(p.value_out(), 2), BPF_EXIST) == 0);
        CHECK(p.lookup(&k1) == 0);
        CHECK(p.update(&k1, pattern(p.value_out(), 2), BPF_NOEXIST) == -EEXIST);
        CHECK(p.update(&k2, pattern(p.value_out(), 2), BPF_EXIST) == -ENOENT);
        CHECK(p.update(&k2, pattern(p.value_out(), 2), BPF_F_LOCK) == -EINVAL);
        CHECK(p.update(&k2, pattern(p.value_out(), 2), 3) == -EINVAL);
        CHECK(p.update(&k2, pattern(p.value_out(), 3), BPF_ANY) == 0);
        CHECK(p.update(&k3, pattern(p.value_out(), 4), BPF_ANY) == 0);
        CHECK(p.update(&k4, pattern(p.value_out(), 5), BPF_ANY) == -E2BIG);
        CHECK(p.lookup_and_delete(&k2) == 0);
        CHECK(p.lookup(&k2) == -ENOENT);
        CHECK(p.erase(k3) == 0);
        CHECK(p.erase(k3) == -ENOENT);
        CHECK(p.keys().size() == 1);
    }
}

TEST_CASE("kernel vs ours: LRU hash below capacity", "[maps][kernel][lru]") {
    if (!kernel_available()) return;
    PinnedToOneCpu pin;
    if (!pin.pinned()) WARN("could not pin the test thread; LRU results may vary");
    for (e::MapType type : {e::MapType::lru_hash, e::MapType::lru_percpu_hash}) {
        INFO(e::map_type_name(type));
        Pair p(type, 4, 8, 16);
        // The kernel takes a fresh element for every update, and evicts in batches once no free
        // one is left: staying well below max_entries keeps it deterministic.
        for (uint32_t i = 0; i < 8; ++i) {
            const auto k = u32(i);
            CHECK(p.update(&k, pattern(p.value_out(), i), BPF_NOEXIST) == 0);
        }
        auto k1 = u32(1), k2 = u32(2), k9 = u32(9);
        CHECK(p.update(&k1, pattern(p.value_out(), 20), BPF_NOEXIST) == -EEXIST);
        CHECK(p.update(&k9, pattern(p.value_out(), 20), BPF_EXIST) == -ENOENT);
        CHECK(p.update(&k1, pattern(p.value_out(), 21), BPF_EXIST) == 0);
        CHECK(p.update(&k1, pattern(p.value_out(), 21), BPF_F_LOCK) == -EINVAL);
        CHECK(p.update(&k1, pattern(p.value_out(), 21), 3) == -EINVAL);
        CHECK(p.lookup(&k1) == 0);
        CHECK(p.lookup(&k9) == -ENOENT);
        CHECK(p.erase(k2) == 0);
        CHECK(p.erase(k2) == -ENOENT);
        CHECK(p.lookup_and_delete(&k1) == 0);
        CHECK(p.lookup_and_delete(&k1) == -ENOENT);
        CHECK(p.keys().size() == 6);
    }
}

TEST_CASE("kernel vs ours: LPM trie", "[maps][kernel][lpm]") {
    if (!kernel_available()) return;
    Pair p(e::MapType::lpm_trie, 8, 4, 7, BPF_F_NO_PREALLOC);
    CHECK(p.next_key(nullptr) == -ENOENT);
    const Bytes keys[] = {
        lpm_key(16, 192, 168, 0, 0), lpm_key(24, 192, 168, 0, 0), lpm_key(24, 192, 168, 128, 0),
        lpm_key(24, 192, 168, 1, 0), lpm_key(8, 10, 0, 0, 0),     lpm_key(0, 0, 0, 0, 0),
        lpm_key(32, 10, 1, 2, 3),
    };
    uint32_t v = 1;
    for (const auto& k : keys)
        CHECK(p.update(&k, u32(v++), BPF_NOEXIST) == 0);
    const auto extra = lpm_key(12, 172, 16, 0, 0);
    CHECK(p.update(&extra, u32(50), BPF_ANY) == -ENOSPC);
    CHECK(p.update(&keys[1], u32(51), BPF_NOEXIST) == -EEXIST);
    CHECK(p.update(&keys[1], u32(52), BPF_EXIST) == 0); // replacing when full
    CHECK(p.update(&extra, u32(53), BPF_EXIST) == -ENOENT);
    CHECK(p.update(&keys[1], u32(54), 3) == -EINVAL);
    CHECK(p.update(&keys[1], u32(54), BPF_F_LOCK) == -EINVAL);
    const auto too_long = lpm_key(33, 10, 0, 0, 0);
    CHECK(p.update(&too_long, u32(55), BPF_ANY) == -EINVAL);
    CHECK(p.erase(too_long) == -EINVAL);
    CHECK(p.lookup(&too_long) == -ENOENT);
    // longest prefix match, the key's own prefixlen bounding it
    const Bytes probes[] = {
        lpm_key(32, 192, 168, 0, 1),    lpm_key(32, 192, 168, 1, 1),   lpm_key(32, 192, 168, 2, 1),
        lpm_key(32, 192, 168, 128, 1),  lpm_key(32, 192, 168, 129, 1), lpm_key(32, 10, 1, 2, 3),
        lpm_key(32, 10, 1, 2, 4),       lpm_key(31, 10, 1, 2, 3),      lpm_key(32, 11, 0, 0, 0),
        lpm_key(23, 192, 168, 1, 1),    lpm_key(16, 192, 168, 1, 1),   lpm_key(15, 192, 168, 1, 1),
        lpm_key(0, 255, 255, 255, 255),
    };
    for (const auto& k : probes)
        CHECK(p.lookup(&k) == 0);
    // the walk, in the kernel's post order
    CHECK(p.next_key(nullptr) == 0);
    for (const auto& k : keys)
        p.next_key(&k);
    const auto missing = lpm_key(24, 1, 2, 3, 0), intermediate = lpm_key(23, 192, 168, 0, 0);
    CHECK(p.next_key(&missing) == 0);
    CHECK(p.next_key(&intermediate) == 0);
    CHECK(p.next_key(&too_long) == 0);
    CHECK(p.erase(intermediate) == -ENOENT);
    CHECK(p.erase(keys[0]) == 0);
    CHECK(p.erase(keys[0]) == -ENOENT);
    CHECK(p.update(&intermediate, u32(60), BPF_NOEXIST) == 0); // the intermediate turns real
    for (const auto& k : probes)
        p.lookup(&k);
    CHECK(p.erase(keys[3]) == 0); // a leaf under a real parent
    CHECK(p.erase(keys[1]) == 0);
    // bits past the prefix: the kernel keeps those of the last key written
    const auto noisy = lpm_key(8, 10, 99, 98, 97);
    CHECK(p.update(&noisy, u32(61), BPF_EXIST) == 0);
    CHECK(p.next_key(nullptr) == 0);
    const auto walked = p.keys();
    for (const auto& k : walked)
        p.next_key(&k);
    for (const auto& k : probes)
        p.lookup(&k);
    CHECK(p.lookup_and_delete(&keys[2]) == -e::kerr::enotsupp);
}

TEST_CASE("kernel vs ours: queue and stack", "[maps][kernel][queue]") {
    if (!kernel_available()) return;
    for (e::MapType type : {e::MapType::queue, e::MapType::stack}) {
        INFO(e::map_type_name(type));
        Pair p(type, 0, 8, 3);
        const auto key = u32(0);
        CHECK(p.lookup(nullptr) == -ENOENT);
        CHECK(p.lookup_and_delete(nullptr) == -ENOENT);
        for (uint32_t i = 1; i <= 3; ++i)
            CHECK(p.update(nullptr, pattern(8, i), BPF_ANY) == 0);
        CHECK(p.update(nullptr, pattern(8, 4), BPF_ANY) == -E2BIG);
        CHECK(p.update(nullptr, pattern(8, 4), BPF_NOEXIST) == -EINVAL);
        CHECK(p.update(nullptr, pattern(8, 4), BPF_F_LOCK) == -EINVAL);
        CHECK(p.update(nullptr, pattern(8, 4), 3) == -EINVAL);
        CHECK(p.update(&key, pattern(8, 4), BPF_ANY) == -EINVAL);
        CHECK(p.update(nullptr, pattern(8, 5), BPF_EXIST) == 0); // overwrites the oldest
        CHECK(p.lookup(nullptr) == 0);
        CHECK(p.lookup(&key) == -EINVAL);
        CHECK(p.lookup_and_delete(&key) == -EINVAL);
        CHECK(p.erase(key) == -EINVAL);
        CHECK(p.next_key(nullptr) == -EINVAL);
        for (int i = 0; i < 3; ++i)
            CHECK(p.lookup_and_delete(nullptr) == 0);
        CHECK(p.lookup_and_delete(nullptr) == -ENOENT);
        for (uint32_t i = 10; i < 30; ++i) { // around the ring, full at times
            p.update(nullptr, pattern(8, i), i % 4 == 0 ? BPF_EXIST : BPF_ANY);
            if (i % 3 == 0) p.lookup_and_delete(nullptr);
            p.lookup(nullptr);
        }
    }
}

TEST_CASE("kernel vs ours: values holding a bpf_spin_lock", "[maps][kernel][lock]") {
    if (!kernel_available()) return;
    SpinLockBtf lock;
    for (e::MapType type : {e::MapType::array, e::MapType::hash}) {
        INFO(e::map_type_name(type));
        Pair p(type, 4, SpinLockBtf::value_size, 2, 0, &lock);
        const auto k0 = u32(0), k1 = u32(1), k2 = u32(2);
        const Bytes ones(SpinLockBtf::value_size, 0xff);
        CHECK(p.update(&k0, ones, BPF_ANY) == 0); // the lock word is not copied in
        CHECK(p.lookup(&k0) == 0);                // and reads as zero
        CHECK(p.update(&k0, pattern(16, 1), BPF_F_LOCK) == 0);
        CHECK(p.lookup(&k0) == 0);
        CHECK(p.update(&k0, pattern(16, 2), BPF_F_LOCK | BPF_EXIST) == 0);
        CHECK(p.update(&k0, pattern(16, 3), BPF_F_LOCK | BPF_NOEXIST) == -EEXIST);
        CHECK(p.update(&k1, pattern(16, 4), BPF_F_LOCK) == 0);
        CHECK(p.update(&k2, pattern(16, 5), BPF_F_LOCK) == -E2BIG); // out of range, or full
        CHECK(p.update(&k1, pattern(16, 6), BPF_F_LOCK | 3) == -EINVAL);
        CHECK(p.lookup(&k1) == 0);
        p.lookup_and_delete(&k1);
        CHECK(p.keys().size() == (type == e::MapType::array ? 2 : 1));
    }
}

// Attributes both sides must accept, or refuse with the same errno.
TEST_CASE("kernel vs ours: create_map's attribute checks", "[maps][kernel][create]") {
    if (!kernel_available()) return;
    using T = e::MapType;
    struct Attrs {
        T type;
        uint32_t key_size, value_size, max_entries, map_flags;
    };
    const Attrs cases[] = {
        {T::array, 4, 8, 4, 0},
        {T::array, 4, 8, 0, 0},
        {T::array, 8, 8, 4, 0},
        {T::array, 4, 0, 4, 0},
        {T::array, 4, 8, 4, 1u << 20},
        {T::array, 4, 8, 4, BPF_F_RDONLY | BPF_F_WRONLY},
        {T::array, 4, 8, 4, BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG},
        {T::array, 4, 8, 4, BPF_F_MMAPABLE | BPF_F_RDONLY_PROG},
        {T::array, 4, 8, 4, BPF_F_INNER_MAP},
        {T::array, 4, 8, 4, BPF_F_NUMA_NODE},
        {T::array, 4, 8, 4, BPF_F_PRESERVE_ELEMS},
        {T::array, 4, 8, 4, BPF_F_NO_PREALLOC},
        {T::percpu_array, 4, 8, 4, BPF_F_MMAPABLE},
        {T::percpu_array, 4, 8, 4, BPF_F_NUMA_NODE},
        {T::percpu_array, 4, 8, 4, BPF_F_INNER_MAP},
        {T::percpu_array, 4, 32768, 1, 0},
        {T::percpu_array, 4, 32769, 1, 0},
        {T::hash, 4, 8, 4, 0},
        {T::hash, 0, 8, 4, 0},
        {T::hash, 4, 0, 4, 0},
        {T::hash, 4, 8, 0, 0},
        {T::hash, 4, 8, 4, BPF_F_NO_PREALLOC | BPF_F_ZERO_SEED | BPF_F_WRONLY},
        {T::hash, 4, 8, 4, BPF_F_NO_COMMON_LRU},
        {T::hash, 4, 8, 4, BPF_F_MMAPABLE},
        {T::hash, 4, 8, 4, BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG},
        {T::hash, 4, (1u << 22) - 52, 1, 0},
        {T::hash, 4, (1u << 22) - 53, 1, BPF_F_NO_PREALLOC},
        {T::hash, 4, 8, (1u << 31) + 1, 0},
        {T::percpu_hash, 4, 32769, 1, 0},
        {T::percpu_hash, 4, 8, 4, BPF_F_NUMA_NODE},
        {T::lru_hash, 4, 8, 4, BPF_F_NO_PREALLOC},
        {T::lru_hash, 4, 8, 4, BPF_F_NO_COMMON_LRU | BPF_F_NUMA_NODE},
        {T::lru_percpu_hash, 4, 8, 4, BPF_F_NO_COMMON_LRU},
        {T::lpm_trie, 8, 4, 4, 0},
        {T::lpm_trie, 8, 4, 4, BPF_F_NO_PREALLOC},
        {T::lpm_trie, 4, 4, 4, BPF_F_NO_PREALLOC},
        {T::lpm_trie, 260, 4, 4, BPF_F_NO_PREALLOC},
        {T::lpm_trie, 261, 4, 4, BPF_F_NO_PREALLOC},
        {T::lpm_trie, 8, 0, 4, BPF_F_NO_PREALLOC},
        {T::lpm_trie, 8, 4194025, 4, BPF_F_NO_PREALLOC},
        {T::lpm_trie, 8, 4, 0, BPF_F_NO_PREALLOC},
        {T::lpm_trie, 8, 4, 4, BPF_F_NO_PREALLOC | BPF_F_MMAPABLE},
        {T::prog_array, 4, 4, 4, 0},
        {T::prog_array, 4, 8, 4, 0},
        {T::prog_array, 4, 4, 4, BPF_F_RDONLY_PROG},
        {T::prog_array, 4, 4, 4, BPF_F_RDONLY},
        {T::perf_event_array, 4, 4, 4, BPF_F_PRESERVE_ELEMS},
        {T::perf_event_array, 4, 4, 0, 0},
        {T::queue, 0, 8, 4, 0},
        {T::queue, 4, 8, 4, 0},
        {T::stack, 0, 0, 4, 0},
        {T::stack, 0, 8, 0, 0},
        {T::queue, 0, (1u << 22) + 1, 1, 0},
        {T::queue, 0, 8, 4, BPF_F_NO_PREALLOC},
        {T::stack, 0, 8, 4, BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG},
        {T::ringbuf, 0, 0, 4096, 0},
        {T::ringbuf, 0, 0, 4096 * 3, 0},
        {T::ringbuf, 0, 0, 2048, 0},
        {T::ringbuf, 4, 0, 4096, 0},
        {T::ringbuf, 0, 4, 4096, 0},
        {T::ringbuf, 0, 0, 4096, BPF_F_RDONLY},
    };
    const uint32_t ncpus = possible_cpus();
    for (const auto& a : cases) {
        LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = a.map_flags);
        const int fd = bpf_map_create(static_cast<bpf_map_type>(a.type), "diff", a.key_size,
                                      a.value_size, a.max_entries, &opts);
        if (fd >= 0) close(fd);
        e::MapDef def;
        def.type = a.type;
        def.key_size = a.key_size;
        def.value_size = a.value_size;
        def.max_entries = a.max_entries;
        def.map_flags = a.map_flags;
        def.name = "diff";
        const auto ours = e::create_map(def, e::MapOptions{ncpus});
        INFO(e::map_type_name(a.type)
             << " key " << a.key_size << " value " << a.value_size << " max " << a.max_entries
             << " flags " << a.map_flags << ": kernel " << fd << ", ours "
             << (ours ? std::string("created") : ours.error().message));
        if (fd >= 0) {
            CHECK(ours.ok());
        } else {
            REQUIRE_FALSE(ours.ok());
            CHECK(ours.error().message.find(std::string("(-") + e::kerr::name(fd) + ")") !=
                  std::string::npos);
        }
    }
}

TEST_CASE("kernel vs ours: where a bpf_spin_lock may be", "[maps][kernel][create][lock]") {
    if (!kernel_available()) return;
    SpinLockBtf lock;
    const struct {
        e::MapType type;
        uint32_t map_flags;
    } cases[] = {
        {e::MapType::hash, 0},
        {e::MapType::array, 0},
        {e::MapType::percpu_hash, 0},
        {e::MapType::percpu_array, 0},
        {e::MapType::lru_hash, 0},
        {e::MapType::hash, BPF_F_RDONLY_PROG},
        {e::MapType::array, BPF_F_WRONLY_PROG},
    };
    for (const auto& c : cases) {
        LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = c.map_flags);
        opts.btf_fd = lock.fd;
        opts.btf_key_type_id = lock.int_id;
        opts.btf_value_type_id = lock.value_id;
        const int fd = bpf_map_create(static_cast<bpf_map_type>(c.type), "diff", 4,
                                      SpinLockBtf::value_size, 2, &opts);
        if (fd >= 0) close(fd);
        e::MapDef def;
        def.type = c.type;
        def.key_size = 4;
        def.value_size = SpinLockBtf::value_size;
        def.max_entries = 2;
        def.map_flags = c.map_flags;
        def.spin_lock_off = SpinLockBtf::lock_off;
        const auto ours = e::create_map(def, e::MapOptions{possible_cpus()});
        INFO(e::map_type_name(c.type) << " flags " << c.map_flags << ": kernel " << fd << ", ours "
                                      << (ours ? std::string("created") : ours.error().message));
        if (fd >= 0) {
            CHECK(ours.ok());
        } else {
            REQUIRE_FALSE(ours.ok());
            CHECK(ours.error().message.find(std::string("(-") + e::kerr::name(fd) + ")") !=
                  std::string::npos);
        }
    }
}
