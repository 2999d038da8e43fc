// BPF_MAP_TYPE_ARRAY_OF_MAPS and BPF_MAP_TYPE_HASH_OF_MAPS (kernel/bpf/map_in_map.c,
// arraymap.c, hashtab.c): outer maps whose values are maps, all alike the inner map template
// given at creation. A program's lookup gives the inner Map* (null when the slot is empty).
//
// The host sets slots with set(), under the kernel's compatibility checks (bpf_map_meta_equal:
// type, key_size, value_size, map_flags, bpf_spin_lock; and max_entries for arrays whose
// template lacks BPF_F_INNER_MAP). The kernel's syscall update takes a map fd and its lookup
// answers with a map id; this VM has neither, so sys_update answers as for a bad fd after the
// kernel's checks and sys_lookup is not offered. A map once set is kept alive until the outer
// map goes, since a program may still hold it after its slot changed (the kernel waits for an
// RCU grace period instead).
#pragma once

#include "maps/map.hpp"

#include <mutex>
#include <unordered_map>

namespace ebpf {

class MapInMap : public Map {
  public:
    const MapDef& inner_def() const { return inner_def_; }
    // Could inner stand in for the template?
    bool compatible(const Map& inner) const;

    // Sets key's slot to inner: 0, or -EINVAL (bad flags, null or incompatible map), and as an
    // update of the outer kind: -E2BIG, -EEXIST, -ENOENT.
    virtual long set(const void* key, std::shared_ptr<Map> inner, uint64_t flags = BPF_ANY) = 0;
    // The map in key's slot, or null.
    Map* get(const void* key) { return static_cast<Map*>(lookup(key, 0)); }

  protected:
    MapInMap(const MapDef& def, const MapDef& inner_def, uint32_t ncpus)
        : Map(def, ncpus), inner_def_(inner_def) {}
    void keep(std::shared_ptr<Map> inner);

  private:
    const MapDef inner_def_;
    std::mutex kept_lock_;
    std::unordered_map<const Map*, std::shared_ptr<Map>> kept_;
};

// def.type is array_of_maps or hash_of_maps (value_size 4, as for an fd); inner_def is the
// template, checked as create_map checks a map, and not a prog array (-ENOTSUPP) or a map-in-map
// (-EINVAL).
Result<std::shared_ptr<Map>> create_map_in_map(const MapDef& def, const MapDef& inner_def,
                                               const MapOptions& options = {});

} // namespace ebpf
