// The map helpers of kernel/bpf/helpers.c (bpf_map_*_elem, bpf_map_lookup_percpu_elem) and
// bpf_tail_call, which the kernel's engines run as an instruction and this VM as a helper that
// leaves the target for the engine.
#include "helpers/helper_errno.hpp"
#include "helpers/kernel_helpers.hpp"
#include "maps/prog_array.hpp"

namespace ebpf::helpers {
namespace {

Map* map_arg(uint64_t r) {
    return reinterpret_cast<Map*>(r);
}

bool is_map_in_map(MapType type) {
    return type == MapType::array_of_maps || type == MapType::hash_of_maps;
}

bool is_percpu(MapType type) {
    return type == MapType::percpu_array || type == MapType::percpu_hash ||
           type == MapType::lru_percpu_hash;
}

// A lookup's answer. A map of maps hands out a map, which a checked run may name from then on.
uint64_t looked_up(Map* map, void* value, RunState* state) {
    if (value && state->checked && is_map_in_map(map->type()))
        state->note_handed_map(static_cast<Map*>(value));
    return reinterpret_cast<uint64_t>(value);
}

// MAX_TAIL_CALL_CNT
constexpr uint32_t max_tail_call_cnt = 33;

} // namespace

uint64_t map_lookup_elem(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, RunState* state) {
    Map* map = map_arg(r1);
    return looked_up(map, map->lookup(reinterpret_cast<const void*>(r2), state->cpu), state);
}

uint64_t map_update_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t,
                         RunState* state) {
    return static_cast<uint64_t>(map_arg(r1)->update(
        reinterpret_cast<const void*>(r2), reinterpret_cast<const void*>(r3), r4, state->cpu));
}

uint64_t map_delete_elem(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, RunState*) {
    return static_cast<uint64_t>(map_arg(r1)->erase(reinterpret_cast<const void*>(r2)));
}

uint64_t map_push_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t, uint64_t, RunState*) {
    return static_cast<uint64_t>(map_arg(r1)->push(reinterpret_cast<const void*>(r2), r3));
}

uint64_t map_pop_elem(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, RunState*) {
    return static_cast<uint64_t>(map_arg(r1)->pop(reinterpret_cast<void*>(r2)));
}

uint64_t map_peek_elem(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, RunState*) {
    return static_cast<uint64_t>(map_arg(r1)->peek(reinterpret_cast<void*>(r2)));
}

// Only per-CPU kinds have map_lookup_percpu_elem; the verifier refuses the others.
uint64_t map_lookup_percpu_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t, uint64_t,
                                RunState* state) {
    Map* map = map_arg(r1);
    if (!is_percpu(map->type())) {
        state->fault(std::string("bpf_map_lookup_percpu_elem: a ") + map_type_name(map->type()) +
                     " map has no per-CPU values");
        return 0;
    }
    const auto cpu = static_cast<uint32_t>(r3);
    if (cpu >= map->ncpus()) return 0; // cpu >= nr_cpu_ids
    return looked_up(map, map->lookup(reinterpret_cast<const void*>(r2), cpu), state);
}

// The kernel's order: an index out of range or the chain's limit falls through without counting;
// an empty slot falls through after counting.
uint64_t tail_call(uint64_t, uint64_t r2, uint64_t r3, uint64_t, uint64_t, RunState* state) {
    Map* map = map_arg(r2);
    if (map->type() != MapType::prog_array) {
        state->fault(std::string("bpf_tail_call: a ") + map_type_name(map->type()) +
                     " map is not a prog array");
        return 0;
    }
    const auto index = static_cast<uint32_t>(r3);
    if (index >= map->def().max_entries) return 0;
    if (state->tail_call_cnt >= max_tail_call_cnt) return 0;
    ++state->tail_call_cnt;
    state->pending_tail_call = static_cast<ProgArrayMap*>(map)->get(index);
    return 0;
}

} // namespace ebpf::helpers
