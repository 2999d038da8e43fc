// BPF_MAP_TYPE_PROG_ARRAY.
#include "maps/prog_array.hpp"
#include "tests/maps/map_test_support.hpp"

#include <atomic>
#include <thread>

using namespace ebpf;
using test::map_def;

namespace {

// Programs are opaque to the map: any distinct addresses do.
const Program* fake_program(int i) {
    static char storage[4];
    return reinterpret_cast<const Program*>(&storage[i]);
}

std::shared_ptr<ProgArrayMap> prog_array(uint32_t max_entries) {
    auto map = std::dynamic_pointer_cast<ProgArrayMap>(
        test::make_map(map_def(MapType::prog_array, 4, 4, max_entries)));
    REQUIRE(map);
    return map;
}

} // namespace

TEST_CASE("prog array: set, get and clear slots", "[maps][prog_array]") {
    auto map = prog_array(3);
    CHECK(map->get(0) == nullptr);
    CHECK(map->set(0, fake_program(0)) == 0);
    CHECK(map->set(2, fake_program(1)) == 0);
    CHECK(map->get(0) == fake_program(0));
    CHECK(map->get(1) == nullptr);
    CHECK(map->get(2) == fake_program(1));
    CHECK(map->get(3) == nullptr);
    CHECK(map->get(UINT32_MAX) == nullptr);
    CHECK(map->set(3, fake_program(0)) == -kerr::e2big);
    CHECK(map->set(0, fake_program(2)) == 0); // replace
    CHECK(map->get(0) == fake_program(2));
    CHECK(map->set(0, nullptr) == 0);
    CHECK(map->get(0) == nullptr);
    CHECK(map->set(0, nullptr) == -kerr::enoent);
}

TEST_CASE("prog array: the syscall's view", "[maps][prog_array]") {
    auto map = prog_array(2);
    uint32_t key = 1, fd = 3, next = 9;
    CHECK(map->sys_update(&key, &fd, BPF_EXIST) == -kerr::einval);
    key = 2;
    CHECK(map->sys_update(&key, &fd, BPF_ANY) == -kerr::e2big);
    key = 1;
    CHECK(map->sys_update(&key, &fd, BPF_ANY) == -kerr::ebadf); // no fds in this VM
    CHECK(map->sys_delete(&key) == -kerr::enoent);
    CHECK(map->set(1, fake_program(0)) == 0);
    CHECK(map->sys_delete(&key) == 0);
    CHECK(map->get(1) == nullptr);
    key = 2;
    CHECK(map->sys_delete(&key) == -kerr::e2big);
    CHECK(map->get_next_key(nullptr, &next) == 0);
    CHECK(next == 0);
    key = 1;
    CHECK(map->get_next_key(&key, &next) == -kerr::enoent);
    // programs may not look up or update a prog array
    CHECK(map->lookup(&key, 0) == nullptr);
    CHECK(map->update(&key, &fd, BPF_ANY, 0) == -kerr::eopnotsupp);
}

TEST_CASE("prog array: tail calls read slots while the host sets them",
          "[maps][prog_array][threads]") {
    auto map = prog_array(4);
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> bad{0};
    std::thread setter([&] {
        for (int i = 0; !stop; ++i)
            map->set(i % 4, i % 3 == 2 ? nullptr : fake_program(i % 2));
    });
    for (int i = 0; i < 200000; ++i) {
        const Program* p = map->get(i % 4);
        if (p && p != fake_program(0) && p != fake_program(1)) ++bad;
    }
    stop = true;
    setter.join();
    CHECK(bad == 0);
}
