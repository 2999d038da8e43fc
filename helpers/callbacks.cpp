// Helpers that call back into the program (kernel/bpf/bpf_iter.c bpf_loop, and the maps'
// map_for_each_callback behind bpf_for_each_map_elem) through the engine's call_subprog.
#include "helpers/helper_errno.hpp"
#include "helpers/kernel_helpers.hpp"
#include "maps/map.hpp"

#include <cstring>
#include <optional>
#include <vector>

namespace ebpf::helpers {
namespace {

// BPF_MAX_LOOPS
constexpr uint64_t bpf_max_loops = 1u << 23;

bool has_engine(RunState* state, const char* helper) {
    if (state->call_subprog) return true;
    state->fault(std::string(helper) + ": the engine running the program runs no callbacks");
    return false;
}

// One callback on a map element. The key is a copy the callback may read, as the kernel's array
// iteration passes a key on its own stack; the value is the element's (this CPU's copy).
struct ElemVisitor {
    RunState* state;
    Map* map;
    uint64_t callback;
    uint64_t callback_ctx;

    // The callback's r0, or nothing when the run faulted.
    std::optional<uint64_t> visit(const void* key, void* value) {
        const size_t regions = state->region_count();
        state->allow(key, map->def().key_size, false);
        const uint64_t r0 = state->call_subprog(state, callback, reinterpret_cast<uint64_t>(map),
                                                reinterpret_cast<uint64_t>(key),
                                                reinterpret_cast<uint64_t>(value), callback_ctx, 0);
        state->drop_regions(regions);
        if (state->faulted()) return std::nullopt;
        return r0;
    }
};

// bpf_for_each_array_elem: every index, the one the callback stops at counted.
uint64_t for_each_array_elem(ElemVisitor& v) {
    uint64_t num_elems = 0;
    for (uint32_t i = 0; i < v.map->def().max_entries; ++i) {
        const uint32_t key = i;
        void* value = v.map->lookup(&key, v.state->cpu);
        ++num_elems;
        auto r0 = v.visit(&key, value);
        if (!r0) return 0;
        if (*r0) break;
    }
    return num_elems;
}

// bpf_for_each_hash_elem walks the buckets; this walks the keys present when it starts, in the
// map's key order, skipping those deleted before their turn (elements added meanwhile are not
// visited, as they may not be in the kernel either).
uint64_t for_each_hash_elem(ElemVisitor& v) {
    const uint32_t key_size = v.map->def().key_size;
    std::vector<uint8_t> keys, next(key_size);
    for (const void* prev = nullptr; v.map->get_next_key(prev, next.data()) == 0;) {
        keys.insert(keys.end(), next.begin(), next.end());
        prev = keys.data() + keys.size() - key_size;
    }
    uint64_t num_elems = 0;
    std::vector<uint8_t> key(key_size);
    for (size_t off = 0; off < keys.size(); off += key_size) {
        std::memcpy(key.data(), keys.data() + off, key_size);
        void* value = v.map->lookup(key.data(), v.state->cpu);
        if (!value) continue;
        ++num_elems;
        auto r0 = v.visit(key.data(), value);
        if (!r0) return 0;
        if (*r0) break;
    }
    return num_elems;
}

} // namespace

uint64_t loop(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t, RunState* state) {
    const auto nr_loops = static_cast<uint32_t>(r1);
    if (r4) return static_cast<uint64_t>(-herr::einval);
    if (nr_loops > bpf_max_loops) return static_cast<uint64_t>(-herr::e2big);
    if (!has_engine(state, "bpf_loop")) return 0;
    for (uint32_t i = 0; i < nr_loops; ++i) {
        const uint64_t r0 = state->call_subprog(state, r2, i, r3, 0, 0, 0);
        if (state->faulted()) return 0;
        // 0: go on; 1: stop
        if (r0) return i + 1;
    }
    return nr_loops;
}

uint64_t for_each_map_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t,
                           RunState* state) {
    Map* map = reinterpret_cast<Map*>(r1);
    if (r4) return static_cast<uint64_t>(-herr::einval);
    if (!has_engine(state, "bpf_for_each_map_elem")) return 0;
    ElemVisitor visitor{state, map, r2, r3};
    switch (map->type()) {
    case MapType::array:
    case MapType::percpu_array: return for_each_array_elem(visitor);
    case MapType::hash:
    case MapType::percpu_hash:
    case MapType::lru_hash:
    case MapType::lru_percpu_hash: return for_each_hash_elem(visitor);
    default:
        state->fault(std::string("bpf_for_each_map_elem: a ") + map_type_name(map->type()) +
                     " map has no for-each callback");
        return 0;
    }
}

} // namespace ebpf::helpers
