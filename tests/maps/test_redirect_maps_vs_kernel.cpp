// The maps bpf_redirect_map sends to (devmap, devmap_hash, cpumap, xskmap) against the live
// kernel's: creation, and the syscall's update, lookup, delete and get_next_key with the same
// answers. Device values use ifindex 1 (lo), which every network namespace has; the kernel refuses
// an ifindex with no device, which this VM cannot know about. Skips with a warning when bpf() is
// not permitted.
#include "tests/maps/kernel_pair.hpp"
#include "tests/maps/map_test_support.hpp"

#include <linux/bpf.h>

namespace e = ebpf;

static_assert(static_cast<uint32_t>(e::MapType::devmap) == BPF_MAP_TYPE_DEVMAP);
static_assert(static_cast<uint32_t>(e::MapType::devmap_hash) == BPF_MAP_TYPE_DEVMAP_HASH);
static_assert(static_cast<uint32_t>(e::MapType::cpumap) == BPF_MAP_TYPE_CPUMAP);
static_assert(static_cast<uint32_t>(e::MapType::xskmap) == BPF_MAP_TYPE_XSKMAP);
static_assert(e::kerr::enodev == ENODEV && e::kerr::eoverflow == EOVERFLOW);

namespace {

using namespace maps_kernel;

// A bpf_devmap_val or bpf_cpumap_val of value_size bytes: the first word, then a program fd.
Bytes val(uint32_t value_size, uint32_t first, int32_t prog_fd = 0) {
    Bytes out = u32(first);
    if (value_size == 8) {
        const Bytes fd = bytes(prog_fd);
        out.insert(out.end(), fd.begin(), fd.end());
    }
    return out;
}

// Both sides refuse or accept the attributes with the same errno.
void create_both(e::MapType type, uint32_t key_size, uint32_t value_size, uint32_t max_entries,
                 uint32_t flags) {
    LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags);
    const int fd = bpf_map_create(static_cast<bpf_map_type>(type), "diff", key_size, value_size,
                                  max_entries, &opts);
    const long theirs = fd < 0 ? -errno : 0;
    if (fd >= 0) close(fd);
    auto ours = e::create_map(e::test::map_def(type, key_size, value_size, max_entries, flags),
                              e::MapOptions{possible_cpus()});
    INFO(e::map_type_name(type) << " key " << key_size << " value " << value_size << " max "
                                << max_entries << " flags " << flags << ": kernel " << theirs
                                << ", ours " << (ours ? "created" : ours.error().message));
    if (ours) {
        CHECK(theirs == 0);
    } else {
        CHECK(theirs != 0);
        CHECK(ours.error().message.find(std::string("(-") + e::kerr::name(theirs) + ")") !=
              std::string::npos); // the message names the errno
    }
}

} // namespace

TEST_CASE("kernel vs ours: creating redirect maps", "[maps][kernel][redirect]") {
    if (!kernel_available()) return;
    using M = e::MapType;
    for (M type : {M::devmap, M::devmap_hash, M::cpumap, M::xskmap}) {
        for (uint32_t value_size : {0u, 4u, 8u, 12u})
            create_both(type, 4, value_size, 4, 0);
        create_both(type, 8, 4, 4, 0);
        create_both(type, 4, 4, 0, 0);
        for (uint32_t flags : {BPF_F_RDONLY, BPF_F_WRONLY, BPF_F_RDONLY_PROG, BPF_F_NO_PREALLOC,
                               BPF_F_NUMA_NODE, BPF_F_MMAPABLE})
            create_both(type, 4, 4, 4, flags);
    }
    create_both(M::cpumap, 4, 4, 256, 0);
    create_both(M::cpumap, 4, 4, 257, 0);
    create_both(M::devmap_hash, 4, 4, (1u << 31) + 1, 0);
}

TEST_CASE("kernel vs ours: devmap", "[maps][kernel][redirect]") {
    if (!kernel_available()) return;
    for (uint32_t vs : {4u, 8u}) {
        INFO("value_size " << vs);
        Pair p(e::MapType::devmap, 4, vs, 4);
        CHECK((p.ours().def().map_flags & BPF_F_RDONLY_PROG) != 0); // as the kernel's map info
        const auto k0 = u32(0), k1 = u32(1), k3 = u32(3), k4 = u32(4);
        CHECK(p.lookup(&k1) == -ENOENT);
        CHECK(p.update(&k1, val(vs, 1), BPF_ANY) == 0);
        CHECK(p.lookup(&k1) == 0); // the program id reads as 0
        CHECK(p.update(&k1, val(vs, 1), BPF_NOEXIST) == -EEXIST);
        CHECK(p.update(&k0, val(vs, 1), BPF_EXIST) == 0); // an empty slot is no error
        CHECK(p.update(&k1, val(vs, 1), 3) == -EINVAL);
        CHECK(p.update(&k1, val(vs, 1), BPF_F_LOCK) == -EINVAL);
        CHECK(p.update(&k4, val(vs, 1), BPF_ANY) == -E2BIG);
        CHECK(p.update(&k4, val(vs, 1), BPF_NOEXIST) == -E2BIG);
        CHECK(p.update(&k4, val(vs, 1), 3) == -EINVAL);
        if (vs == 8) {
            CHECK(p.update(&k1, val(vs, 1, -1), BPF_ANY) == 0); // no program
            CHECK(p.update(&k1, val(vs, 1, 1000), BPF_ANY) == -EINVAL);
            CHECK(p.update(&k1, val(vs, 0, 1000), BPF_ANY) == -EINVAL);
        }
        CHECK(p.lookup(&k1) == 0);
        CHECK(p.update(&k1, val(vs, 0), BPF_ANY) == 0); // ifindex 0 empties the slot
        CHECK(p.lookup(&k1) == -ENOENT);
        CHECK(p.update(&k3, val(vs, 1), BPF_ANY) == 0);
        CHECK(p.erase(k1) == 0); // empty already
        CHECK(p.erase(k4) == -EINVAL);
        CHECK(p.lookup(&k4) == -ENOENT);
        CHECK(p.lookup_and_delete(&k3) == -e::kerr::enotsupp);
        CHECK(p.next_key(nullptr) == 0);
        CHECK(p.next_key(&k1) == 0);
        CHECK(p.next_key(&k3) == -ENOENT);
        CHECK(p.keys().size() == 4);
        CHECK(p.erase(k3) == 0);
        CHECK(p.lookup(&k3) == -ENOENT);
    }
}

TEST_CASE("kernel vs ours: devmap_hash", "[maps][kernel][redirect]") {
    if (!kernel_available()) return;
    for (uint32_t vs : {4u, 8u}) {
        INFO("value_size " << vs);
        Pair p(e::MapType::devmap_hash, 4, vs, 3);
        CHECK((p.ours().def().map_flags & BPF_F_RDONLY_PROG) != 0);
        const auto k5 = u32(5), k6 = u32(6), k9 = u32(9), k13 = u32(13), k77 = u32(77);
        CHECK(p.next_key(nullptr) == -ENOENT);
        CHECK(p.update(&k5, val(vs, 0), BPF_ANY) == -EINVAL);
        CHECK(p.update(&k5, val(vs, 1), BPF_EXIST) == 0); // BPF_EXIST does not need the key
        CHECK(p.update(&k6, val(vs, 1), BPF_NOEXIST) == 0);
        CHECK(p.update(&k6, val(vs, 1), BPF_NOEXIST) == -EEXIST);
        CHECK(p.update(&k6, val(vs, 1), 3) == -EINVAL);
        CHECK(p.update(&k9, val(vs, 1), BPF_ANY) == 0);
        CHECK(p.update(&k13, val(vs, 1), BPF_ANY) == -E2BIG);
        CHECK(p.update(&k13, val(vs, 1), BPF_NOEXIST) == -E2BIG);
        CHECK(p.update(&k13, val(vs, 1), BPF_EXIST) == -E2BIG);
        CHECK(p.update(&k13, val(vs, 0), BPF_ANY) == -EINVAL);
        if (vs == 8) CHECK(p.update(&k5, val(vs, 1, 1000), BPF_ANY) == -EINVAL);
        CHECK(p.update(&k5, val(vs, 1), BPF_ANY) == 0); // replaced: first of its chain again
        // keys 5 and 9 share a chain of the 4 buckets; the walk follows the chains in order
        CHECK(p.next_key(nullptr) == 0);
        CHECK(p.next_key(&k5) == 0);
        CHECK(p.next_key(&k9) == 0);
        CHECK(p.next_key(&k6) == -ENOENT);
        CHECK(p.next_key(&k77) == 0); // a missing key starts over
        CHECK(p.lookup(&k6) == 0);
        CHECK(p.lookup(&k77) == -ENOENT);
        CHECK(p.lookup_and_delete(&k6) == -e::kerr::enotsupp);
        CHECK(p.erase(k77) == -ENOENT);
        CHECK(p.erase(k5) == 0);
        CHECK(p.erase(k5) == -ENOENT);
        CHECK(p.keys().size() == 2);
        CHECK(p.update(&k13, val(vs, 1), BPF_ANY) == 0);
        CHECK(p.keys().size() == 3);
    }
    // Five keys in eight buckets, two chains: each walked newest first.
    Pair p(e::MapType::devmap_hash, 4, 4, 5);
    for (uint32_t k : {0u, 9u, 16u, 25u, 32u}) {
        const auto key = u32(k);
        CHECK(p.update(&key, u32(1), BPF_ANY) == 0);
    }
    const auto k0 = u32(0);
    CHECK(p.update(&k0, u32(1), BPF_ANY) == 0);
    Bytes key;
    const Bytes* at = nullptr;
    for (int i = 0; i < 6; ++i) {
        Bytes next(4);
        const long theirs = bpf_map_get_next_key(p.fd(), at ? at->data() : nullptr, next.data());
        CHECK(p.next_key(at) == theirs);
        if (theirs) break;
        key = next;
        at = &key;
    }
}

TEST_CASE("kernel vs ours: cpumap", "[maps][kernel][redirect]") {
    if (!kernel_available()) return;
    const uint32_t ncpus = possible_cpus();
    for (uint32_t vs : {4u, 8u}) {
        INFO("value_size " << vs);
        Pair p(e::MapType::cpumap, 4, vs, 8);
        const auto k0 = u32(0), k8 = u32(8), beyond = u32(ncpus), last = u32(ncpus - 1);
        CHECK(p.lookup(&k0) == -ENOENT);
        CHECK(p.update(&k0, val(vs, 0), BPF_ANY) == 0);
        CHECK(p.update(&k0, val(vs, 16384), BPF_ANY) == 0);
        CHECK(p.lookup(&k0) == 0);
        CHECK(p.update(&k0, val(vs, 16385), BPF_ANY) == -EOVERFLOW);
        CHECK(p.update(&last, val(vs, 64), BPF_EXIST) == 0);
        CHECK(p.update(&last, val(vs, 64), BPF_NOEXIST) == -EEXIST);
        CHECK(p.update(&last, val(vs, 64), 3) == -EINVAL);
        CHECK(p.update(&k8, val(vs, 64), BPF_ANY) == -E2BIG);
        CHECK(p.update(&k8, val(vs, 64), 3) == -EINVAL);
        CHECK(p.update(&k8, val(vs, 16385), BPF_ANY) == -E2BIG);
        if (ncpus < 8) {
            CHECK(p.update(&beyond, val(vs, 64), BPF_ANY) == -ENODEV);
            CHECK(p.update(&beyond, val(vs, 0), BPF_ANY) == -ENODEV);
            CHECK(p.update(&beyond, val(vs, 16385), BPF_ANY) == -EOVERFLOW);
        }
        if (vs == 8) {
            CHECK(p.update(&k0, val(vs, 16, -1), BPF_ANY) == 0);
            CHECK(p.update(&k0, val(vs, 16, 1000), BPF_ANY) == -ENOMEM);
            CHECK(p.update(&last, val(vs, 0, 1000), BPF_ANY) == 0); // emptied: no program read
        }
        CHECK(p.lookup(&k0) == 0);
        CHECK(p.lookup(&k8) == -ENOENT);
        CHECK(p.erase(last) == 0);
        CHECK(p.erase(last) == 0);
        CHECK(p.erase(k8) == -EINVAL);
        CHECK(p.lookup_and_delete(&k0) == -e::kerr::enotsupp);
        CHECK(p.next_key(nullptr) == 0);
        CHECK(p.next_key(&k8) == 0);
        CHECK(p.keys().size() == 8);
        CHECK(p.update(&k0, val(vs, 0), BPF_ANY) == 0);
        CHECK(p.lookup(&k0) == -ENOENT);
    }
}

TEST_CASE("kernel vs ours: xskmap", "[maps][kernel][redirect]") {
    if (!kernel_available()) return;
    Pair p(e::MapType::xskmap, 4, 4, 4);
    const auto k0 = u32(0), k3 = u32(3), k4 = u32(4);
    CHECK(p.update(&k0, u32(1000), BPF_ANY) == -EBADF); // no such fd (this VM has none)
    CHECK(p.update(&k4, u32(1000), BPF_ANY) == -E2BIG);
    CHECK(p.update(&k0, u32(1000), 3) == -EINVAL);
    CHECK(p.update(&k0, u32(1000), BPF_F_LOCK) == -EINVAL);
    CHECK(p.lookup(&k0) == -EOPNOTSUPP);
    CHECK(p.lookup(&k4) == -EOPNOTSUPP);
    CHECK(p.erase(k0) == 0);
    CHECK(p.erase(k4) == -EINVAL);
    CHECK(p.lookup_and_delete(&k0) == -e::kerr::enotsupp);
    CHECK(p.next_key(nullptr) == 0);
    CHECK(p.next_key(&k3) == -ENOENT);
    CHECK(p.keys().size() == 4);
    Pair rdonly(e::MapType::xskmap, 4, 4, 4, BPF_F_RDONLY);
    CHECK(rdonly.update(&k0, u32(1000), BPF_ANY) == -EPERM);
    CHECK(rdonly.erase(k0) == -EPERM);
    CHECK(rdonly.lookup(&k0) == -EOPNOTSUPP);
    Pair wronly(e::MapType::devmap, 4, 4, 4, BPF_F_WRONLY);
    CHECK(wronly.lookup(&k0) == -EPERM);
    CHECK(wronly.next_key(nullptr) == -EPERM);
    CHECK(wronly.update(&k0, u32(1), BPF_ANY) == 0);
}
