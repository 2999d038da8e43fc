// Output to the host: bpf_perf_event_output (kernel/trace/bpf_trace.c, the tracing types' form;
// the packet types append packet bytes in vm/progtypes/) and the ring buffer helpers
// (kernel/bpf/ringbuf.c).
#include "helpers/helper_errno.hpp"
#include "helpers/kernel_helpers.hpp"
#include "maps/perf_event_array.hpp"
#include "maps/ringbuf.hpp"

namespace ebpf::helpers {
namespace {

template <typename Kind>
Kind* map_of_kind(uint64_t r, MapType type, const char* helper, RunState* state) {
    auto* map = reinterpret_cast<Map*>(r);
    if (map->type() == type) return static_cast<Kind*>(map);
    state->fault(std::string(helper) + ": a " + map_type_name(map->type()) + " map is not a " +
                 map_type_name(type) + " map");
    return nullptr;
}

// bpf_ringbuf_submit and _discard find the ring from the record, as the kernel does from the
// record's header: the ring of the run's maps that reserved it.
void commit(uint64_t r1, uint64_t flags, bool discard, RunState* state) {
    auto* sample = reinterpret_cast<void*>(r1);
    for (auto list : {state->maps, state->handed_maps()}) {
        for (Map* map : list) {
            if (map->type() != MapType::ringbuf) continue;
            auto* ring = static_cast<RingBufMap*>(map);
            if (discard ? ring->discard(sample, flags) : ring->submit(sample, flags)) return;
        }
    }
    state->fault(std::string(discard ? "bpf_ringbuf_discard" : "bpf_ringbuf_submit") +
                 ": no ring buffer of the run reserved this record");
}

} // namespace

uint64_t perf_event_output(uint64_t, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                           RunState* state) {
    auto* map = map_of_kind<PerfEventArrayMap>(r2, MapType::perf_event_array,
                                               "bpf_perf_event_output", state);
    if (!map) return 0;
    if (r3 & ~BPF_F_INDEX_MASK) return static_cast<uint64_t>(-herr::einval);
    return static_cast<uint64_t>(
        map->output(state->cpu, r3, reinterpret_cast<const void*>(r4), r5));
}

uint64_t ringbuf_output(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t,
                        RunState* state) {
    auto* ring = map_of_kind<RingBufMap>(r1, MapType::ringbuf, "bpf_ringbuf_output", state);
    if (!ring) return 0;
    return static_cast<uint64_t>(ring->output(reinterpret_cast<const void*>(r2), r3, r4));
}

uint64_t ringbuf_reserve(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t, uint64_t,
                         RunState* state) {
    auto* ring = map_of_kind<RingBufMap>(r1, MapType::ringbuf, "bpf_ringbuf_reserve", state);
    if (!ring) return 0;
    return reinterpret_cast<uint64_t>(ring->reserve(r2, r3));
}

uint64_t ringbuf_submit(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, RunState* state) {
    commit(r1, r2, false, state);
    return 0;
}

uint64_t ringbuf_discard(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, RunState* state) {
    commit(r1, r2, true, state);
    return 0;
}

uint64_t ringbuf_query(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, RunState* state) {
    auto* ring = map_of_kind<RingBufMap>(r1, MapType::ringbuf, "bpf_ringbuf_query", state);
    if (!ring) return 0;
    return ring->query(r2);
}

} // namespace ebpf::helpers
