// BPF_MAP_TYPE_PERF_EVENT_ARRAY (kernel/bpf/arraymap.c, bpf_perf_event_output in
// kernel/trace/bpf_trace.c): programs send records to the perf event of a slot; the host reads
// them per CPU.
//
// In the kernel a slot holds a perf event that user space opened and stored by fd, typically
// one per CPU, and bpf_perf_event_output works only from the CPU its event is on. This VM has
// no perf events: every slot below ncpus is open from the start, slot i as an event on CPU i,
// with a ring of buffer_size bytes (as perf_buffer's mmap ring). A record takes the room the
// kernel's PERF_RECORD_SAMPLE with PERF_SAMPLE_RAW takes: 8-byte header, u32 size, the data,
// rounded up to 8 bytes; one that does not fit is lost (-ENOSPC) and counted.
#pragma once

#include "maps/map_impl.hpp"

#include <atomic>
#include <vector>

namespace ebpf {

class PerfEventArrayMap final : public Map {
  public:
    static constexpr uint64_t buffer_size = 64 * detail::PAGE_SIZE;

    PerfEventArrayMap(const MapDef& def, uint32_t ncpus);

    // --- The program's view: bpf_perf_event_output() run on cpu ---
    // flags: the slot (BPF_F_INDEX_MASK bits; BPF_F_CURRENT_CPU: the slot of cpu), and the
    // BPF_F_CTXLEN_MASK bits, which the skb/xdp output helpers use for context bytes they
    // append to data themselves. 0, or -EINVAL (unknown flags), -E2BIG (slot out of range),
    // -ENOENT (slot closed), -EOPNOTSUPP (slot's event on another CPU), -ENOSPC (buffer full).
    long output(uint32_t cpu, uint64_t flags, const void* data, uint64_t size);

    // --- The host's view ---
    // The records sent to slot cpu's buffer, oldest first, removed from it.
    std::vector<std::vector<uint8_t>> consume(uint32_t cpu);
    // How many records did not fit in slot cpu's buffer.
    uint64_t lost(uint32_t cpu) const;

    // The syscall's view: delete closes a slot (-ENOENT when closed already); update would store
    // a perf event fd, which this VM does not have.
    long sys_update(const void* key, const void* value, uint64_t flags) override;
    long sys_delete(const void* key) override;
    long get_next_key(const void* key, void* next_key) override;

  private:
    // A byte ring as perf's: each record its u32 size, then the data, in record_size() bytes.
    struct Buffer {
        SpinLock lock;
        std::unique_ptr<uint8_t[]> ring;
        uint64_t head = 0, tail = 0; // bytes written and read since the start
        uint64_t lost = 0;

        void write(uint64_t pos, const void* src, uint64_t n);
        void read(uint64_t pos, void* dst, uint64_t n) const;
    };

    std::unique_ptr<std::atomic<bool>[]> open_;
    std::unique_ptr<Buffer[]> buffers_; // one per CPU
};

} // namespace ebpf
