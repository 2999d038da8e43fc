// The kernel's map numbering and flags (enum bpf_map_type and the BPF_F_* map and update flags of
// linux/bpf.h), stated here so nothing outside the kernel oracle includes a Linux header.
#pragma once

#include <cstdint>

namespace ebpf {

enum class MapType : uint32_t {
    unspec = 0,
    hash = 1,
    array = 2,
    prog_array = 3,
    perf_event_array = 4,
    percpu_hash = 5,
    percpu_array = 6,
    stack_trace = 7,
    cgroup_array = 8,
    lru_hash = 9,
    lru_percpu_hash = 10,
    lpm_trie = 11,
    array_of_maps = 12,
    hash_of_maps = 13,
    devmap = 14,
    sockmap = 15,
    cpumap = 16,
    xskmap = 17,
    sockhash = 18,
    cgroup_storage = 19,
    reuseport_sockarray = 20,
    percpu_cgroup_storage = 21,
    queue = 22,
    stack = 23,
    sk_storage = 24,
    devmap_hash = 25,
    struct_ops = 26,
    ringbuf = 27,
    inode_storage = 28,
    task_storage = 29,
    bloom_filter = 30,
    user_ringbuf = 31,
    cgrp_storage = 32,
    arena = 33,
};

// Map creation flags.
inline constexpr uint32_t BPF_F_NO_PREALLOC = 1u << 0, BPF_F_NO_COMMON_LRU = 1u << 1,
                          BPF_F_NUMA_NODE = 1u << 2, BPF_F_RDONLY = 1u << 3, BPF_F_WRONLY = 1u << 4,
                          BPF_F_STACK_BUILD_ID = 1u << 5, BPF_F_ZERO_SEED = 1u << 6,
                          BPF_F_RDONLY_PROG = 1u << 7, BPF_F_WRONLY_PROG = 1u << 8,
                          BPF_F_CLONE = 1u << 9, BPF_F_MMAPABLE = 1u << 10,
                          BPF_F_PRESERVE_ELEMS = 1u << 11, BPF_F_INNER_MAP = 1u << 12;

// Element update flags.
inline constexpr uint64_t BPF_ANY = 0, BPF_NOEXIST = 1, BPF_EXIST = 2, BPF_F_LOCK = 4;

// Ring buffer flags (bpf_ringbuf_output/submit/discard, bpf_ringbuf_query).
inline constexpr uint64_t BPF_RB_NO_WAKEUP = 1, BPF_RB_FORCE_WAKEUP = 2;
inline constexpr uint64_t BPF_RB_AVAIL_DATA = 0, BPF_RB_RING_SIZE = 1, BPF_RB_CONS_POS = 2,
                          BPF_RB_PROD_POS = 3;

// bpf_perf_event_output flags.
inline constexpr uint64_t BPF_F_INDEX_MASK = 0xffffffffULL, BPF_F_CURRENT_CPU = BPF_F_INDEX_MASK,
                          BPF_F_CTXLEN_MASK = 0xfffffULL << 32;

const char* map_type_name(MapType type); // "hash", "array", ... as bpftool prints them

} // namespace ebpf
