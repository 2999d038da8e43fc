// BPF_MAP_TYPE_HASH and BPF_MAP_TYPE_PERCPU_HASH.
#include "maps/spin_lock.hpp"
#include "tests/maps/map_test_support.hpp"

#include <array>
#include <atomic>
#include <set>
#include <thread>

using namespace ebpf;
using test::load;
using test::map_def;

namespace {

std::set<uint32_t> keys_of(Map& map) {
    std::set<uint32_t> keys;
    uint32_t key, next;
    const void* prev = nullptr;
    while (map.get_next_key(prev, &next) == 0) {
        INFO("key " << next << " seen twice");
        REQUIRE(keys.insert(next).second);
        key = next;
        prev = &key;
    }
    return keys;
}

} // namespace

TEST_CASE("hash: insert, replace, delete with the kernel's flag errors", "[maps][hash]") {
    auto map = test::make_map(map_def(MapType::hash, 4, 8, 4));
    uint32_t key = 10;
    uint64_t value = 1, out = 0;
    CHECK(map->lookup(&key, 0) == nullptr);
    CHECK(map->update(&key, &value, BPF_EXIST, 0) == -kerr::enoent);
    CHECK(map->update(&key, &value, BPF_NOEXIST, 0) == 0);
    CHECK(map->update(&key, &value, BPF_NOEXIST, 0) == -kerr::eexist);
    auto* slot = map->lookup(&key, 0);
    REQUIRE(slot);
    CHECK(load<uint64_t>(slot) == 1);
    value = 2;
    CHECK(map->update(&key, &value, BPF_EXIST, 0) == 0);
    CHECK(map->lookup(&key, 0) == slot); // updated in place
    CHECK(load<uint64_t>(slot) == 2);
    CHECK(map->sys_lookup(&key, &out) == 0);
    CHECK(out == 2);
    CHECK(map->update(&key, &value, 3, 0) == -kerr::einval);
    CHECK(map->update(&key, &value, 8, 0) == -kerr::einval);
    CHECK(map->update(&key, &value, BPF_F_LOCK, 0) == -kerr::einval); // no bpf_spin_lock
    CHECK(map->sys_update(&key, &value, BPF_F_LOCK) == -kerr::einval);
    CHECK(map->erase(&key) == 0);
    CHECK(map->erase(&key) == -kerr::enoent);
    CHECK(map->sys_delete(&key) == -kerr::enoent);
    CHECK(map->lookup(&key, 0) == nullptr);
    CHECK(map->sys_lookup(&key, &out) == -kerr::enoent);
}

TEST_CASE("hash: full map gives -E2BIG to new keys only", "[maps][hash]") {
    auto map = test::make_map(map_def(MapType::hash, 4, 4, 3));
    for (uint32_t key = 0; key < 3; ++key)
        CHECK(map->sys_update(&key, &key, BPF_ANY) == 0);
    uint32_t key = 3, value = 33;
    CHECK(map->sys_update(&key, &value, BPF_ANY) == -kerr::e2big);
    CHECK(map->update(&key, &value, BPF_NOEXIST, 0) == -kerr::e2big);
    key = 1;
    CHECK(map->sys_update(&key, &value, BPF_ANY) == 0); // replacing needs no new element
    CHECK(map->sys_update(&key, &value, BPF_EXIST) == 0);
    CHECK(map->sys_delete(&key) == 0);
    key = 3;
    CHECK(map->sys_update(&key, &value, BPF_ANY) == 0);
    CHECK(keys_of(*map) == std::set<uint32_t>{0, 2, 3});
}

TEST_CASE("hash: get_next_key visits every key once, a missing key restarts", "[maps][hash]") {
    auto map = test::make_map(map_def(MapType::hash, 4, 4, 64));
    uint32_t next;
    CHECK(map->get_next_key(nullptr, &next) == -kerr::enoent);
    std::set<uint32_t> expected;
    for (uint32_t key = 100; key < 150; ++key) {
        CHECK(map->sys_update(&key, &key, BPF_ANY) == 0);
        expected.insert(key);
    }
    CHECK(keys_of(*map) == expected);
    uint32_t first;
    REQUIRE(map->get_next_key(nullptr, &first) == 0);
    uint32_t missing = 7;
    CHECK(map->get_next_key(&missing, &next) == 0);
    CHECK(next == first);
}

TEST_CASE("hash: lookup_and_delete hands out the value and frees the element", "[maps][hash]") {
    auto map = test::make_map(map_def(MapType::hash, 4, 4, 1));
    uint32_t key = 5, value = 55, out = 0;
    CHECK(map->sys_lookup_and_delete(&key, &out) == -kerr::enoent);
    CHECK(map->sys_update(&key, &value, BPF_ANY) == 0);
    CHECK(map->sys_lookup_and_delete(&key, &out) == 0);
    CHECK(out == 55);
    CHECK(map->sys_lookup(&key, &out) == -kerr::enoent);
    key = 6;
    CHECK(map->sys_update(&key, &value, BPF_ANY) == 0);
}

TEST_CASE("hash: a value pointer stays valid memory after delete", "[maps][hash]") {
    auto map = test::make_map(map_def(MapType::hash, 4, 8, 2));
    uint32_t key = 1;
    uint64_t value = 11;
    REQUIRE(map->update(&key, &value, BPF_ANY, 0) == 0);
    auto* slot = static_cast<uint64_t*>(map->lookup(&key, 0));
    REQUIRE(map->erase(&key) == 0);
    *slot = 99; // still the map's memory (recycled, not freed)
    CHECK(map->owns(reinterpret_cast<uint64_t>(slot), 8, true));
    for (key = 2; key < 4; ++key)
        REQUIRE(map->update(&key, &value, BPF_ANY, 0) == 0);
    bool reused = false;
    for (key = 2; key < 4; ++key)
        reused |= map->lookup(&key, 0) == slot;
    CHECK(reused);
}

TEST_CASE("hash: keys of any size, compared in full", "[maps][hash]") {
    auto map = test::make_map(map_def(MapType::hash, 13, 4, 16));
    uint8_t a[13] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
    uint8_t b[13];
    std::memcpy(b, a, 13);
    b[12] = 14;
    uint32_t va = 1, vb = 2;
    CHECK(map->update(a, &va, BPF_NOEXIST, 0) == 0);
    CHECK(map->update(b, &vb, BPF_NOEXIST, 0) == 0);
    CHECK(load<uint32_t>(map->lookup(a, 0)) == 1);
    CHECK(load<uint32_t>(map->lookup(b, 0)) == 2);
    uint8_t next[13];
    REQUIRE(map->get_next_key(nullptr, next) == 0);
    CHECK((std::memcmp(next, a, 13) == 0 || std::memcmp(next, b, 13) == 0));
}

TEST_CASE("hash: BPF_F_LOCK updates in place under the element's lock", "[maps][hash][lock]") {
    auto def = map_def(MapType::hash, 4, 16, 4);
    def.spin_lock_off = 0;
    auto map = test::make_map(def);
    uint32_t key = 3;
    uint8_t in[16];
    std::memset(in, 0x5a, sizeof(in));
    CHECK(map->update(&key, in, BPF_F_LOCK | BPF_EXIST, 0) == -kerr::enoent);
    CHECK(map->update(&key, in, BPF_F_LOCK, 0) == 0); // a new element: lock word zero
    auto* value = static_cast<uint8_t*>(map->lookup(&key, 0));
    REQUIRE(value);
    CHECK(load<uint32_t>(value) == 0);
    CHECK(value[4] == 0x5a);
    CHECK(map->update(&key, in, BPF_F_LOCK | BPF_NOEXIST, 0) == -kerr::eexist);

    acquire_bpf_spin_lock(value);
    std::atomic<bool> done{false};
    std::memset(in, 0x77, sizeof(in));
    std::thread writer([&] {
        CHECK(map->sys_update(&key, in, BPF_F_LOCK) == 0);
        done = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK_FALSE(done);
    CHECK(value[4] == 0x5a);
    release_bpf_spin_lock(value);
    writer.join();
    CHECK(value[4] == 0x77);
    CHECK(map->lookup(&key, 0) == value);
    uint8_t out[16];
    CHECK(map->sys_lookup(&key, out) == 0);
    CHECK(load<uint32_t>(out) == 0);
    CHECK(out[15] == 0x77);
}

TEST_CASE("percpu hash: program writes one CPU, the syscall all", "[maps][hash][percpu]") {
    const uint32_t ncpus = 4;
    auto map = test::make_map(map_def(MapType::percpu_hash, 4, 4, 8), ncpus);
    uint32_t key = 9, value = 0xabc;
    CHECK(map->update(&key, &value, BPF_F_LOCK, 2) == -kerr::einval);
    CHECK(map->update(&key, &value, BPF_ANY, ncpus) == -kerr::einval);
    CHECK(map->update(&key, &value, BPF_ANY, 2) == 0);
    uint64_t all[ncpus];
    CHECK(map->sys_lookup(&key, all) == 0);
    CHECK(all[0] == 0);
    CHECK(all[1] == 0);
    CHECK(all[2] == 0xabc);
    CHECK(all[3] == 0);
    CHECK(map->lookup(&key, ncpus) == nullptr);
    CHECK(load<uint32_t>(map->lookup(&key, 2)) == 0xabc);
    value = 0xdef;
    CHECK(map->update(&key, &value, BPF_EXIST, 1) == 0); // existing: only CPU 1 changes
    CHECK(map->sys_lookup(&key, all) == 0);
    CHECK(all[1] == 0xdef);
    CHECK(all[2] == 0xabc);

    const uint64_t in[ncpus] = {0x100000001, 0x200000002, 0x300000003, 0x400000004};
    CHECK(map->sys_update(&key, in, BPF_EXIST) == 0);
    CHECK(map->sys_lookup(&key, all) == 0);
    CHECK(std::memcmp(all, in, sizeof(in)) == 0); // padding round-trips, as the kernel's
    CHECK(map->sys_update(&key, in, BPF_F_LOCK) == -kerr::einval);
    CHECK(map->sys_update(&key, in, BPF_NOEXIST) == -kerr::eexist);
    CHECK(map->sys_lookup_and_delete(&key, all) == 0);
    CHECK(all[3] == 0x400000004);
    CHECK(map->sys_lookup(&key, all) == -kerr::enoent);

    // A reused element starts with the other CPUs' copies zeroed.
    for (uint32_t k = 0; k < 8; ++k)
        CHECK(map->sys_update(&k, in, BPF_ANY) == 0);
    for (uint32_t k = 0; k < 8; ++k)
        CHECK(map->sys_delete(&k) == 0);
    key = 20;
    value = 7;
    CHECK(map->update(&key, &value, BPF_ANY, 0) == 0);
    CHECK(map->sys_lookup(&key, all) == 0);
    CHECK(all[0] == 7);
    CHECK(all[1] == 0);
    CHECK(all[3] == 0);
}

TEST_CASE("hash: owns and the syscall's access flags", "[maps][hash][checked]") {
    auto map = test::make_map(map_def(MapType::hash, 4, 12, 4, BPF_F_RDONLY));
    uint32_t key = 1, value[3] = {1, 2, 3};
    CHECK(map->sys_update(&key, value, BPF_ANY) == -kerr::eperm);
    CHECK(map->update(&key, value, BPF_ANY, 0) == 0);
    CHECK(map->sys_delete(&key) == -kerr::eperm);
    CHECK(map->sys_lookup_and_delete(&key, value) == -kerr::eperm);
    CHECK(map->sys_lookup(&key, value) == 0);
    const auto v = reinterpret_cast<uint64_t>(map->lookup(&key, 0));
    CHECK(map->owns(v, 12, true));
    CHECK_FALSE(map->owns(v, 13, false));
    CHECK_FALSE(map->owns(v + 12, 1, false));
    CHECK_FALSE(map->owns(v + 8, 8, false));
    int local = 0;
    CHECK_FALSE(map->owns(reinterpret_cast<uint64_t>(&local), 4, false));

    auto wo = test::make_map(map_def(MapType::hash, 4, 4, 4, BPF_F_WRONLY));
    uint32_t next;
    CHECK(wo->sys_update(&key, value, BPF_ANY) == 0);
    CHECK(wo->sys_lookup(&key, value) == -kerr::eperm);
    CHECK(wo->get_next_key(nullptr, &next) == -kerr::eperm);
    CHECK(wo->sys_lookup_and_delete(&key, value) == -kerr::eperm);
}

// Two writers and two readers on overlapping keys. A value is {key, seq, key ^ seq}: a value
// read under the map's locks must be whole and belong to its key. Keys no writer touches share
// the buckets and must always be found by the lock-free lookup. Afterwards the free list must
// account for every element.
TEST_CASE("hash: concurrent updates, deletes and lookups keep the map whole",
          "[maps][hash][threads]") {
    constexpr uint32_t max_entries = 64, nkeys = 96, stable = 8, stable_base = 1000;
    auto map = test::make_map(map_def(MapType::hash, 4, 24, max_entries));
    struct Value {
        uint64_t key, seq, check;
    };
    for (uint32_t key = stable_base; key < stable_base + stable; ++key) {
        const Value v{key, 1, key ^ 1};
        REQUIRE(map->sys_update(&key, &v, BPF_NOEXIST) == 0);
    }
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> bad{0}, missed{0}, updates{0}, reads{0};

    auto writer = [&](uint32_t seed) {
        uint64_t seq = seed;
        uint32_t x = seed;
        while (!stop) {
            x = x * 1664525 + 1013904223;
            const uint32_t key = (x >> 8) % nkeys;
            seq += 2;
            const Value v{key, seq, key ^ seq};
            switch ((x >> 20) % 4) {
            case 0: map->erase(&key); break;
            case 1: map->update(&key, &v, BPF_NOEXIST, 0); break;
            case 2: map->sys_update(&key, &v, BPF_ANY); break;
            default: map->update(&key, &v, BPF_EXIST, 0); break;
            }
            ++updates;
        }
    };
    auto reader = [&](uint32_t seed) {
        uint32_t x = seed;
        while (!stop) {
            x = x * 1664525 + 1013904223;
            const uint32_t key = (x >> 8) % nkeys;
            Value v;
            if (map->sys_lookup(&key, &v) == 0 && (v.key != key || v.check != (v.key ^ v.seq)))
                ++bad;
            if (void* p = map->lookup(&key, 0);
                p && !map->owns(reinterpret_cast<uint64_t>(p), 24, true))
                ++bad;
            const uint32_t fixed = stable_base + (x >> 24) % stable;
            const void* p = map->lookup(&fixed, 0);
            if (!p)
                ++missed;
            else if (test::load<Value>(p).key != fixed)
                ++bad;
            uint32_t next;
            if (map->get_next_key(&key, &next) == 0 && next >= nkeys &&
                (next < stable_base || next >= stable_base + stable))
                ++bad;
            ++reads;
        }
    };
    test::race(stop, 400, writer, reader);
    INFO(updates << " updates, " << reads << " reads");
    CHECK(updates > 1000);
    CHECK(bad == 0);
    CHECK(missed == 0);

    const auto keys = keys_of(*map);
    CHECK(keys.size() <= max_entries);
    for (uint32_t key = stable_base; key < stable_base + stable; ++key)
        CHECK(keys.count(key));
    for (uint32_t key : keys) {
        Value v;
        REQUIRE(map->sys_lookup(&key, &v) == 0);
        CHECK(v.key == key);
        CHECK(map->sys_delete(&key) == 0);
    }
    uint32_t next;
    CHECK(map->get_next_key(nullptr, &next) == -kerr::enoent);
    // every element is back on the free list, once
    for (uint32_t key = 0; key < max_entries; ++key) {
        const Value v{key, 0, key};
        CHECK(map->sys_update(&key, &v, BPF_NOEXIST) == 0);
    }
    uint32_t extra = max_entries;
    const Value v{extra, 0, extra};
    CHECK(map->sys_update(&extra, &v, BPF_NOEXIST) == -kerr::e2big);
    CHECK(keys_of(*map).size() == max_entries);
}

TEST_CASE("hash: direct_lookup answers as lookup; per-CPU and LRU kinds have none",
          "[maps][hash]") {
    auto map = test::make_map(map_def(MapType::hash, 12, 8, 16));
    const Map::DirectLookup direct = map->direct_lookup();
    REQUIRE(direct);
    for (uint8_t i = 0; i < 16; ++i) {
        const std::array<uint8_t, 12> key{i, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, i};
        const uint64_t value = i;
        REQUIRE(map->update(key.data(), &value, BPF_ANY, 0) == 0);
    }
    for (uint8_t i = 0; i < 20; ++i) {
        const std::array<uint8_t, 12> key{i, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, i};
        CHECK(direct(map.get(), key.data()) == map->lookup(key.data(), 0));
        CHECK((direct(map.get(), key.data()) != nullptr) == (i < 16));
    }
    CHECK(!test::make_map(map_def(MapType::percpu_hash, 4, 8, 4))->direct_lookup());
    CHECK(!test::make_map(map_def(MapType::lru_hash, 4, 8, 4))->direct_lookup());
}
