#include "helpers/run_state.hpp"

#include "maps/map.hpp"

namespace ebpf {

bool RunState::map_owns(uint64_t addr, uint64_t len, bool write) const {
    for (const Map* m : maps)
        if (m->owns(addr, len, write)) return true;
    return false;
}

} // namespace ebpf
