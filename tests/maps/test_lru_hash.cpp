// BPF_MAP_TYPE_LRU_HASH and BPF_MAP_TYPE_LRU_PERCPU_HASH.
#include "tests/maps/map_test_support.hpp"

#include <atomic>
#include <set>
#include <thread>

using namespace ebpf;
using test::load;
using test::map_def;

namespace {

bool has(Map& map, uint32_t key) {
    uint32_t value[2];
    return map.sys_lookup(&key, value) == 0;
}

} // namespace

TEST_CASE("lru hash: a new key evicts the least recently used", "[maps][lru]") {
    auto map = test::make_map(map_def(MapType::lru_hash, 4, 4, 3));
    for (uint32_t key = 1; key <= 3; ++key)
        CHECK(map->update(&key, &key, BPF_NOEXIST, 0) == 0);
    uint32_t key = 4;
    CHECK(map->update(&key, &key, BPF_NOEXIST, 0) == 0); // never -E2BIG
    CHECK_FALSE(has(*map, 1));
    CHECK(has(*map, 2));
    CHECK(has(*map, 3));
    CHECK(has(*map, 4));
}

TEST_CASE("lru hash: a program's lookup marks the element used", "[maps][lru]") {
    auto map = test::make_map(map_def(MapType::lru_hash, 4, 4, 3));
    for (uint32_t key = 1; key <= 3; ++key)
        CHECK(map->sys_update(&key, &key, BPF_ANY) == 0);
    uint32_t key = 1;
    CHECK(map->lookup(&key, 0) != nullptr);
    key = 4;
    CHECK(map->sys_update(&key, &key, BPF_ANY) == 0);
    CHECK(has(*map, 1));
    CHECK_FALSE(has(*map, 2));
    key = 5;
    CHECK(map->sys_update(&key, &key, BPF_ANY) == 0);
    CHECK_FALSE(has(*map, 3));
    CHECK(has(*map, 1));
    // 1 has had its second chance: now it is the oldest unused one
    key = 6;
    CHECK(map->sys_update(&key, &key, BPF_ANY) == 0);
    CHECK_FALSE(has(*map, 1));
    CHECK(has(*map, 4));
    CHECK(has(*map, 5));
    CHECK(has(*map, 6));
}

TEST_CASE("lru hash: the syscall's lookup does not mark", "[maps][lru]") {
    auto map = test::make_map(map_def(MapType::lru_hash, 4, 4, 2));
    for (uint32_t key = 1; key <= 2; ++key)
        CHECK(map->sys_update(&key, &key, BPF_ANY) == 0);
    CHECK(has(*map, 1)); // sys_lookup
    uint32_t key = 3;
    CHECK(map->sys_update(&key, &key, BPF_ANY) == 0);
    CHECK_FALSE(has(*map, 1));
    CHECK(has(*map, 2));
}

TEST_CASE("lru hash: updating an existing key evicts nothing and marks it", "[maps][lru]") {
    auto map = test::make_map(map_def(MapType::lru_hash, 4, 4, 2));
    for (uint32_t key = 1; key <= 2; ++key)
        CHECK(map->sys_update(&key, &key, BPF_ANY) == 0);
    uint32_t key = 1, value = 10;
    CHECK(map->sys_update(&key, &value, BPF_EXIST) == 0);
    CHECK(has(*map, 1));
    CHECK(has(*map, 2));
    key = 3;
    CHECK(map->sys_update(&key, &key, BPF_ANY) == 0);
    CHECK(has(*map, 1));
    CHECK_FALSE(has(*map, 2));
    key = 1;
    CHECK(load<uint32_t>(map->lookup(&key, 0)) == 10);
}

TEST_CASE("lru hash: flags and deletes", "[maps][lru]") {
    auto map = test::make_map(map_def(MapType::lru_hash, 4, 4, 2));
    uint32_t key = 1, value = 1;
    CHECK(map->update(&key, &value, BPF_F_LOCK, 0) == -kerr::einval);
    CHECK(map->update(&key, &value, 3, 0) == -kerr::einval);
    CHECK(map->update(&key, &value, BPF_EXIST, 0) == -kerr::enoent);
    CHECK(map->update(&key, &value, BPF_NOEXIST, 0) == 0);
    CHECK(map->update(&key, &value, BPF_NOEXIST, 0) == -kerr::eexist);
    CHECK(map->erase(&key) == 0);
    CHECK(map->sys_delete(&key) == -kerr::enoent);
    CHECK(map->sys_update(&key, &value, BPF_ANY) == 0);
    uint32_t out = 0;
    CHECK(map->sys_lookup_and_delete(&key, &out) == 0);
    CHECK(out == 1);
    // deleted elements are free again: two inserts evict nothing
    key = 7;
    CHECK(map->sys_update(&key, &value, BPF_ANY) == 0);
    key = 8;
    CHECK(map->sys_update(&key, &value, BPF_ANY) == 0);
    CHECK(has(*map, 7));
    CHECK(has(*map, 8));
}

TEST_CASE("lru percpu hash: per-CPU values with eviction", "[maps][lru][percpu]") {
    auto map = test::make_map(map_def(MapType::lru_percpu_hash, 4, 8, 2), 2);
    uint32_t key = 1;
    uint64_t value = 5;
    CHECK(map->update(&key, &value, BPF_ANY, 1) == 0);
    uint64_t all[2];
    CHECK(map->sys_lookup(&key, all) == 0);
    CHECK(all[0] == 0);
    CHECK(all[1] == 5);
    CHECK(map->lookup(&key, 2) == nullptr);
    CHECK(load<uint64_t>(map->lookup(&key, 1)) == 5);
    const uint64_t both[2] = {7, 8};
    for (key = 2; key <= 3; ++key)
        CHECK(map->sys_update(&key, both, BPF_ANY) == 0);
    key = 1;
    CHECK(map->sys_lookup(&key, all) == 0); // marked by the lookup above, so 2 went
    key = 2;
    CHECK(map->sys_lookup(&key, all) == -kerr::enoent);
    key = 3;
    CHECK(map->sys_lookup(&key, all) == 0);
    CHECK(all[1] == 8);
}

TEST_CASE("lru hash: concurrent writers and readers keep the list whole", "[maps][lru][threads]") {
    constexpr uint32_t max_entries = 32;
    auto map = test::make_map(map_def(MapType::lru_hash, 4, 8, max_entries));
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> bad{0};
    auto worker = [&](uint32_t seed) {
        uint32_t x = seed;
        while (!stop) {
            x = x * 1664525 + 1013904223;
            const uint32_t key = (x >> 8) % 100;
            const uint64_t value = uint64_t{key} << 32 | key;
            if ((x >> 20) % 5 == 0) {
                map->erase(&key);
            } else if ((x >> 20) % 5 == 1) {
                if (void* p = map->lookup(&key, 0);
                    p && !map->owns(reinterpret_cast<uint64_t>(p), 8, false))
                    ++bad;
            } else if ((x >> 20) % 5 == 2) {
                uint64_t out;
                if (map->sys_lookup(&key, &out) == 0 && out != value) ++bad;
            } else if (map->update(&key, &value, BPF_ANY, 0) != 0) {
                ++bad; // an LRU map always finds room
            }
        }
    };
    std::thread a(worker, 1), b(worker, 2), c(worker, 3);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop = true;
    a.join();
    b.join();
    c.join();
    CHECK(bad == 0);
    std::set<uint32_t> keys;
    uint32_t key, next;
    const void* prev = nullptr;
    while (map->get_next_key(prev, &next) == 0) {
        REQUIRE(keys.insert(next).second);
        key = next;
        prev = &key;
    }
    CHECK(keys.size() <= max_entries);
    // Fresh keys push out the old ones (each referenced one after its second chance), then go
    // first in, first out: the last max_entries remain, and every element is in use again.
    constexpr uint32_t fresh = 3 * max_entries;
    for (uint32_t k = 1000; k < 1000 + fresh; ++k) {
        const uint64_t value = uint64_t{k} << 32 | k;
        CHECK(map->sys_update(&k, &value, BPF_ANY) == 0);
    }
    for (uint32_t k = 1000 + fresh - max_entries; k < 1000 + fresh; ++k)
        CHECK(has(*map, k));
    uint32_t count = 0;
    for (prev = nullptr; map->get_next_key(prev, &next) == 0; prev = &key) {
        key = next;
        ++count;
    }
    CHECK(count == max_entries);
}
