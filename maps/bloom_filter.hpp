// BPF_MAP_TYPE_BLOOM_FILTER (kernel/bpf/bloom_filter.c): a bit array with nr_hash_funcs hashes
// (map_extra's low 4 bits, 5 when 0). Pushing a value sets its bits; peeking answers 0 when all
// of them are set (the value may have been pushed) and -ENOENT otherwise (it was not). There
// are no keys and nothing to list or delete.
#pragma once

#include "maps/map_impl.hpp"

namespace ebpf {

namespace detail {
DefCheck bloom_map_alloc_check(const MapDef& def);
std::shared_ptr<Map> make_bloom_filter(const MapDef& def, uint32_t ncpus);
} // namespace detail

} // namespace ebpf
