// BPF_MAP_TYPE_BLOOM_FILTER against the live kernel: create rules, the syscall side, and peek
// answers. With BPF_F_ZERO_SEED both sides hash alike, so after the same pushes every peek must
// answer the same; a small filter (64 bits) makes most answers depend on the exact bits. Linux
// only.
#include "maps/bloom_filter.hpp"
#include "tests/maps/kernel_pair.hpp"

#include <linux/bpf.h>

namespace e = ebpf;

namespace {

using namespace maps_kernel;

struct BloomPair {
    int fd = -1;
    long kernel_err = 0; // the kernel's create answer
    std::shared_ptr<e::Map> ours;
    long our_err = 0;

    BloomPair(uint32_t key_size, uint32_t value_size, uint32_t max_entries, uint32_t flags,
              uint64_t map_extra, e::MapType type = e::MapType::bloom_filter) {
        LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags, .map_extra = map_extra);
        fd = bpf_map_create(static_cast<bpf_map_type>(type), "bloom", key_size, value_size,
                            max_entries, &opts);
        kernel_err = fd < 0 ? fd : 0;
        e::MapDef def;
        def.type = type;
        def.key_size = key_size;
        def.value_size = value_size;
        def.max_entries = max_entries;
        def.map_flags = flags;
        def.map_extra = map_extra;
        auto made = e::create_map(def);
        if (made) {
            ours = *made;
        } else {
            our_err = -1;
            for (long c : {e::kerr::einval, e::kerr::e2big, e::kerr::enomem})
                if (made.error().message.find(std::string("(-") + e::kerr::name(c) + ")") !=
                    std::string::npos)
                    our_err = -c;
        }
    }
    ~BloomPair() {
        if (fd >= 0) close(fd);
    }
    BloomPair(const BloomPair&) = delete;
    BloomPair& operator=(const BloomPair&) = delete;

    void push(const Bytes& v, uint64_t flags = BPF_ANY) {
        const long theirs = bpf_map_update_elem(fd, nullptr, v.data(), flags);
        const long mine = ours->sys_update(nullptr, v.data(), flags);
        INFO("push flags " << flags << ": kernel " << theirs << ", ours " << mine);
        CHECK(mine == theirs);
    }
    long peek(const Bytes& v) {
        Bytes theirs_v = v, ours_v = v;
        const long theirs = bpf_map_lookup_elem(fd, nullptr, theirs_v.data());
        const long mine = ours->sys_lookup(nullptr, ours_v.data());
        CHECK(mine == theirs);
        CHECK(ours_v == theirs_v);
        return theirs;
    }
};

void same_create(uint32_t key_size, uint32_t value_size, uint32_t max_entries, uint32_t flags,
                 uint64_t map_extra, e::MapType type = e::MapType::bloom_filter) {
    BloomPair p(key_size, value_size, max_entries, flags, map_extra, type);
    INFO("type " << int(type) << " key " << key_size << " value " << value_size << " max "
                 << max_entries << " flags " << flags << " map_extra " << map_extra);
    CHECK(p.our_err == p.kernel_err);
}

} // namespace

TEST_CASE("bloom filter: create rules as the kernel's", "[maps][bloom][kernel]") {
    if (!kernel_available()) return;
    same_create(0, 4, 10, 0, 0);
    same_create(0, 4, 10, 0, 15);
    same_create(0, 4, 10, 0, 16);
    same_create(0, 4, 10, 0, 0x100000003);
    same_create(4, 4, 10, 0, 0);
    same_create(0, 0, 10, 0, 0);
    same_create(0, 4, 0, 0, 0);
    same_create(0, 4, 10, BPF_F_NO_PREALLOC, 0);
    same_create(0, 4, 10, BPF_F_ZERO_SEED | BPF_F_RDONLY_PROG, 0);
    same_create(0, 4, 10, BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG, 0);
    same_create(0, 4, 10, BPF_F_MMAPABLE, 0);
    same_create(0, (1u << 22) + 1, 10, 0, 0);
    same_create(4, 4, 10, 0, 3, e::MapType::hash); // map_extra is for bloom filters only
    same_create(4, 4, 10, 0, 0, e::MapType::hash);
}

TEST_CASE("bloom filter: the syscall side as the kernel's", "[maps][bloom][kernel]") {
    if (!kernel_available()) return;
    BloomPair p(0, 8, 100, BPF_F_ZERO_SEED, 3);
    REQUIRE(p.fd >= 0);
    REQUIRE(p.ours);
    const Bytes v = pattern(8, 1);
    p.push(v, BPF_NOEXIST);
    p.push(v, BPF_EXIST);
    p.push(v, BPF_F_LOCK);
    p.peek(v);
    p.push(v);
    CHECK(p.peek(v) == 0);
    Bytes key(4), next(4), out(8);
    CHECK(p.ours->sys_delete(nullptr) == bpf_map_delete_elem(p.fd, nullptr));
    CHECK(p.ours->get_next_key(nullptr, next.data()) ==
          bpf_map_get_next_key(p.fd, nullptr, next.data()));
    CHECK(p.ours->sys_lookup_and_delete(nullptr, out.data()) ==
          bpf_map_lookup_and_delete_elem(p.fd, nullptr, out.data()));

    BloomPair ro(0, 8, 100, BPF_F_ZERO_SEED | BPF_F_RDONLY, 0);
    REQUIRE(ro.ours);
    ro.push(v);
    ro.peek(v);
    BloomPair wo(0, 8, 100, BPF_F_ZERO_SEED | BPF_F_WRONLY, 0);
    REQUIRE(wo.ours);
    wo.push(v);
    wo.peek(v);
}

TEST_CASE("bloom filter: peek answers as the kernel's after the same pushes",
          "[maps][bloom][kernel]") {
    if (!kernel_available()) return;
    // Aligned sizes hash with jhash2, the others with jhash.
    for (uint32_t value_size : {4u, 8u, 12u, 16u, 1u, 3u, 5u, 12u, 13u, 24u, 31u}) {
        for (uint64_t hashes : {0u, 1u, 2u, 7u}) {
            for (uint32_t max_entries : {3u, 40u, 1000u}) {
                INFO("value_size " << value_size << " hashes " << hashes << " max_entries "
                                   << max_entries);
                BloomPair p(0, value_size, max_entries, BPF_F_ZERO_SEED, hashes);
                REQUIRE(p.fd >= 0);
                REQUIRE(p.ours);
                for (uint32_t i = 0; i < 6; ++i)
                    p.push(pattern(value_size, 1000 + i));
                uint32_t present = 0;
                for (uint32_t i = 0; i < 300; ++i)
                    present += p.peek(pattern(value_size, i)) == 0;
                for (uint32_t i = 0; i < 6; ++i)
                    CHECK(p.peek(pattern(value_size, 1000 + i)) == 0);
                // A small filter answers "maybe" for many values it was never given.
                if (max_entries == 3 && hashes == 1) CHECK(present > 0);
            }
        }
    }
}

TEST_CASE("bloom filter: a random seed still finds what was pushed", "[maps][bloom]") {
    e::MapDef def;
    def.type = e::MapType::bloom_filter;
    def.value_size = 8;
    def.max_entries = 100;
    auto map = e::create_map(def);
    REQUIRE(map);
    for (uint32_t i = 0; i < 50; ++i)
        CHECK((*map)->push(pattern(8, i).data(), BPF_ANY) == 0);
    for (uint32_t i = 0; i < 50; ++i)
        CHECK((*map)->peek(pattern(8, i).data()) == 0);
    CHECK((*map)->push(pattern(8, 0).data(), BPF_EXIST) == -e::kerr::einval);
}
