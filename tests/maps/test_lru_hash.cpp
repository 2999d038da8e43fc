// BPF_MAP_TYPE_LRU_HASH and BPF_MAP_TYPE_LRU_PERCPU_HASH.
#include "tests/maps/map_test_support.hpp"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

using namespace ebpf;
using test::load;
using test::map_def;

namespace {

bool has(Map& map, uint32_t key) {
    uint32_t value[2];
    return map.sys_lookup(&key, value) == 0;
}

std::vector<uint32_t> keys(Map& map) {
    std::vector<uint32_t> out;
    uint32_t key, next;
    for (const void* prev = nullptr; map.get_next_key(prev, &next) == 0; prev = &key) {
        out.push_back(next);
        key = next;
    }
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace

TEST_CASE("lru hash: a full map evicts a batch from the inactive list's tail", "[maps][lru]") {
    // One CPU, 8 elements: each refill of the CPU's free list takes target_free = 8 / 1 / 2 = 4.
    auto map = test::make_map(map_def(MapType::lru_hash, 4, 4, 8));
    for (uint32_t key = 1; key <= 8; ++key)
        CHECK(map->update(&key, &key, BPF_NOEXIST, 0) == 0);
    uint32_t key = 9;
    CHECK(map->update(&key, &key, BPF_NOEXIST, 0) == 0); // never -E2BIG
    CHECK(keys(*map) == std::vector<uint32_t>{5, 6, 7, 8, 9});
    // The next three inserts take the batch's other free elements: nothing more goes.
    for (key = 10; key <= 12; ++key)
        CHECK(map->update(&key, &key, BPF_NOEXIST, 0) == 0);
    CHECK(keys(*map).size() == 8);
}

TEST_CASE("lru hash: a program's lookup marks the element, the syscall's does not", "[maps][lru]") {
    auto map = test::make_map(map_def(MapType::lru_hash, 4, 4, 8));
    for (uint32_t key = 1; key <= 8; ++key)
        CHECK(map->sys_update(&key, &key, BPF_ANY) == 0);
    CHECK(has(*map, 1)); // sys_lookup
    uint32_t key = 2;
    CHECK(map->lookup(&key, 0) != nullptr);
    key = 9;
    CHECK(map->sys_update(&key, &key, BPF_ANY) == 0);
    // 2, referenced, moved to the active list; the batch came from the inactive list's tail.
    CHECK(keys(*map) == std::vector<uint32_t>{2, 6, 7, 8, 9});
}

TEST_CASE("lru hash: an update of a key already there takes a fresh element too", "[maps][lru]") {
    // target_free 1: every update refills with one element, evicting when none is free.
    auto map = test::make_map(map_def(MapType::lru_hash, 4, 4, 2));
    for (uint32_t key = 1; key <= 2; ++key)
        CHECK(map->sys_update(&key, &key, BPF_ANY) == 0);
    // The fresh element for key 1 is key 1's own, the oldest: the update finds no key 1.
    uint32_t key = 1, value = 10;
    CHECK(map->sys_update(&key, &value, BPF_EXIST) == -kerr::enoent);
    CHECK(keys(*map) == std::vector<uint32_t>{2});
    key = 2;
    CHECK(map->sys_update(&key, &value, BPF_EXIST) == 0);
    CHECK(load<uint32_t>(map->lookup(&key, 0)) == 10);
    CHECK(keys(*map) == std::vector<uint32_t>{2});
}

TEST_CASE("lru hash: BPF_F_NO_COMMON_LRU evicts only the CPU's own elements", "[maps][lru]") {
    // Two CPUs, 3 entries rounded up to 4: two elements each.
    auto map = test::make_map(map_def(MapType::lru_hash, 4, 4, 3, BPF_F_NO_COMMON_LRU), 2);
    CHECK(map->def().max_entries == 4);
    for (uint32_t key = 1; key <= 4; ++key)
        CHECK(map->update(&key, &key, BPF_NOEXIST, key <= 2 ? 0 : 1) == 0);
    // CPU 0 has no free element: it shrinks its inactive list by up to 4, both its keys.
    uint32_t key = 5;
    CHECK(map->update(&key, &key, BPF_NOEXIST, 0) == 0);
    CHECK(keys(*map) == std::vector<uint32_t>{3, 4, 5});
    key = 6;
    CHECK(map->update(&key, &key, BPF_NOEXIST, 0) == 0);
    CHECK(keys(*map) == std::vector<uint32_t>{3, 4, 5, 6});
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

TEST_CASE("lru percpu hash: per-CPU values", "[maps][lru][percpu]") {
    auto map = test::make_map(map_def(MapType::lru_percpu_hash, 4, 8, 4), 2);
    uint32_t key = 1;
    uint64_t value = 5;
    CHECK(map->update(&key, &value, BPF_ANY, 1) == 0);
    uint64_t all[2];
    CHECK(map->sys_lookup(&key, all) == 0);
    CHECK(all[0] == 0);
    CHECK(all[1] == 5);
    CHECK(map->lookup(&key, 2) == nullptr);
    CHECK(map->update(&key, &value, BPF_ANY, 2) == -kerr::einval);
    CHECK(load<uint64_t>(map->lookup(&key, 1)) == 5);
    // An existing key's value is updated in place: a program's pointer sees the syscall's write.
    const void* cpu0 = map->lookup(&key, 0);
    const uint64_t both[2] = {7, 8};
    CHECK(map->sys_update(&key, both, BPF_EXIST) == 0);
    CHECK(load<uint64_t>(cpu0) == 7);
    CHECK(load<uint64_t>(map->lookup(&key, 1)) == 8);
    value = 9;
    CHECK(map->update(&key, &value, BPF_EXIST, 0) == 0);
    CHECK(map->sys_lookup(&key, all) == 0);
    CHECK(all[0] == 9);
    CHECK(all[1] == 8);
}

TEST_CASE("lru hash: concurrent writers and readers keep the lists whole", "[maps][lru][threads]") {
    constexpr uint32_t max_entries = 32, ncpus = 4;
    for (uint32_t flags : {0u, BPF_F_NO_COMMON_LRU}) {
        INFO("map_flags " << flags);
        auto map = test::make_map(map_def(MapType::lru_hash, 4, 8, max_entries, flags), ncpus);
        std::atomic<bool> stop{false};
        std::atomic<uint64_t> bad{0};
        // Each thread a CPU of its own, as programs on different CPUs: deletes push elements
        // back to other CPUs' lists, and a CPU short of elements steals from the others.
        auto worker = [&](uint32_t cpu) {
            uint32_t x = cpu + 1;
            while (!stop) {
                x = x * 1664525 + 1013904223;
                const uint32_t key = (x >> 8) % 100;
                const uint64_t value = uint64_t{key} << 32 | key;
                if ((x >> 20) % 5 == 0) {
                    map->erase(&key);
                } else if ((x >> 20) % 5 == 1) {
                    if (void* p = map->lookup(&key, cpu);
                        p && !map->owns(reinterpret_cast<uint64_t>(p), 8, false))
                        ++bad;
                } else if ((x >> 20) % 5 == 2) {
                    uint64_t out;
                    if (map->sys_lookup(&key, &out) == 0 && out != value) ++bad;
                } else if (long err = map->update(&key, &value, BPF_ANY, cpu);
                           err != 0 && err != -kerr::enomem) {
                    // -ENOMEM as in the kernel: a CPU's inactive list may hold only elements
                    // that other CPUs' deletes have taken out of the table and not yet freed,
                    // and the forced shrink looks no further than that list.
                    ++bad;
                }
            }
        };
        std::vector<std::thread> threads;
        for (uint32_t cpu = 0; cpu < ncpus; ++cpu)
            threads.emplace_back(worker, cpu);
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        stop = true;
        for (auto& t : threads)
            t.join();
        CHECK(bad == 0);
        const auto left = keys(*map);
        CHECK(std::adjacent_find(left.begin(), left.end()) == left.end());
        CHECK(left.size() <= max_entries);
        for (uint32_t key : left) {
            uint64_t out = 0;
            CHECK(map->sys_lookup(&key, &out) == 0);
            CHECK(out == (uint64_t{key} << 32 | key));
        }
        // Fresh keys from every CPU still find room, and each is there after its update.
        for (uint32_t k = 1000; k < 1000 + 4 * max_entries; ++k) {
            const uint64_t value = uint64_t{k} << 32 | k;
            CHECK(map->update(&k, &value, BPF_NOEXIST, k % ncpus) == 0);
            CHECK(has(*map, k));
        }
        CHECK(keys(*map).size() <= max_entries);
    }
}
