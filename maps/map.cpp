// The answers of a map kind that lacks an operation, and create_map with the kernel's checks
// (map_create() in kernel/bpf/syscall.c, then the kind's map_alloc_check).
#include "maps/map.hpp"

#include "maps/bloom_filter.hpp"
#include "maps/map_impl.hpp"
#include "maps/stack_trace.hpp"

#include <iterator>
#include <new>

namespace ebpf {

using namespace detail;

// The program's view: the verifier keeps programs away from what a kind does not do.
void* Map::lookup(const void*, uint32_t) {
    return nullptr;
}
long Map::update(const void*, const void*, uint64_t, uint32_t) {
    return -kerr::eopnotsupp;
}
long Map::erase(const void*) {
    return -kerr::eopnotsupp;
}
long Map::push(const void*, uint64_t) {
    return -kerr::eopnotsupp;
}
long Map::pop(void*) {
    return -kerr::eopnotsupp;
}
long Map::peek(void*) {
    return -kerr::eopnotsupp;
}

// The syscall's view: -ENOTSUPP is what the kernel's syscall layer answers for a missing op.
long Map::sys_lookup(const void*, void*) {
    return -kerr::enotsupp;
}
long Map::sys_update(const void*, const void*, uint64_t) {
    return -kerr::enotsupp;
}
long Map::sys_delete(const void*) {
    return -kerr::enotsupp;
}
long Map::get_next_key(const void*, void*) {
    return -kerr::enotsupp;
}
long Map::sys_lookup_and_delete(const void*, void*) {
    if (long err = sys_read_perm(def_)) return err;
    if (long err = sys_write_perm(def_)) return err;
    return -kerr::enotsupp;
}

bool Map::owns(uint64_t, uint64_t, bool) const {
    return false;
}
uint8_t* Map::direct_value(uint32_t) {
    return nullptr;
}

const char* kerr::name(long err) {
    switch (err < 0 ? -err : err) {
    case eperm: return "EPERM";
    case enoent: return "ENOENT";
    case e2big: return "E2BIG";
    case ebadf: return "EBADF";
    case eagain: return "EAGAIN";
    case enomem: return "ENOMEM";
    case eacces: return "EACCES";
    case efault: return "EFAULT";
    case eexist: return "EEXIST";
    case enodev: return "ENODEV";
    case einval: return "EINVAL";
    case enospc: return "ENOSPC";
    case eoverflow: return "EOVERFLOW";
    case eopnotsupp: return "EOPNOTSUPP";
    case enotsupp: return "ENOTSUPP";
    default: return "errno";
    }
}

const char* map_type_name(MapType type) {
    static constexpr const char* names[] = {
        "unspec",
        "hash",
        "array",
        "prog_array",
        "perf_event_array",
        "percpu_hash",
        "percpu_array",
        "stack_trace",
        "cgroup_array",
        "lru_hash",
        "lru_percpu_hash",
        "lpm_trie",
        "array_of_maps",
        "hash_of_maps",
        "devmap",
        "sockmap",
        "cpumap",
        "xskmap",
        "sockhash",
        "cgroup_storage",
        "reuseport_sockarray",
        "percpu_cgroup_storage",
        "queue",
        "stack",
        "sk_storage",
        "devmap_hash",
        "struct_ops",
        "ringbuf",
        "inode_storage",
        "task_storage",
        "bloom_filter",
        "user_ringbuf",
        "cgrp_storage",
        "arena",
    };
    const auto i = static_cast<uint32_t>(type);
    return i < std::size(names) ? names[i] : "unknown";
}

bool map_type_supported(MapType type) {
    switch (type) {
    case MapType::array:
    case MapType::percpu_array:
    case MapType::prog_array:
    case MapType::perf_event_array:
    case MapType::array_of_maps:
    case MapType::hash:
    case MapType::percpu_hash:
    case MapType::lru_hash:
    case MapType::lru_percpu_hash:
    case MapType::hash_of_maps:
    case MapType::lpm_trie:
    case MapType::queue:
    case MapType::stack:
    case MapType::ringbuf:
    case MapType::devmap:
    case MapType::devmap_hash:
    case MapType::cpumap:
    case MapType::xskmap:
    case MapType::stack_trace:
    case MapType::bloom_filter: return true;
    default: return false;
    }
}

namespace {

DefCheck kind_alloc_check(const MapDef& def) {
    switch (def.type) {
    case MapType::array:
    case MapType::percpu_array: return array_map_alloc_check(def);
    case MapType::prog_array:
    case MapType::perf_event_array:
    case MapType::array_of_maps: return fd_array_map_alloc_check(def);
    case MapType::hash:
    case MapType::percpu_hash:
    case MapType::lru_hash:
    case MapType::lru_percpu_hash: return htab_map_alloc_check(def);
    case MapType::hash_of_maps:
        if (def.value_size != 4) return DefError{kerr::einval, "value_size must be 4 (a map fd)"};
        return htab_map_alloc_check(def);
    case MapType::lpm_trie: return trie_alloc_check(def);
    case MapType::queue:
    case MapType::stack: return queue_stack_map_alloc_check(def);
    case MapType::ringbuf: return ringbuf_map_alloc_check(def);
    case MapType::devmap:
    case MapType::devmap_hash: return dev_map_alloc_check(def);
    case MapType::cpumap: return cpu_map_alloc_check(def);
    case MapType::xskmap: return xsk_map_alloc_check(def);
    case MapType::stack_trace: return stack_map_alloc_check(def);
    case MapType::bloom_filter: return bloom_map_alloc_check(def);
    default: return DefError{kerr::einval, "map type not supported by this VM"};
    }
}

// map_check_btf(): what a bpf_spin_lock in the value requires.
DefCheck spin_lock_check(const MapDef& def) {
    if (def.spin_lock_off < 0) return std::nullopt;
    const auto off = static_cast<uint64_t>(def.spin_lock_off);
    if (off % 4 || off + 4 > def.value_size)
        return DefError{kerr::einval, "spin_lock_off must be 4-aligned and inside the value"};
    if (def.map_flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG))
        return DefError{kerr::eacces, "a bpf_spin_lock value excludes BPF_F_RDONLY_PROG and "
                                      "BPF_F_WRONLY_PROG"};
    if (def.type != MapType::hash && def.type != MapType::array)
        return DefError{kerr::eopnotsupp, "bpf_spin_lock is only allowed in hash and array maps"};
    return std::nullopt;
}

} // namespace

DefCheck detail::check_map_def(const MapDef& def, const MapOptions& options) {
    if (options.ncpus == 0) return DefError{kerr::einval, "ncpus must be at least 1"};
    if ((def.map_flags & BPF_F_RDONLY) && (def.map_flags & BPF_F_WRONLY))
        return DefError{kerr::einval, "map_flags has both BPF_F_RDONLY and BPF_F_WRONLY"};
    if (def.map_extra && def.type != MapType::bloom_filter)
        return DefError{kerr::einval, "map_extra is for bloom filters"};
    if (auto e = kind_alloc_check(def)) return e;
    return spin_lock_check(def);
}

Error detail::map_def_error(const MapDef& def, const DefError& e) {
    return Error{std::string(map_type_name(def.type)) + " map \"" + def.name + "\": " + e.what +
                     " (-" + kerr::name(e.err) + ")",
                 {}};
}

namespace {

Result<std::shared_ptr<Map>> construct_map(const MapDef& def,
                                           std::shared_ptr<Map> (*make)(const MapDef&, uint32_t),
                                           uint32_t ncpus) {
    try {
        return make(def, ncpus);
    } catch (const std::bad_alloc&) {
        return map_def_error(def, {kerr::enomem, "cannot preallocate the map's memory"});
    }
}

} // namespace

Result<std::shared_ptr<Map>> create_map(const MapDef& def, const MapOptions& options) {
    if (auto e = check_map_def(def, options)) return map_def_error(def, *e);
    switch (def.type) {
    case MapType::array:
    case MapType::percpu_array: return construct_map(def, make_array_map, options.ncpus);
    case MapType::hash:
    case MapType::percpu_hash: return construct_map(def, make_hash_map, options.ncpus);
    case MapType::lru_hash:
    case MapType::lru_percpu_hash: return construct_map(def, make_lru_hash_map, options.ncpus);
    case MapType::lpm_trie: return construct_map(def, make_lpm_trie, options.ncpus);
    case MapType::prog_array: return construct_map(def, make_prog_array, options.ncpus);
    case MapType::queue:
    case MapType::stack: return construct_map(def, make_queue_stack_map, options.ncpus);
    case MapType::ringbuf: return construct_map(def, make_ringbuf_map, options.ncpus);
    case MapType::perf_event_array: return construct_map(def, make_perf_event_array, options.ncpus);
    case MapType::devmap:
    case MapType::devmap_hash: return construct_map(def, make_devmap, options.ncpus);
    case MapType::cpumap: return construct_map(def, make_cpumap, options.ncpus);
    case MapType::xskmap: return construct_map(def, make_xskmap, options.ncpus);
    case MapType::stack_trace: return construct_map(def, make_stack_trace_map, options.ncpus);
    case MapType::bloom_filter: return construct_map(def, make_bloom_filter, options.ncpus);
    default: // array_of_maps, hash_of_maps: the kernel needs the inner map too (inner_map_fd)
        return map_def_error(def,
                             {kerr::einval, "a map-in-map needs an inner map: create_map_in_map"});
    }
}

} // namespace ebpf
