// bpf_map_lookup_elem through the JIT: where the lddw just before the call names the map, the code
// calls the map's direct lookup (Map::direct_lookup, the kernel's map_gen_lookup); elsewhere, and
// for kinds without one, the helper. Either way the answers are the interpreter's.
#include "jit/jit.hpp"
#include "vm/isa/assembler.hpp"
#include "vm/vm.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace ebpf;

namespace {

std::shared_ptr<Map> make(MapType type, uint32_t key_size, uint32_t flags = 0) {
    MapDef def;
    def.type = type;
    def.key_size = key_size;
    def.value_size = 8;
    def.max_entries = 16;
    def.map_flags = flags;
    auto map = create_map(def);
    REQUIRE(map.ok());
    return *map;
}

// Looks up the 8-byte key `key` (for the trie: prefix length 32 and 4 address bytes) in map 0
// and returns the value, or 99 when there is none; map 1 when r1 on entry is odd (a map the JIT
// cannot know when compiling).
constexpr const char* program = R"(
        r6 = r1
        r2 = r10
        r2 += -8
        *(u64 *)(r2 + 0) = r6
        if r6 > 1 goto direct
        r1 = map[idx:0]
        if r6 == 0 goto call
        r1 = map[idx:1]
    call:
        call bpf_map_lookup_elem#1
        goto done
    direct:
        r1 = map[idx:0]
        call bpf_map_lookup_elem#1
    done:
        if r0 == 0 goto none
        r0 = *(u64 *)(r0 + 0)
        exit
    none:
        r0 = 99
        exit
)";

void check_lookups(std::vector<Map*> maps, const std::vector<uint64_t>& keys) {
    Vm vm;
    auto insns = assemble(program);
    INFO((insns ? std::string() : insns.error().to_string()));
    REQUIRE(insns.ok());
    auto prog = Program::load(*insns, vm.helpers(), maps);
    INFO((prog ? std::string() : prog.error().to_string()));
    REQUIRE(prog.ok());
    auto jitted = jit_compile(*prog);
    REQUIRE(jitted.ok());
    for (uint64_t key : keys) {
        RunArgs args;
        args.r1 = key;
        RunState a, b;
        auto expected = interpret(*prog, args, a);
        auto got = jitted->run(args, b);
        INFO("key " << key);
        REQUIRE(expected.ok());
        REQUIRE(got.ok());
        CHECK(got->r0 == expected->r0);
    }
}

} // namespace

TEST_CASE("map lookups in the JIT give the interpreter's answers, direct or through the helper") {
    auto hash = make(MapType::hash, 8);
    auto array = make(MapType::array, 4);
    auto percpu = make(MapType::percpu_hash, 8);
    auto trie = make(MapType::lpm_trie, 8, BPF_F_NO_PREALLOC);
    const uint64_t trie_key = 32 | uint64_t{0x0000000a} << 32, route = 8 | uint64_t{0x0a} << 32;
    for (uint64_t key : {uint64_t{0}, uint64_t{1}, uint64_t{5}, uint64_t{1} << 40}) {
        const uint64_t value = key * 3 + 1;
        REQUIRE(hash->update(&key, &value, BPF_ANY, 0) == 0);
        REQUIRE(percpu->update(&key, &value, BPF_ANY, 0) == 0);
        if (key < 16) REQUIRE(array->update(&key, &value, BPF_ANY, 0) == 0);
    }
    const uint64_t next_hop = 42;
    REQUIRE(trie->update(&route, &next_hop, BPF_ANY, 0) == 0);
    const std::vector<uint64_t> keys = {0, 1, 2, 5, 6, 15, 16, uint64_t{1} << 40, trie_key};
    check_lookups({hash.get(), array.get()}, keys);
    check_lookups({array.get(), hash.get()}, keys);
    check_lookups({percpu.get(), hash.get()}, keys);
    check_lookups({trie.get(), percpu.get()}, keys);
}
