// BPF_MAP_TYPE_ARRAY_OF_MAPS and BPF_MAP_TYPE_HASH_OF_MAPS.
#include "maps/map_in_map.hpp"
#include "tests/maps/map_test_support.hpp"

#include <atomic>
#include <thread>

using namespace ebpf;
using test::map_def;

namespace {

std::shared_ptr<MapInMap> outer(MapType type, const MapDef& inner, uint32_t max_entries = 4) {
    auto map = create_map_in_map(map_def(type, 4, 4, max_entries), inner);
    INFO((map ? "" : map.error().message));
    REQUIRE(map.ok());
    auto mim = std::dynamic_pointer_cast<MapInMap>(*map);
    REQUIRE(mim);
    return mim;
}

std::string refusal(const MapDef& def, const MapDef& inner) {
    auto map = create_map_in_map(def, inner);
    return map.ok() ? "created" : map.error().message;
}

} // namespace

TEST_CASE("array of maps: slots hold inner maps the program looks up", "[maps][map_in_map]") {
    const auto inner_def = map_def(MapType::hash, 4, 8, 16);
    auto map = outer(MapType::array_of_maps, inner_def);
    CHECK(map->inner_def().max_entries == 16);
    auto inner = test::make_map(inner_def);
    uint32_t key = 1;
    CHECK(map->lookup(&key, 0) == nullptr);
    CHECK(map->set(&key, inner) == 0);
    CHECK(map->lookup(&key, 0) == inner.get());
    CHECK(map->get(&key) == inner.get());
    // the program then uses the inner map
    uint32_t k = 5;
    uint64_t v = 55;
    auto* found = static_cast<Map*>(map->lookup(&key, 0));
    CHECK(found->update(&k, &v, BPF_ANY, 0) == 0);
    CHECK(inner->lookup(&k, 0) != nullptr);

    CHECK(map->set(&key, inner, BPF_NOEXIST) == -kerr::einval); // only BPF_ANY
    key = 4;
    CHECK(map->set(&key, inner) == -kerr::e2big);
    CHECK(map->lookup(&key, 0) == nullptr);
    key = 1;
    CHECK(map->sys_delete(&key) == 0);
    CHECK(map->sys_delete(&key) == -kerr::enoent);
    key = 9;
    CHECK(map->sys_delete(&key) == -kerr::e2big);
    uint32_t fd = 3, next;
    key = 0;
    CHECK(map->sys_update(&key, &fd, BPF_ANY) == -kerr::ebadf);
    CHECK(map->sys_update(&key, &fd, BPF_EXIST) == -kerr::einval);
    CHECK(map->get_next_key(nullptr, &next) == 0);
    CHECK(next == 0);
    CHECK(map->sys_lookup(&key, &fd) == -kerr::enotsupp);
}

TEST_CASE("map-in-map: the kernel's compatibility checks", "[maps][map_in_map]") {
    auto map = outer(MapType::array_of_maps, map_def(MapType::array, 4, 8, 16));
    uint32_t key = 0;
    CHECK(map->set(&key, test::make_map(map_def(MapType::array, 4, 8, 16))) == 0);
    CHECK(map->set(&key, test::make_map(map_def(MapType::array, 4, 8, 17))) == -kerr::einval);
    CHECK(map->set(&key, test::make_map(map_def(MapType::array, 4, 4, 16))) == -kerr::einval);
    CHECK(map->set(&key, test::make_map(map_def(MapType::hash, 4, 8, 16))) == -kerr::einval);
    CHECK(map->set(&key, test::make_map(map_def(MapType::array, 4, 8, 16, BPF_F_RDONLY))) ==
          -kerr::einval);
    CHECK(map->set(&key, nullptr) == -kerr::einval);

    // BPF_F_INNER_MAP lets arrays differ in size; other kinds may differ anyway
    auto flexible =
        outer(MapType::hash_of_maps, map_def(MapType::array, 4, 8, 16, BPF_F_INNER_MAP));
    CHECK(flexible->set(&key, test::make_map(map_def(MapType::array, 4, 8, 3, BPF_F_INNER_MAP))) ==
          0);
    auto hashes = outer(MapType::array_of_maps, map_def(MapType::hash, 4, 8, 16));
    CHECK(hashes->set(&key, test::make_map(map_def(MapType::hash, 4, 8, 99))) == 0);
    auto percpu = outer(MapType::array_of_maps, map_def(MapType::percpu_array, 4, 8, 16));
    CHECK(percpu->set(&key, test::make_map(map_def(MapType::percpu_array, 4, 8, 2))) == 0);

    auto locked_def = map_def(MapType::hash, 4, 8, 4);
    locked_def.spin_lock_off = 0;
    auto locked = outer(MapType::hash_of_maps, locked_def);
    CHECK(locked->set(&key, test::make_map(map_def(MapType::hash, 4, 8, 4))) == -kerr::einval);
    CHECK(locked->set(&key, test::make_map(locked_def)) == 0);
}

TEST_CASE("map-in-map: create_map_in_map's checks", "[maps][map_in_map]") {
    const auto inner = map_def(MapType::array, 4, 4, 2);
    CHECK(refusal(map_def(MapType::array_of_maps, 4, 4, 2), inner) == "created");
    CHECK(refusal(map_def(MapType::hash_of_maps, 4, 4, 2), map_def(MapType::ringbuf, 0, 0, 4096)) ==
          "created");
    CHECK(refusal(map_def(MapType::array_of_maps, 4, 8, 2), inner).find("value_size") !=
          std::string::npos);
    CHECK(refusal(map_def(MapType::hash_of_maps, 4, 8, 2), inner).find("(-EINVAL)") !=
          std::string::npos);
    CHECK(refusal(map_def(MapType::hash, 4, 4, 2), inner).find("(-EINVAL)") != std::string::npos);
    CHECK(refusal(map_def(MapType::array_of_maps, 4, 4, 2), map_def(MapType::prog_array, 4, 4, 2))
              .find("(-ENOTSUPP)") != std::string::npos);
    CHECK(
        refusal(map_def(MapType::array_of_maps, 4, 4, 2), map_def(MapType::array_of_maps, 4, 4, 2))
            .find("(-EINVAL)") != std::string::npos);
    CHECK(refusal(map_def(MapType::array_of_maps, 4, 4, 2), map_def(MapType::array, 4, 0, 2))
              .find("inner map: value_size") != std::string::npos);
}

TEST_CASE("hash of maps: keys hold inner maps with the hash map's flags", "[maps][map_in_map]") {
    const auto inner_def = map_def(MapType::array, 4, 4, 2);
    auto map = outer(MapType::hash_of_maps, inner_def, 2);
    auto a = test::make_map(inner_def), b = test::make_map(inner_def);
    uint32_t key = 100;
    CHECK(map->set(&key, a, BPF_EXIST) == -kerr::enoent);
    CHECK(map->set(&key, a, BPF_NOEXIST) == 0);
    CHECK(map->set(&key, b, BPF_NOEXIST) == -kerr::eexist);
    CHECK(map->set(&key, b, BPF_F_LOCK) == -kerr::einval);
    CHECK(map->get(&key) == a.get());
    CHECK(map->set(&key, b, BPF_EXIST) == 0);
    CHECK(map->get(&key) == b.get());
    key = 101;
    CHECK(map->set(&key, a) == 0);
    key = 102;
    CHECK(map->set(&key, a) == -kerr::e2big);
    CHECK(map->get(&key) == nullptr);
    uint32_t next;
    CHECK(map->get_next_key(nullptr, &next) == 0);
    CHECK((next == 100 || next == 101));
    key = 100;
    CHECK(map->sys_delete(&key) == 0);
    CHECK(map->get(&key) == nullptr);
    CHECK(map->sys_delete(&key) == -kerr::enoent);
    uint32_t fd = 3;
    CHECK(map->sys_update(&key, &fd, BPF_ANY) == -kerr::ebadf);
    CHECK(map->sys_update(&key, &fd, BPF_F_LOCK) == -kerr::einval);
    CHECK(map->sys_lookup_and_delete(&key, &fd) == -kerr::enotsupp);
}

TEST_CASE("map-in-map: an inner map outlives its slot while the outer map lives",
          "[maps][map_in_map]") {
    const auto inner_def = map_def(MapType::array, 4, 8, 1);
    auto map = outer(MapType::array_of_maps, inner_def);
    uint32_t key = 0;
    std::weak_ptr<Map> gone;
    {
        auto inner = test::make_map(inner_def);
        gone = inner;
        CHECK(map->set(&key, inner) == 0);
    }
    auto* held = static_cast<Map*>(map->lookup(&key, 0)); // what a program holds
    CHECK(map->set(&key, test::make_map(inner_def)) == 0);
    CHECK_FALSE(gone.expired());
    CHECK(held->direct_value(0) != nullptr);
    map.reset();
    CHECK(gone.expired());
}

TEST_CASE("map-in-map: lookups race with the host's sets", "[maps][map_in_map][threads]") {
    const auto inner_def = map_def(MapType::array, 4, 8, 1);
    for (MapType type : {MapType::array_of_maps, MapType::hash_of_maps}) {
        auto map = outer(type, inner_def);
        std::vector<std::shared_ptr<Map>> inners;
        for (int i = 0; i < 4; ++i)
            inners.push_back(test::make_map(inner_def));
        std::atomic<bool> stop{false};
        std::thread setter([&] {
            uint32_t key = 2;
            for (int i = 0; !stop; ++i) {
                if (i % 5 == 4)
                    map->sys_delete(&key);
                else
                    map->set(&key, inners[i % 4]);
            }
        });
        uint64_t bad = 0;
        uint32_t key = 2;
        for (int i = 0; i < 100000; ++i) {
            auto* m = static_cast<Map*>(map->lookup(&key, 0));
            if (m && m != inners[0].get() && m != inners[1].get() && m != inners[2].get() &&
                m != inners[3].get())
                ++bad;
        }
        stop = true;
        setter.join();
        CHECK(bad == 0);
    }
}
