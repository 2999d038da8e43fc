// Which helpers a map may be passed to, as the kernel's check_map_func_compatibility() and
// record_func_map() decide when a helper call takes a map argument.
#pragma once

#include "maps/map_types.hpp"

#include <cstdint>

namespace ebpf::verifier {

// check_map_func_compatibility(): a map kind that serves only some helpers (a prog array only
// bpf_tail_call, a devmap only bpf_redirect_map and lookups, ...), and a helper that takes only
// some kinds (bpf_redirect_map only the redirect maps, ...). False: "cannot pass map_type %d into
// func %s#%d".
bool map_func_compatible(MapType type, int32_t func_id);

// record_func_map(): the helpers that write the map itself, which a map created with
// BPF_F_RDONLY_PROG refuses ("write into map forbidden").
bool func_writes_map(int32_t func_id);

} // namespace ebpf::verifier
