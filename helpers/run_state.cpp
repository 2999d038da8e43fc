#include "helpers/run_state.hpp"

#include "maps/map.hpp"
#include "maps/spin_lock.hpp"

#include <algorithm>

namespace ebpf {

RunState::~RunState() {
    if (held_spin_lock) release_bpf_spin_lock(held_spin_lock);
}

bool RunState::map_owns(uint64_t addr, uint64_t len, bool write) const {
    for (const Map* m : maps)
        if (m->owns(addr, len, write)) return true;
    for (const Map* m : handed_maps_)
        if (m->owns(addr, len, write)) return true;
    return false;
}

bool RunState::knows_map(const Map* map) const {
    return std::find(maps.begin(), maps.end(), map) != maps.end() ||
           std::find(handed_maps_.begin(), handed_maps_.end(), map) != handed_maps_.end();
}

void RunState::note_handed_map(Map* map) {
    if (!knows_map(map)) handed_maps_.push_back(map);
}

} // namespace ebpf
