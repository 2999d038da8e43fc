#include "tests/progs/map_dump.hpp"

#include <algorithm>

namespace oracle {
namespace {

using ebpf::MapType;

// A map that answers next_key forever would hang the test: no map has more elements than this.
constexpr size_t max_elements = 1 << 16;

std::string value_text(const MapView& map, const Bytes& value) {
    if (!is_percpu(map.type())) return hex(value);
    const size_t stride = (map.value_size() + 7) & ~size_t{7};
    std::string s;
    for (uint32_t cpu = 0; cpu < map.ncpus(); ++cpu) {
        if (cpu) s += ' ';
        s += "cpu" + std::to_string(cpu) + ":" + hex(value.data() + cpu * stride, map.value_size());
    }
    return s;
}

std::string element_line(const Bytes& key, const std::string& value) {
    return "key " + hex(key) + " => " + value;
}

Dump dump_elements(MapView& map, bool keys_only) {
    const size_t value_bytes = is_percpu(map.type())
                                   ? ((map.value_size() + 7) & ~size_t{7}) * map.ncpus()
                                   : map.value_size();
    Dump dump;
    Bytes key(map.key_size()), next(map.key_size()), value(value_bytes);
    const void* prev = nullptr;
    for (size_t n = 0; n < max_elements; ++n) {
        const long err = map.next_key(prev, next.data());
        if (err == -2) break; // ENOENT: the last key
        if (err) {
            dump.push_back("get_next_key failed: " + std::to_string(err));
            break;
        }
        key = next;
        prev = key.data();
        if (keys_only) {
            dump.push_back("key " + hex(key));
            continue;
        }
        const long lerr = map.lookup(key.data(), value.data());
        dump.push_back(element_line(key, lerr ? "lookup failed: " + std::to_string(lerr)
                                              : value_text(map, value)));
    }
    const bool indexed = map.type() == MapType::array || map.type() == MapType::percpu_array;
    if (!indexed) std::sort(dump.begin(), dump.end());
    return dump;
}

// Pops every value, then pushes them back so the program finds the map as it left it.
Dump dump_queue(MapView& map) {
    std::vector<Bytes> values;
    Bytes value(map.value_size());
    while (values.size() < map.max_entries() && map.pop(value.data()) == 0)
        values.push_back(value);
    Dump dump;
    for (const auto& v : values)
        dump.push_back(hex(v));
    // A queue gives its oldest first, a stack its newest: push back the oldest first.
    if (map.type() == MapType::stack) std::reverse(values.begin(), values.end());
    for (const auto& v : values)
        if (long err = map.push(v.data()))
            dump.push_back("push back failed: " + std::to_string(err));
    return dump;
}

} // namespace

Dump expected_dump(const std::vector<std::pair<Bytes, Bytes>>& elements, bool indexed) {
    Dump dump;
    for (const auto& [key, value] : elements)
        dump.push_back(element_line(key, hex(value)));
    if (!indexed) std::sort(dump.begin(), dump.end());
    return dump;
}

bool is_percpu(MapType type) {
    return type == MapType::percpu_array || type == MapType::percpu_hash ||
           type == MapType::lru_percpu_hash;
}

Dump dump_map(MapView& map) {
    switch (map.type()) {
    case MapType::prog_array:
    case MapType::array_of_maps: return {};
    case MapType::hash_of_maps: return dump_elements(map, true);
    case MapType::queue:
    case MapType::stack: return dump_queue(map);
    case MapType::ringbuf:
    case MapType::perf_event_array: {
        Dump dump;
        for (const auto& r : map.consume()) {
            const std::string where =
                map.type() == MapType::perf_event_array ? "cpu" + std::to_string(r.cpu) + " " : "";
            dump.push_back(where + "record " + hex(r.data));
        }
        return dump;
    }
    default: return dump_elements(map, false);
    }
}

} // namespace oracle
