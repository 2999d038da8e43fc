// BPF_MAP_TYPE_RINGBUF (kernel/bpf/ringbuf.c): a multi-producer ring of variable-size records
// that programs reserve and then submit or discard, and the host consumes in order.
//
// Each record is an 8-byte header {u32 len; u32 pg_off} then the data, the whole rounded up to
// 8 bytes; len carries BUSY (1 << 31) while reserved and DISCARD (1 << 30) when discarded. The
// producer position may run at most max_entries - 1 bytes ahead of the consumer's. A record
// still reserved stops the consumer, so the space after it is not freed until it is submitted
// or discarded. The data area is twice max_entries long, so a record that wraps around the end
// is contiguous in memory, as the kernel's double mapping makes it.
#pragma once

#include "maps/map_impl.hpp"

#include <atomic>
#include <vector>

namespace ebpf {

class RingBufMap final : public Map {
  public:
    static constexpr uint32_t BPF_RINGBUF_BUSY_BIT = 1u << 31, BPF_RINGBUF_DISCARD_BIT = 1u << 30,
                              BPF_RINGBUF_HDR_SZ = 8;

    RingBufMap(const MapDef& def, uint32_t ncpus);

    // --- The program's view (bpf_ringbuf_*) ---
    // size bytes for the program to fill, or null when flags is not 0 or there is no room.
    void* reserve(uint64_t size, uint64_t flags);
    // sample is what reserve returned. False (and nothing done) when it is not a reserved record.
    bool submit(void* sample, uint64_t flags);
    bool discard(void* sample, uint64_t flags);
    // reserve + copy + submit: 0, -EAGAIN when there is no room, -EINVAL for unknown flags.
    long output(const void* data, uint64_t size, uint64_t flags);
    // BPF_RB_AVAIL_DATA, BPF_RB_RING_SIZE, BPF_RB_CONS_POS, BPF_RB_PROD_POS; 0 otherwise.
    uint64_t query(uint64_t flags) const;

    // --- The host's view (the consumer) ---
    // The submitted records not consumed yet, oldest first, up to the first one still reserved.
    std::vector<std::vector<uint8_t>> records() const;
    // The same, and their space is given back to the producers; at most max_records of them.
    std::vector<std::vector<uint8_t>> consume(size_t max_records = SIZE_MAX);

    bool owns(uint64_t addr, uint64_t len, bool write) const override;

  private:
    uint32_t* header_at(uint64_t pos) const {
        return reinterpret_cast<uint32_t*>(data_.data() + (pos & mask_));
    }
    // The header of a sample, if it is one that is reserved now.
    uint32_t* reserved_header(void* sample) const;
    bool commit(void* sample, bool discard);
    // From the consumer position, with consumer_lock_ held; *end: the position after the last
    // record read (discarded ones included).
    std::vector<std::vector<uint8_t>> read_records(size_t max_records, uint64_t* end) const;

    const uint64_t mask_;
    detail::Arena data_;
    mutable SpinLock producer_lock_;
    mutable SpinLock consumer_lock_;
    std::atomic<uint64_t> producer_pos_{0};
    std::atomic<uint64_t> consumer_pos_{0};
};

} // namespace ebpf
