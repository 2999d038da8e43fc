// check_map_func_compatibility() and record_func_map()'s read-only check, for the map kinds and
// helpers of this project's tables.
#include "verifier/map_func.hpp"

#include "helpers/kernel_ids.hpp"

#include <algorithm>
#include <initializer_list>

namespace ebpf::verifier {
namespace {

using H = KernelHelper;

bool is_one_of(int32_t func_id, std::initializer_list<H> helpers) {
    return std::any_of(helpers.begin(), helpers.end(),
                       [&](H h) { return static_cast<int32_t>(h) == func_id; });
}

bool is_one_of(MapType type, std::initializer_list<MapType> types) {
    return std::find(types.begin(), types.end(), type) != types.end();
}

// From the map's side: the helpers a kind serves, when it serves only some. The kinds this VM
// does not create (sockmap, storages, ...) have their rows only on the helper's side.
bool map_allows(MapType type, int32_t func_id) {
    using M = MapType;
    switch (type) {
    case M::prog_array: return is_one_of(func_id, {H::tail_call});
    case M::perf_event_array:
        return is_one_of(func_id, {H::perf_event_read, H::perf_event_output, H::skb_output,
                                   H::perf_event_read_value, H::xdp_output});
    case M::ringbuf:
        return is_one_of(func_id, {H::ringbuf_output, H::ringbuf_reserve, H::ringbuf_query,
                                   H::ringbuf_reserve_dynptr, H::ringbuf_submit_dynptr,
                                   H::ringbuf_discard_dynptr});
    // A devmap lookup gives the read-only struct bpf_devmap_val; an xskmap lookup, the socket.
    case M::devmap:
    case M::devmap_hash:
    case M::xskmap: return is_one_of(func_id, {H::redirect_map, H::map_lookup_elem});
    case M::cpumap: return is_one_of(func_id, {H::redirect_map});
    case M::stack_trace: return is_one_of(func_id, {H::get_stackid});
    case M::bloom_filter: return is_one_of(func_id, {H::map_peek_elem, H::map_push_elem});
    case M::array_of_maps:
    case M::hash_of_maps: return is_one_of(func_id, {H::map_lookup_elem});
    case M::queue:
    case M::stack: return is_one_of(func_id, {H::map_peek_elem, H::map_pop_elem, H::map_push_elem});
    default: return true;
    }
}

// From the helper's side: the kinds a helper takes, when it takes only some.
bool func_allows(int32_t func_id, MapType type) {
    using M = MapType;
    switch (static_cast<H>(func_id)) {
    case H::tail_call: return type == M::prog_array;
    case H::perf_event_read:
    case H::perf_event_output:
    case H::perf_event_read_value:
    case H::skb_output:
    case H::xdp_output: return type == M::perf_event_array;
    case H::ringbuf_output:
    case H::ringbuf_reserve:
    case H::ringbuf_query:
    case H::ringbuf_reserve_dynptr:
    case H::ringbuf_submit_dynptr:
    case H::ringbuf_discard_dynptr: return type == M::ringbuf;
    case H::user_ringbuf_drain: return type == M::user_ringbuf;
    case H::get_stackid: return type == M::stack_trace;
    case H::current_task_under_cgroup:
    case H::skb_under_cgroup: return type == M::cgroup_array;
    case H::redirect_map: return is_one_of(type, {M::devmap, M::devmap_hash, M::cpumap, M::xskmap});
    case H::sk_redirect_map:
    case H::msg_redirect_map:
    case H::sock_map_update: return type == M::sockmap;
    case H::sk_redirect_hash:
    case H::msg_redirect_hash:
    case H::sock_hash_update: return type == M::sockhash;
    case H::get_local_storage: return type == M::cgroup_storage || type == M::percpu_cgroup_storage;
    case H::sk_select_reuseport:
        return is_one_of(type, {M::reuseport_sockarray, M::sockmap, M::sockhash});
    case H::map_pop_elem: return type == M::queue || type == M::stack;
    case H::map_peek_elem:
    case H::map_push_elem: return is_one_of(type, {M::queue, M::stack, M::bloom_filter});
    case H::map_lookup_percpu_elem:
        return is_one_of(type, {M::percpu_array, M::percpu_hash, M::lru_percpu_hash});
    case H::sk_storage_get:
    case H::sk_storage_delete: return type == M::sk_storage;
    case H::inode_storage_get:
    case H::inode_storage_delete: return type == M::inode_storage;
    case H::task_storage_get:
    case H::task_storage_delete: return type == M::task_storage;
    case H::cgrp_storage_get:
    case H::cgrp_storage_delete: return type == M::cgrp_storage;
    default: return true;
    }
}

} // namespace

bool map_func_compatible(MapType type, int32_t func_id) {
    return map_allows(type, func_id) && func_allows(func_id, type);
}

bool func_writes_map(int32_t func_id) {
    return is_one_of(func_id,
                     {H::map_delete_elem, H::map_update_elem, H::map_push_elem, H::map_pop_elem});
}

} // namespace ebpf::verifier
