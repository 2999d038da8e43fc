// Maps: BTF-defined `.maps` of several kinds, `__array(values, ...)` initialisers, spin locks,
// the legacy `maps` section, and global data as single-element arrays named as libbpf names them.
#include "tests/loader/loader_test.hpp"

#include <cstring>

using namespace ebpf;
using namespace ebpf::loader_test;

namespace {

MapDef def(MapType type, uint32_t key, uint32_t value, uint32_t max, uint32_t flags,
           std::string name, int32_t spin_lock_off = -1, int32_t timer_off = -1) {
    MapDef d;
    d.type = type;
    d.key_size = key;
    d.value_size = value;
    d.max_entries = max;
    d.map_flags = flags;
    d.spin_lock_off = spin_lock_off;
    d.timer_off = timer_off;
    d.name = std::move(name);
    return d;
}

void check_def(const MapDef& got, const MapDef& want) {
    INFO("map " << want.name);
    CHECK(got.name == want.name);
    CHECK(got.type == want.type);
    CHECK(got.key_size == want.key_size);
    CHECK(got.value_size == want.value_size);
    CHECK(got.max_entries == want.max_entries);
    CHECK(got.map_flags == want.map_flags);
    CHECK(got.spin_lock_off == want.spin_lock_off);
    CHECK(got.timer_off == want.timer_off);
}

template <typename T> T value_at(const std::vector<uint8_t>& bytes, size_t off) {
    T v;
    REQUIRE(off + sizeof(T) <= bytes.size());
    std::memcpy(&v, bytes.data() + off, sizeof(T));
    return v;
}

} // namespace

TEST_CASE("maps: BTF-defined maps in .maps order with libbpf's definitions", "[loader]") {
    const Object obj = load("maps");
    const std::vector<MapDef> expected = {
        def(MapType::prog_array, 4, 4, 4, 0, "jmp_table"),
        def(MapType::array, 4, 4, 2, 0, "inner_b"),
        def(MapType::array, 4, 4, 2, 0, "inner_a"),
        def(MapType::array_of_maps, 4, 4, 3, 0, "outer"),
        def(MapType::array, 4, 8, 16, 0, "counters"),
        def(MapType::hash, 16, 8, 1024, 0, "flows"),
        def(MapType::lpm_trie, 8, 4, 256, BPF_F_NO_PREALLOC, "routes"),
        def(MapType::hash, 4, 40, 8, 0, "locked", 8, 24),
        def(MapType::ringbuf, 0, 0, 16384, 0, "events"), // 10000 rounded up to 4 pages
        def(MapType::percpu_array, 4, 24, 4, 0, "scratch"),
        def(MapType::percpu_hash, 8, 16, 64, 0, "percpu_flows"),
    };
    REQUIRE(obj.maps.size() == expected.size());
    for (size_t i = 0; i < expected.size(); i++) {
        check_def(obj.maps[i].def, expected[i]);
        CHECK(obj.maps[i].section == ".maps");
        CHECK_FALSE(obj.maps[i].global_data);
        CHECK(obj.maps[i].initial_value.empty());
    }
    // Key and value types come from __type; __uint(key_size/value_size) leave them 0.
    CHECK(map(obj, "counters").btf_key_type_id != 0);
    CHECK(map(obj, "counters").btf_value_type_id != 0);
    CHECK(map(obj, "scratch").btf_key_type_id == 0);
    CHECK(map(obj, "scratch").btf_value_type_id == 0);
    CHECK(map(obj, "jmp_table").btf_value_type_id == 0);
    CHECK(map(obj, "outer").btf_value_type_id == 0);
}

TEST_CASE("maps: map_extra, pinning, qualified key and value types", "[loader]") {
    const Object obj = load("map_kinds");
    REQUIRE(obj.maps.size() == 4);
    check_def(obj.maps[0].def, def(MapType::bloom_filter, 0, 4, 100, 0, "bloom"));
    CHECK(obj.maps[0].map_extra == 3);
    check_def(obj.maps[1].def, def(MapType::hash_of_maps, 4, 4, 8, 0, "hash_of_maps"));
    REQUIRE(obj.maps[1].inner);
    check_def(*obj.maps[1].inner, def(MapType::hash, 4, 8, 4, 0, "hash_of_maps.inner"));
    CHECK(obj.maps[1].initial_slots.empty());
    // const __u64 key; a typedef of a const volatile struct of 12 bytes padded to 16.
    check_def(obj.maps[2].def, def(MapType::lru_hash, 8, 16, 32, 0, "pinned_lru"));
    CHECK(obj.maps[2].btf_key_type_id != 0);
    check_def(obj.maps[3].def, def(MapType::queue, 0, 8, 16, 0, "queue"));
    std::vector<std::string> names;
    for (const auto& ref : map_refs(obj, program(obj, "use_map_kinds")))
        names.push_back(ref.map);
    CHECK(names == std::vector<std::string>{"bloom", "hash_of_maps", "pinned_lru", "queue"});
}

TEST_CASE("maps: __array(values, ...) initialisers and the inner map definition", "[loader]") {
    const Object obj = load("maps");
    using Slots = std::vector<std::pair<uint32_t, std::string>>;
    CHECK(map(obj, "jmp_table").initial_slots == Slots{{0, "tail_a"}, {2, "tail_b"}});
    CHECK_FALSE(map(obj, "jmp_table").inner);

    const MapSpec& outer = map(obj, "outer");
    CHECK(outer.initial_slots == Slots{{1, "inner_b"}, {2, "inner_a"}});
    REQUIRE(outer.inner);
    check_def(*outer.inner, def(MapType::array, 4, 4, 2, 0, "outer.inner"));
    CHECK(map(obj, "counters").initial_slots.empty());
}

TEST_CASE("maps: lddw references resolve to map indices", "[loader]") {
    const Object obj = load("maps");
    const ProgramSpec& prog = program(obj, "use_maps");
    std::vector<std::string> names;
    for (const auto& ref : map_refs(obj, prog)) {
        CHECK(ref.src == BPF_PSEUDO_MAP_IDX);
        CHECK(prog.insns[ref.insn + 1].imm == 0);
        names.push_back(ref.map);
    }
    CHECK(names == std::vector<std::string>{"counters", "flows", "routes", "locked", "outer",
                                            "events", "jmp_table"});
    CHECK(program(obj, "tail_a").insns.size() == 2);
    CHECK(program(obj, "tail_b").insns.size() == 2);
}

TEST_CASE("maps: the legacy maps section", "[loader]") {
    const Object obj = load("legacy_maps");
    REQUIRE(obj.maps.size() == 2);
    check_def(obj.maps[0].def, def(MapType::hash, 4, 8, 64, 0, "legacy_hash"));
    check_def(obj.maps[1].def, def(MapType::array, 4, 16, 8, BPF_F_RDONLY_PROG, "legacy_array"));
    for (const auto& m : obj.maps)
        CHECK(m.section == "maps");
    std::vector<MapRef> refs = map_refs(obj, program(obj, "use_legacy"));
    REQUIRE(refs.size() == 2);
    CHECK(refs[0].map == "legacy_hash");
    CHECK(refs[1].map == "legacy_array");
    CHECK(refs[0].src == BPF_PSEUDO_MAP_IDX);
}

TEST_CASE("maps: global data sections become single-element arrays", "[loader]") {
    const Object obj = load("globals");
    constexpr uint32_t mmapable = BPF_F_MMAPABLE, rdonly = BPF_F_RDONLY_PROG;
    const std::vector<std::pair<MapDef, std::string>> expected = {
        {def(MapType::array, 4, 24, 1, rdonly | mmapable, "globals.rodata"), ".rodata"},
        {def(MapType::array, 4, 24, 1, mmapable, "globals.data"), ".data"},
        {def(MapType::array, 4, 4, 1, mmapable, ".data.custom"), ".data.custom"},
        // Only a hidden variable: nothing for user space to map.
        {def(MapType::array, 4, 4, 1, 0, ".data.hidden"), ".data.hidden"},
        {def(MapType::array, 4, 16, 1, mmapable, "globals.bss"), ".bss"},
        // String literals have no DATASEC, hence no BTF value type and no BPF_F_MMAPABLE.
        {def(MapType::array, 4, 8, 1, rdonly, ".rodata.str1.1"), ".rodata.str1.1"},
    };
    REQUIRE(obj.maps.size() == expected.size());
    for (size_t i = 0; i < expected.size(); i++) {
        check_def(obj.maps[i].def, expected[i].first);
        CHECK(obj.maps[i].section == expected[i].second);
        CHECK(obj.maps[i].global_data);
        CHECK(obj.maps[i].initial_value.size() == obj.maps[i].def.value_size);
    }
    CHECK(map(obj, "globals.rodata").btf_value_type_id != 0);
    CHECK(map(obj, ".rodata.str1.1").btf_value_type_id == 0);

    const auto& rodata = map(obj, "globals.rodata").initial_value;
    CHECK(value_at<uint32_t>(rodata, 0) == 7);
    CHECK(value_at<uint64_t>(rodata, 8) == 11);
    CHECK(value_at<uint64_t>(rodata, 16) == 22);
    const auto& data = map(obj, "globals.data").initial_value;
    CHECK(value_at<uint32_t>(data, 0) == 5);
    CHECK(value_at<uint64_t>(data, 8) == 1);
    CHECK(value_at<uint64_t>(data, 16) == 2);
    CHECK(value_at<uint32_t>(map(obj, ".data.custom").initial_value, 0) == 42);
    CHECK(value_at<uint32_t>(map(obj, ".data.hidden").initial_value, 0) == 9);
    CHECK(map(obj, "globals.bss").initial_value == std::vector<uint8_t>(16, 0));
    const auto& str = map(obj, ".rodata.str1.1").initial_value;
    CHECK(std::string(str.begin(), str.end()) == std::string("len %d\n\0", 8));
}

TEST_CASE("maps: global data references carry the map index and value offset", "[loader]") {
    const Object obj = load("globals");
    const ProgramSpec& prog = program(obj, "use_globals");
    std::vector<std::pair<std::string, int32_t>> refs;
    for (const auto& ref : map_refs(obj, prog)) {
        CHECK(ref.src == BPF_PSEUDO_MAP_IDX_VALUE);
        refs.emplace_back(ref.map, ref.offset);
    }
    const std::vector<std::pair<std::string, int32_t>> expected = {
        {"globals.data", 0},   // data_counter
        {"globals.rodata", 0}, // rodata_cfg
        {"globals.rodata", 8}, // rodata_table
        {"globals.bss", 0},    // bss_total
        {"globals.data", 8},   // data_pair
        {"globals.bss", 8},    // static bss_static: section symbol + addend 8
        {"globals.bss", 12},   // bss_hidden
        {".data.hidden", 0},   // hidden_only
        {".data.custom", 0},   // custom_value
        {".rodata.str1.1", 0}, // "len %d\n"
    };
    CHECK(refs == expected);
}

TEST_CASE("maps: global data map names fit libbpf's 15 characters", "[loader]") {
    const auto bytes = object_bytes("globals");
    auto names = [&](const std::string& object_name) {
        auto obj = load_elf(bytes, object_name);
        REQUIRE(obj);
        std::vector<std::string> v{obj->name};
        for (const auto& m : obj->maps)
            v.push_back(m.def.name);
        return v;
    };
    using V = std::vector<std::string>;
    CHECK(names("dir/a_very_long_object_name.bpf.o") ==
          V{"a_very_long_obj", "a_very_l.rodata", "a_very_l.data", ".data.custom", ".data.hidden",
            "a_very_l.bss", ".rodata.str1.1"});
    // Characters the kernel refuses in map names become '_'.
    CHECK(names("my-prog.o") == V{"my-prog", "my_prog.rodata", "my_prog.data", ".data.custom",
                                  ".data.hidden", "my_prog.bss", ".rodata.str1.1"});
}
