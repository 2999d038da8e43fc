#include "cli/run/maps_json.hpp"

#include "cli/io.hpp"
#include "maps/kernel_errno.hpp"
#include "maps/map_in_map.hpp"
#include "maps/prog_array.hpp"
#include "maps/ringbuf.hpp"

#include <algorithm>
#include <cstring>

namespace ebpf::cli::run {
namespace {

using json = nlohmann::ordered_json;

bool is_percpu(MapType type) {
    return type == MapType::percpu_array || type == MapType::percpu_hash ||
           type == MapType::lru_percpu_hash || type == MapType::percpu_cgroup_storage;
}

bool is_map_in_map(MapType type) {
    return type == MapType::array_of_maps || type == MapType::hash_of_maps;
}

// The map a --map-init name means: libbpf's name, or a global-data section's.
std::shared_ptr<Map> find_map(const LoadedObject& obj, const std::string& name) {
    if (auto map = obj.map(name)) return map;
    for (size_t i = 0; i < obj.map_specs().size(); ++i)
        if (obj.map_specs()[i].global_data && obj.map_specs()[i].section == name)
            return obj.maps()[i];
    return nullptr;
}

std::string name_of(const Map* map, const LoadedObject& obj) {
    for (const auto& m : obj.maps())
        if (m && m.get() == map) return m->def().name;
    return "(a map not in the object)";
}

// One entry of one map: where a failure points.
struct EntryRef {
    const MapInit& init;
    const std::string& map;
    size_t index;

    Failure fail(const std::string& what) const {
        return Failure{Exit::usage, "--map-init " + init.path + ": map '" + map + "': entry " +
                                        std::to_string(index) + ": " + what};
    }
};

OrFailure<std::vector<uint8_t>> hex_field(const EntryRef& at, const json& entry, const char* field,
                                          uint32_t size) {
    if (!entry[field].is_string()) return at.fail(std::string(field) + " must be a hex string");
    auto bytes = parse_hex(entry[field].get<std::string>());
    if (!bytes) return at.fail(std::string(field) + ": " + bytes.error().message);
    if (bytes->size() != size)
        return at.fail(std::string(field) + " is " + std::to_string(bytes->size()) +
                       " bytes, the map's are " + std::to_string(size));
    return std::move(*bytes);
}

Stop refused(const EntryRef& at, long err) {
    if (err == 0) return std::nullopt;
    return at.fail(std::string("the map refused it (") + kerr::name(err) + ")");
}

// A key/value, key/values or key/inner entry, or a pushed value.
Stop apply_data(const EntryRef& at, const json& e, Map& map, const LoadedObject& obj) {
    const MapDef& d = map.def();
    if (!e.contains("key")) {
        if (!e.contains("value") || e.size() != 1)
            return at.fail("give {\"key\", \"value\"}, {\"key\", \"values\"}, {\"key\", "
                           "\"prog\"}, {\"key\", \"inner\"} or {\"value\"}");
        if (d.type != MapType::queue && d.type != MapType::stack)
            return at.fail("only queues and stacks take a value without a key");
        auto value = hex_field(at, e, "value", d.value_size);
        if (auto* f = std::get_if<Failure>(&value)) return *f;
        return refused(at, map.sys_update(nullptr, std::get<0>(value).data(), BPF_ANY));
    }
    if (e.size() != 2) return at.fail("an entry has a key and one of value, values, prog, inner");
    auto key = hex_field(at, e, "key", d.key_size);
    if (auto* f = std::get_if<Failure>(&key)) return *f;
    const std::vector<uint8_t>& k = std::get<0>(key);

    if (e.contains("inner")) {
        if (!is_map_in_map(d.type)) return at.fail("only map-in-maps take an inner map");
        if (!e["inner"].is_string()) return at.fail("inner must be a map name");
        auto inner = find_map(obj, e["inner"].get<std::string>());
        if (!inner) return at.fail("no map '" + e["inner"].get<std::string>() + "'");
        return refused(at, static_cast<MapInMap&>(map).set(k.data(), inner));
    }
    if (e.contains("prog")) {
        if (d.type != MapType::prog_array) return at.fail("only prog arrays take a program");
        return std::nullopt; // set by apply_map_progs, once the programs exist
    }
    if (is_map_in_map(d.type) || d.type == MapType::prog_array)
        return at.fail("this map's slots take \"inner\" or \"prog\"");
    const uint32_t ncpus = map.ncpus(), stride = map.percpu_value_stride();
    std::vector<uint8_t> value;
    if (e.contains("values")) {
        if (!is_percpu(d.type)) return at.fail("only per-CPU maps take values");
        if (!e["values"].is_array() || e["values"].size() != ncpus)
            return at.fail("values must list one value per CPU (" + std::to_string(ncpus) +
                           ", see --cpus)");
        value.assign(size_t{stride} * ncpus, 0);
        for (uint32_t cpu = 0; cpu < ncpus; ++cpu) {
            const json one{{"value", e["values"][cpu]}};
            auto v = hex_field(at, one, "value", d.value_size);
            if (auto* f = std::get_if<Failure>(&v)) return *f;
            std::copy(std::get<0>(v).begin(), std::get<0>(v).end(), value.begin() + cpu * stride);
        }
    } else if (e.contains("value")) {
        auto v = hex_field(at, e, "value", d.value_size);
        if (auto* f = std::get_if<Failure>(&v)) return *f;
        value = std::move(std::get<0>(v));
        if (is_percpu(d.type)) { // one value for every CPU
            std::vector<uint8_t> all(size_t{stride} * ncpus, 0);
            for (uint32_t cpu = 0; cpu < ncpus; ++cpu)
                std::copy(value.begin(), value.end(), all.begin() + cpu * stride);
            value = std::move(all);
        }
    } else {
        return at.fail("an entry has a key and one of value, values, prog, inner");
    }
    return refused(at, map.sys_update(k.data(), value.data(), BPF_ANY));
}

Stop apply_prog(const EntryRef& at, const json& e, Map& map, const LoadedObject& obj) {
    if (!e.contains("prog")) return std::nullopt;
    if (!e["prog"].is_string()) return at.fail("prog must be a program name");
    const std::string name = e["prog"].get<std::string>();
    const LoadedProgram* p = obj.program(name);
    if (!p) return at.fail("no program '" + name + "'");
    if (!p->program) return at.fail("program '" + name + "' was refused by the verifier");
    auto key = hex_field(at, e, "key", map.def().key_size);
    if (auto* f = std::get_if<Failure>(&key)) return *f;
    uint32_t index;
    std::memcpy(&index, std::get<0>(key).data(), sizeof index);
    return refused(at, static_cast<ProgArrayMap&>(map).set(index, &*p->program));
}

template <typename Apply> Stop apply_each(const MapInit& init, const LoadedObject& obj, Apply f) {
    for (const auto& [name, entries] : init.doc.items()) {
        auto map = find_map(obj, name);
        if (!map)
            return Failure{Exit::usage,
                           "--map-init " + init.path + ": the object has no map '" + name + "'"};
        for (size_t i = 0; i < entries.size(); ++i)
            if (auto stop = f(EntryRef{init, name, i}, entries[i], *map, obj)) return stop;
    }
    return std::nullopt;
}

// Every key of a map, by get_next_key; none when the kind cannot be iterated.
std::optional<std::vector<std::vector<uint8_t>>> keys_of(Map& map) {
    std::vector<std::vector<uint8_t>> keys;
    std::vector<uint8_t> next(map.def().key_size);
    const void* prev = nullptr;
    // The bound stops a map that keeps changing under the walk.
    for (uint64_t n = 0; n <= uint64_t{map.def().max_entries}; ++n) {
        const long err = map.get_next_key(prev, next.data());
        if (err == -kerr::enoent) return keys;
        if (err) return keys.empty() ? std::nullopt : std::optional(keys);
        keys.push_back(next);
        prev = keys.back().data();
    }
    return keys;
}

json sorted(json entries) {
    std::sort(entries.begin(), entries.end(),
              [](const json& a, const json& b) { return a["key"] < b["key"]; });
    return entries;
}

// Queue and stack contents in pop order, put back as they were.
json elements_of(Map& map) {
    std::vector<std::vector<uint8_t>> popped;
    std::vector<uint8_t> value(map.def().value_size);
    while (map.pop(value.data()) == 0)
        popped.push_back(value);
    // A stack gives its newest first: push back from the oldest.
    if (map.type() == MapType::stack) {
        for (auto it = popped.rbegin(); it != popped.rend(); ++it)
            map.push(it->data(), BPF_ANY);
    } else {
        for (const auto& v : popped)
            map.push(v.data(), BPF_ANY);
    }
    json out = json::array();
    for (const auto& v : popped)
        out.push_back(to_hex(v.data(), v.size()));
    return out;
}

} // namespace

OrFailure<MapInit> read_map_init(const std::string& path) {
    auto bytes = read_file(path);
    if (!bytes) return Failure{Exit::usage, "--map-init " + bytes.error().to_string()};
    MapInit init{path, json::parse(bytes->begin(), bytes->end(), nullptr, false)};
    if (init.doc.is_discarded())
        return Failure{Exit::usage, "--map-init " + path + ": not valid JSON"};
    if (!init.doc.is_object())
        return Failure{Exit::usage, "--map-init " + path + ": expected {\"MAP\": [entries]}"};
    for (const auto& [name, entries] : init.doc.items()) {
        if (!entries.is_array())
            return Failure{Exit::usage, "--map-init " + path + ": map '" + name +
                                            "': expected an array of entries"};
        for (size_t i = 0; i < entries.size(); ++i)
            if (!entries[i].is_object())
                return Failure{Exit::usage, "--map-init " + path + ": map '" + name + "': entry " +
                                                std::to_string(i) + " is not an object"};
    }
    return init;
}

Stop apply_map_data(const MapInit& init, const LoadedObject& obj) {
    return apply_each(init, obj, apply_data);
}

Stop apply_map_progs(const MapInit& init, const LoadedObject& obj) {
    return apply_each(init, obj, apply_prog);
}

json map_json(const Map& cmap, const LoadedObject& obj) {
    // Reading a queue means popping it (and pushing back): the host's view is not const.
    Map& map = const_cast<Map&>(cmap);
    const MapDef& d = map.def();
    json out{{"type", map_type_name(d.type)}};
    switch (d.type) {
    case MapType::ringbuf: {
        json records = json::array();
        for (const auto& r : static_cast<RingBufMap&>(map).records())
            records.push_back(to_hex(r.data(), r.size()));
        out["records"] = records;
        return out;
    }
    case MapType::queue:
    case MapType::stack: out["elements"] = elements_of(map); return out;
    case MapType::prog_array: {
        json entries = json::array();
        auto& progs = static_cast<ProgArrayMap&>(map);
        for (uint32_t i = 0; i < d.max_entries; ++i) {
            const Program* p = progs.get(i);
            if (!p) continue;
            std::string name = "(a program not in the object)";
            for (const auto& lp : obj.programs())
                if (lp.program && &*lp.program == p) name = lp.name;
            entries.push_back({{"key", to_hex(reinterpret_cast<uint8_t*>(&i), 4)}, {"prog", name}});
        }
        out["entries"] = sorted(entries);
        return out;
    }
    default: break;
    }
    auto keys = keys_of(map);
    if (!keys || d.type == MapType::perf_event_array) return out;
    json entries = json::array();
    for (auto& key : *keys) {
        const std::string k = to_hex(key.data(), key.size());
        if (is_map_in_map(d.type)) {
            if (Map* inner = static_cast<MapInMap&>(map).get(key.data()))
                entries.push_back({{"key", k}, {"inner", name_of(inner, obj)}});
            continue;
        }
        const uint32_t stride = map.percpu_value_stride();
        std::vector<uint8_t> value(is_percpu(d.type) ? size_t{stride} * map.ncpus() : d.value_size);
        if (map.sys_lookup(key.data(), value.data()) != 0) continue; // deleted meanwhile
        if (is_percpu(d.type)) {
            json values = json::array();
            for (uint32_t cpu = 0; cpu < map.ncpus(); ++cpu)
                values.push_back(to_hex(value.data() + size_t{cpu} * stride, d.value_size));
            entries.push_back({{"key", k}, {"values", values}});
        } else {
            entries.push_back({{"key", k}, {"value", to_hex(value.data(), value.size())}});
        }
    }
    out["entries"] = sorted(entries);
    return out;
}

json all_maps_json(const LoadedObject& obj) {
    json out = json::object();
    for (const auto& m : obj.maps())
        if (m) out[m->def().name] = map_json(*m, obj);
    return out;
}

json changed_maps(const json& before, const json& after) {
    json out = json::object();
    for (const auto& [name, contents] : after.items())
        if (!before.contains(name) || before[name] != contents) out[name] = contents;
    return out;
}

} // namespace ebpf::cli::run
