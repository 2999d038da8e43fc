// The maps bpf_redirect_map sends to, seen from a program and from the host: what a lookup
// hands out, what checked mode lets a program touch, the xskmap's stand-in sockets, and the
// cpumap's CPUs. Their syscall answers are compared with the kernel's in
// test_redirect_maps_vs_kernel.cpp.
#include "maps/xskmap.hpp"
#include "tests/maps/map_test_support.hpp"

using namespace ebpf;
using namespace ebpf::test;

namespace {

uint64_t addr(const void* p) {
    return reinterpret_cast<uint64_t>(p);
}

} // namespace

TEST_CASE("devmap: a program reads struct bpf_devmap_val and may not write it",
          "[maps][redirect]") {
    for (MapType type : {MapType::devmap, MapType::devmap_hash}) {
        auto map = make_map(map_def(type, 4, 8, 4));
        const uint32_t k = 2, missing = 3;
        const uint32_t value[2] = {7, 0};
        REQUIRE(map->sys_update(&k, value, BPF_ANY) == 0);
        auto* v = static_cast<uint32_t*>(map->lookup(&k, 0));
        REQUIRE(v);
        CHECK(v[0] == 7);
        CHECK(v[1] == 0); // no program
        CHECK(map->lookup(&missing, 0) == nullptr);
        CHECK(map->owns(addr(v), 8, false));
        CHECK(map->owns(addr(v) + 4, 4, false));
        CHECK_FALSE(map->owns(addr(v), 4, true));
        CHECK_FALSE(map->owns(addr(v), 12, false));
        CHECK(map->def().map_flags & BPF_F_RDONLY_PROG);
        // A replaced value reads as the new one through the pointer a program holds.
        const uint32_t other[2] = {9, 0};
        REQUIRE(map->sys_update(&k, other, BPF_ANY) == 0);
        CHECK(static_cast<uint32_t*>(map->lookup(&k, 0))[0] == 9);
        REQUIRE(map->sys_delete(&k) == 0);
        CHECK(map->lookup(&k, 0) == nullptr);
    }
}

TEST_CASE("devmap_hash: any u32 key, up to max_entries of them", "[maps][redirect]") {
    auto map = make_map(map_def(MapType::devmap_hash, 4, 4, 2));
    const uint32_t a = 0xdeadbeef, b = 7, c = 8, one = 1;
    REQUIRE(map->sys_update(&a, &one, BPF_ANY) == 0);
    REQUIRE(map->sys_update(&b, &one, BPF_ANY) == 0);
    CHECK(map->sys_update(&c, &one, BPF_ANY) == -kerr::e2big);
    CHECK(map->lookup(&a, 0));
    REQUIRE(map->sys_delete(&a) == 0);
    CHECK(map->sys_update(&c, &one, BPF_ANY) == 0); // the freed element is reused
    CHECK(map->lookup(&c, 0));
    CHECK(map->lookup(&a, 0) == nullptr);
}

TEST_CASE("cpumap: entries for this VM's CPUs only; qsize 0 empties", "[maps][redirect]") {
    auto map = make_map(map_def(MapType::cpumap, 4, 4, 4), 2);
    const uint32_t cpu0 = 0, cpu1 = 1, cpu2 = 2, qsize = 256, zero = 0;
    REQUIRE(map->sys_update(&cpu1, &qsize, BPF_ANY) == 0);
    CHECK(map->sys_update(&cpu2, &qsize, BPF_ANY) == -kerr::enodev);
    auto* v = static_cast<uint32_t*>(map->lookup(&cpu1, 0));
    REQUIRE(v);
    CHECK(*v == 256);
    CHECK(map->lookup(&cpu0, 0) == nullptr);
    REQUIRE(map->sys_update(&cpu1, &zero, BPF_ANY) == 0);
    CHECK(map->lookup(&cpu1, 0) == nullptr);
    auto refused = create_map(map_def(MapType::cpumap, 4, 4, 257));
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message.find("NR_CPUS") != std::string::npos);
}

TEST_CASE("xskmap: the host attaches stand-ins for bound AF_XDP sockets", "[maps][redirect]") {
    auto map = make_map(map_def(MapType::xskmap, 4, 4, 4));
    auto& xsk = static_cast<XskMap&>(*map);
    const uint32_t k1 = 1, k2 = 2;
    CHECK(xsk.lookup(&k1, 0) == nullptr);
    REQUIRE(xsk.attach(1, 5) == 0);
    CHECK(xsk.attach(4, 5) == -kerr::e2big);
    auto* sock = static_cast<uint32_t*>(xsk.lookup(&k1, 0));
    REQUIRE(sock);
    CHECK(*sock == 5); // struct bpf_xdp_sock's queue_id
    CHECK(xsk.owns(addr(sock), 4, false));
    CHECK_FALSE(xsk.owns(addr(sock), 4, true));
    CHECK(xsk.lookup(&k2, 0) == nullptr);
    uint32_t out;
    CHECK(xsk.sys_lookup(&k1, &out) == -kerr::eopnotsupp);
    REQUIRE(xsk.sys_delete(&k1) == 0);
    CHECK(xsk.lookup(&k1, 0) == nullptr);
}
