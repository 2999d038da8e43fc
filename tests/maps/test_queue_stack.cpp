// BPF_MAP_TYPE_QUEUE and BPF_MAP_TYPE_STACK.
#include "tests/maps/map_test_support.hpp"

#include <atomic>
#include <thread>

using namespace ebpf;
using test::map_def;

TEST_CASE("queue: first in, first out", "[maps][queue]") {
    auto map = test::make_map(map_def(MapType::queue, 0, 4, 3));
    uint32_t out = 77;
    CHECK(map->peek(&out) == -kerr::enoent);
    CHECK(out == 0); // zeroed, as the kernel does
    for (uint32_t v = 1; v <= 3; ++v)
        CHECK(map->push(&v, BPF_ANY) == 0);
    uint32_t v = 4;
    CHECK(map->push(&v, BPF_ANY) == -kerr::e2big);
    CHECK(map->peek(&out) == 0);
    CHECK(out == 1);
    CHECK(map->push(&v, BPF_EXIST) == 0); // overwrites the oldest
    for (uint32_t expected : {2u, 3u, 4u}) {
        CHECK(map->pop(&out) == 0);
        CHECK(out == expected);
    }
    CHECK(map->pop(&out) == -kerr::enoent);
    // around the ring a few times
    for (uint32_t i = 0; i < 10; ++i) {
        CHECK(map->push(&i, BPF_ANY) == 0);
        CHECK(map->pop(&out) == 0);
        CHECK(out == i);
    }
}

TEST_CASE("stack: last in, first out", "[maps][stack]") {
    auto map = test::make_map(map_def(MapType::stack, 0, 8, 3));
    uint64_t out;
    for (uint64_t v = 1; v <= 3; ++v)
        CHECK(map->push(&v, BPF_ANY) == 0);
    uint64_t v = 4;
    CHECK(map->push(&v, BPF_ANY) == -kerr::e2big);
    CHECK(map->push(&v, BPF_EXIST) == 0); // the oldest (1) goes
    CHECK(map->peek(&out) == 0);
    CHECK(out == 4);
    for (uint64_t expected : {4u, 3u, 2u}) {
        CHECK(map->pop(&out) == 0);
        CHECK(out == expected);
    }
    CHECK(map->pop(&out) == -kerr::enoent);
    CHECK(out == 0);
}

TEST_CASE("queue and stack: flags and the operations they lack", "[maps][queue][stack]") {
    for (MapType type : {MapType::queue, MapType::stack}) {
        auto map = test::make_map(map_def(type, 0, 4, 2));
        uint32_t v = 1, key = 0;
        CHECK(map->push(&v, BPF_NOEXIST) == -kerr::einval);
        CHECK(map->push(&v, BPF_F_LOCK) == -kerr::einval);
        CHECK(map->push(&v, 3) == -kerr::einval);
        CHECK(map->lookup(nullptr, 0) == nullptr);
        CHECK(map->update(nullptr, &v, BPF_ANY, 0) == -kerr::einval);
        CHECK(map->erase(nullptr) == -kerr::einval);
        CHECK(map->sys_delete(nullptr) == -kerr::einval);
        CHECK(map->get_next_key(nullptr, &key) == -kerr::einval);
    }
}

TEST_CASE("queue: the syscall's view is peek, push and pop", "[maps][queue]") {
    auto map = test::make_map(map_def(MapType::queue, 0, 4, 2));
    uint32_t v = 5, out = 0, key = 0;
    CHECK(map->sys_update(nullptr, &v, BPF_ANY) == 0);
    CHECK(map->sys_update(&key, &v, BPF_ANY) == -kerr::einval); // a key where there is none
    CHECK(map->sys_update(nullptr, &v, BPF_F_LOCK) == -kerr::einval);
    CHECK(map->sys_update(nullptr, &v, BPF_NOEXIST) == -kerr::einval);
    CHECK(map->sys_lookup(&key, &out) == -kerr::einval);
    CHECK(map->sys_lookup(nullptr, &out) == 0);
    CHECK(out == 5);
    CHECK(map->sys_lookup_and_delete(&key, &out) == -kerr::einval);
    CHECK(map->sys_lookup_and_delete(nullptr, &out) == 0);
    CHECK(map->sys_lookup_and_delete(nullptr, &out) == -kerr::enoent);

    auto ro = test::make_map(map_def(MapType::queue, 0, 4, 2, BPF_F_RDONLY));
    CHECK(ro->sys_update(nullptr, &v, BPF_ANY) == -kerr::eperm);
    CHECK(ro->push(&v, BPF_ANY) == 0); // programs are not restricted by BPF_F_RDONLY
    CHECK(ro->sys_lookup(nullptr, &out) == 0);
    CHECK(ro->sys_lookup_and_delete(nullptr, &out) == -kerr::eperm);
    auto wo = test::make_map(map_def(MapType::stack, 0, 4, 2, BPF_F_WRONLY));
    CHECK(wo->sys_update(nullptr, &v, BPF_ANY) == 0);
    CHECK(wo->sys_lookup(nullptr, &out) == -kerr::eperm);
}

TEST_CASE("queue: concurrent pushes and pops lose and duplicate nothing",
          "[maps][queue][threads]") {
    auto map = test::make_map(map_def(MapType::queue, 0, 8, 16));
    constexpr uint64_t per_thread = 20000;
    std::atomic<uint64_t> popped_sum{0}, popped{0};
    auto producer = [&](uint64_t base) {
        for (uint64_t i = 1; i <= per_thread; ++i) {
            const uint64_t v = base + i;
            while (map->push(&v, BPF_ANY) == -kerr::e2big)
                std::this_thread::yield();
        }
    };
    auto consumer = [&] {
        while (popped < 2 * per_thread) {
            uint64_t v;
            if (map->pop(&v) == 0) {
                popped_sum += v;
                ++popped;
            }
        }
    };
    std::thread p1(producer, 0), p2(producer, 1000000), c1(consumer), c2(consumer);
    p1.join();
    p2.join();
    c1.join();
    c2.join();
    const uint64_t n = per_thread;
    CHECK(popped == 2 * n);
    CHECK(popped_sum == n * (n + 1) + 1000000 * n);
}
