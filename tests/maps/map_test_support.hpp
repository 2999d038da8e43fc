// Shared by the maps tests: building definitions and maps.
#pragma once

#include "maps/kernel_errno.hpp"
#include "maps/map.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <memory>
#include <vector>

namespace ebpf::test {

inline MapDef map_def(MapType type, uint32_t key_size, uint32_t value_size, uint32_t max_entries,
                      uint32_t map_flags = 0) {
    MapDef def;
    def.type = type;
    def.key_size = key_size;
    def.value_size = value_size;
    def.max_entries = max_entries;
    def.map_flags = map_flags;
    def.name = "test";
    return def;
}

inline std::shared_ptr<Map> make_map(const MapDef& def, uint32_t ncpus = 1) {
    auto map = create_map(def, MapOptions{ncpus});
    INFO((map ? "" : map.error().to_string()));
    REQUIRE(map.ok());
    return *map;
}

template <typename T> std::vector<uint8_t> bytes_of(const T& v) {
    std::vector<uint8_t> out(sizeof(T));
    std::memcpy(out.data(), &v, sizeof(T));
    return out;
}

template <typename T> T load(const void* p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

} // namespace ebpf::test
