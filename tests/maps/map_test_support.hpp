// Shared by the maps tests: building definitions and maps.
#pragma once

#include "maps/kernel_errno.hpp"
#include "maps/map.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
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

// Two writers and two readers, each on its own thread and given its own seed (1-4), until `ms`
// milliseconds have passed; they run while `stop` is false.
template <typename Writer, typename Reader>
void race(std::atomic<bool>& stop, int ms, Writer writer, Reader reader) {
    std::thread w1(writer, 1), w2(writer, 2), r1(reader, 3), r2(reader, 4);
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    stop = true;
    w1.join();
    w2.join();
    r1.join();
    r2.join();
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
