// create_map: the kernel's attribute checks, with messages naming the attribute.
#include "maps/map_in_map.hpp"
#include "tests/maps/map_test_support.hpp"

using namespace ebpf;
using test::map_def;

namespace {

std::string refusal(const MapDef& def, uint32_t ncpus = 1) {
    auto map = create_map(def, MapOptions{ncpus});
    return map.ok() ? std::string("created") : map.error().message;
}

} // namespace

TEST_CASE("create_map accepts what the kernel accepts", "[maps][create]") {
    const MapDef defs[] = {
        map_def(MapType::array, 4, 1, 1),
        map_def(MapType::array, 4, 8, 16, BPF_F_MMAPABLE | BPF_F_RDONLY_PROG),
        map_def(MapType::percpu_array, 4, 32768, 2),
        map_def(MapType::hash, 1, 1, 1, BPF_F_NO_PREALLOC | BPF_F_ZERO_SEED),
        map_def(MapType::percpu_hash, 8, 16, 4),
        map_def(MapType::lru_hash, 4, 4, 4, BPF_F_NO_COMMON_LRU),
        map_def(MapType::lru_percpu_hash, 4, 4, 4),
        map_def(MapType::lpm_trie, 8, 4, 4, BPF_F_NO_PREALLOC),
        map_def(MapType::prog_array, 4, 4, 4),
        map_def(MapType::perf_event_array, 4, 4, 4, BPF_F_PRESERVE_ELEMS),
        map_def(MapType::queue, 0, 4, 4),
        map_def(MapType::stack, 0, 4, 4),
        map_def(MapType::ringbuf, 0, 0, 4096),
        map_def(MapType::ringbuf, 0, 0, 1 << 16),
    };
    for (const auto& def : defs) {
        INFO(map_type_name(def.type));
        CHECK(refusal(def, 2) == "created");
    }
}

TEST_CASE("create_map refuses what the kernel refuses, naming the attribute", "[maps][create]") {
    struct Case {
        MapDef def;
        const char* attribute;
        const char* err;
    };
    const Case cases[] = {
        {map_def(MapType::array, 4, 4, 0), "max_entries", "-EINVAL"},
        {map_def(MapType::array, 8, 4, 1), "key_size", "-EINVAL"},
        {map_def(MapType::array, 4, 0, 1), "value_size", "-EINVAL"},
        {map_def(MapType::array, 4, 4, 1, 1u << 20), "map_flags", "-EINVAL"},
        {map_def(MapType::array, 4, 4, 1, BPF_F_RDONLY | BPF_F_WRONLY), "map_flags", "-EINVAL"},
        {map_def(MapType::array, 4, 4, 1, BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG), "map_flags",
         "-EINVAL"},
        {map_def(MapType::percpu_array, 4, 4, 1, BPF_F_MMAPABLE), "map_flags", "-EINVAL"},
        {map_def(MapType::percpu_array, 4, 4, 1, BPF_F_NUMA_NODE), "map_flags", "-EINVAL"},
        {map_def(MapType::array, 4, 4, 1, BPF_F_PRESERVE_ELEMS), "map_flags", "-EINVAL"},
        {map_def(MapType::percpu_array, 4, 32769, 1), "value_size", "-E2BIG"},
        {map_def(MapType::hash, 0, 4, 1), "key_size", "-EINVAL"},
        {map_def(MapType::hash, 4, 0, 1), "value_size", "-EINVAL"},
        {map_def(MapType::hash, 4, 4, 0), "max_entries", "-EINVAL"},
        {map_def(MapType::hash, 4, 4, 1, BPF_F_NO_COMMON_LRU), "map_flags", "-EINVAL"},
        {map_def(MapType::hash, 4, 4, 1, BPF_F_MMAPABLE), "map_flags", "-EINVAL"},
        {map_def(MapType::hash, 4, (1u << 22) - 52, 1), "value_size", "-E2BIG"},
        {map_def(MapType::hash, 4, 4, (1u << 31) + 1), "max_entries", "-E2BIG"},
        {map_def(MapType::percpu_hash, 4, 32769, 1), "value_size", "-E2BIG"},
        {map_def(MapType::lru_hash, 4, 4, 1, BPF_F_NO_PREALLOC), "map_flags", "-ENOTSUPP"},
        {map_def(MapType::lpm_trie, 8, 4, 1), "BPF_F_NO_PREALLOC", "-EINVAL"},
        {map_def(MapType::lpm_trie, 4, 4, 1, BPF_F_NO_PREALLOC), "key_size", "-EINVAL"},
        {map_def(MapType::lpm_trie, 261, 4, 1, BPF_F_NO_PREALLOC), "key_size", "-EINVAL"},
        {map_def(MapType::lpm_trie, 8, 0, 1, BPF_F_NO_PREALLOC), "value_size", "-EINVAL"},
        {map_def(MapType::prog_array, 4, 8, 1), "value_size", "-EINVAL"},
        {map_def(MapType::prog_array, 4, 4, 1, BPF_F_RDONLY_PROG), "map_flags", "-EINVAL"},
        {map_def(MapType::perf_event_array, 4, 4, 0), "max_entries", "-EINVAL"},
        {map_def(MapType::queue, 4, 4, 1), "key_size", "-EINVAL"},
        {map_def(MapType::stack, 0, 4, 0), "max_entries", "-EINVAL"},
        {map_def(MapType::queue, 0, (1u << 22) + 1, 1), "value_size", "-E2BIG"},
        {map_def(MapType::ringbuf, 0, 0, 4096 * 3), "max_entries", "-EINVAL"},
        {map_def(MapType::ringbuf, 0, 0, 2048), "max_entries", "-EINVAL"},
        {map_def(MapType::ringbuf, 4, 0, 4096), "key_size", "-EINVAL"},
        {map_def(MapType::cgroup_array, 4, 4, 1), "not supported", "-EINVAL"},
        {map_def(MapType::array_of_maps, 4, 4, 1), "inner map", "-EINVAL"},
    };
    for (const auto& c : cases) {
        const std::string message = refusal(c.def);
        INFO(map_type_name(c.def.type) << ": " << message);
        CHECK(message.find(c.attribute) != std::string::npos);
        CHECK(message.find(std::string("(") + c.err + ")") != std::string::npos);
        CHECK(message.find("\"test\"") != std::string::npos);
    }
    CHECK(refusal(map_def(MapType::array, 4, 4, 1), 0).find("ncpus") != std::string::npos);
}

TEST_CASE("create_map checks a bpf_spin_lock as the kernel's map_check_btf", "[maps][create]") {
    auto def = map_def(MapType::hash, 4, 16, 4);
    def.spin_lock_off = 4;
    CHECK(refusal(def) == "created");
    def.spin_lock_off = 2;
    CHECK(refusal(def).find("(-EINVAL)") != std::string::npos);
    def.spin_lock_off = 16;
    CHECK(refusal(def).find("(-EINVAL)") != std::string::npos);
    def.spin_lock_off = 0;
    def.map_flags = BPF_F_RDONLY_PROG;
    CHECK(refusal(def).find("(-EACCES)") != std::string::npos);
    def.map_flags = 0;
    def.type = MapType::percpu_hash;
    CHECK(refusal(def).find("(-EOPNOTSUPP)") != std::string::npos);
    def.type = MapType::lru_hash;
    CHECK(refusal(def).find("(-EOPNOTSUPP)") != std::string::npos);
}

TEST_CASE("create_map reports memory it cannot preallocate as -ENOMEM", "[maps][create]") {
    // 2^31 elements of 4 MiB: far more than any address space
    const std::string message = refusal(map_def(MapType::array, 4, 1u << 22, 1u << 31));
    CHECK(message.find("(-ENOMEM)") != std::string::npos);
}

TEST_CASE("map_type_name uses bpftool's names", "[maps][create]") {
    CHECK(std::string(map_type_name(MapType::hash)) == "hash");
    CHECK(std::string(map_type_name(MapType::lru_percpu_hash)) == "lru_percpu_hash");
    CHECK(std::string(map_type_name(MapType::ringbuf)) == "ringbuf");
    CHECK(std::string(map_type_name(MapType::arena)) == "arena");
    CHECK(std::string(map_type_name(static_cast<MapType>(99))) == "unknown");
}

TEST_CASE("kernel errno names", "[maps][create]") {
    CHECK(std::string(kerr::name(-kerr::enotsupp)) == "ENOTSUPP");
    CHECK(std::string(kerr::name(kerr::e2big)) == "E2BIG");
    CHECK(std::string(kerr::name(-9999)) == "errno");
}

TEST_CASE("the defaults of kinds without an operation", "[maps][create]") {
    auto rb = test::make_map(map_def(MapType::ringbuf, 0, 0, 4096));
    uint8_t buf[8] = {};
    CHECK(rb->lookup(buf, 0) == nullptr);
    CHECK(rb->update(buf, buf, 0, 0) == -kerr::eopnotsupp);
    CHECK(rb->erase(buf) == -kerr::eopnotsupp);
    CHECK(rb->push(buf, 0) == -kerr::eopnotsupp);
    CHECK(rb->pop(buf) == -kerr::eopnotsupp);
    CHECK(rb->peek(buf) == -kerr::eopnotsupp);
    CHECK(rb->sys_lookup(nullptr, buf) == -kerr::enotsupp);
    CHECK(rb->sys_update(nullptr, buf, 0) == -kerr::enotsupp);
    CHECK(rb->sys_delete(nullptr) == -kerr::enotsupp);
    CHECK(rb->get_next_key(nullptr, buf) == -kerr::enotsupp);
    CHECK(rb->sys_lookup_and_delete(nullptr, buf) == -kerr::enotsupp);
    CHECK(rb->direct_value(0) == nullptr);
}
