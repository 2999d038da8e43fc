#include "helpers/run_state.hpp"

#include "helpers/sock.hpp"

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

namespace {

// The sockets a run may see: the context's, the table's, and the listeners of the table's request
// sockets (which lookups give for them).
template <typename Fn> bool any_sock(const RunState& state, Fn&& fn) {
    if (state.ctx_sock && fn(*state.ctx_sock)) return true;
    for (const Sock* s : state.sockets)
        if (fn(*s) || (s->listener && fn(*s->listener))) return true;
    return false;
}

} // namespace

bool RunState::sock_owns(uint64_t addr, uint64_t len) const {
    return any_sock(*this, [&](const Sock& s) {
        return MemoryRegion{s.sk_view(), sizeof s.sk, false}.contains(addr, len) ||
               MemoryRegion{s.tcp_view(), sizeof s.tcp, false}.contains(addr, len);
    });
}

bool RunState::knows_sock_view(uint64_t addr) const {
    return any_sock(*this,
                    [&](const Sock& s) { return addr == s.sk_view() || addr == s.tcp_view(); });
}

bool RunState::knows_map(const Map* map) const {
    return std::find(maps.begin(), maps.end(), map) != maps.end() ||
           std::find(handed_maps_.begin(), handed_maps_.end(), map) != handed_maps_.end();
}

void RunState::note_handed_map(Map* map) {
    if (!knows_map(map)) handed_maps_.push_back(map);
}

int64_t load_packet_neg(const RunState& state, int64_t k, uint32_t size) {
    const uint8_t* p = state.load_pointer_neg ? state.load_pointer_neg(state, k, size) : nullptr;
    if (!p) return -1;
    switch (size) {
    case 1: return p[0];
    case 2: return p[0] << 8 | p[1];
    default: return int64_t{p[0]} << 24 | p[1] << 16 | p[2] << 8 | p[3];
    }
}

} // namespace ebpf
