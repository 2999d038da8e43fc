// BPF_MAP_TYPE_RINGBUF (kernel/bpf/ringbuf.c).
#include "maps/ringbuf.hpp"

#include <bit>

namespace ebpf {

using namespace detail;

namespace {

constexpr uint64_t RINGBUF_MAX_RECORD_SZ = UINT32_MAX / 4;

uint32_t load_word(const uint32_t* header) {
    return std::atomic_ref<uint32_t>(*const_cast<uint32_t*>(header))
        .load(std::memory_order_acquire);
}

} // namespace

RingBufMap::RingBufMap(const MapDef& def, uint32_t ncpus)
    : Map(def, ncpus), mask_(def.max_entries - 1), data_(2 * uint64_t{def.max_entries}) {}

// __bpf_ringbuf_reserve()
void* RingBufMap::reserve(uint64_t size, uint64_t flags) {
    if (flags || size > RINGBUF_MAX_RECORD_SZ) return nullptr;
    const uint64_t len = round_up8(size + BPF_RINGBUF_HDR_SZ);
    if (len > mask_ + 1) return nullptr;
    const uint64_t cons_pos = consumer_pos_.load(std::memory_order_acquire);
    std::lock_guard guard(producer_lock_);
    const uint64_t prod_pos = producer_pos_.load(std::memory_order_relaxed);
    if (prod_pos + len - cons_pos > mask_) return nullptr;
    uint32_t* header = header_at(prod_pos);
    std::atomic_ref<uint32_t>(header[0]).store(static_cast<uint32_t>(size) | BPF_RINGBUF_BUSY_BIT,
                                               std::memory_order_relaxed);
    // pg_off: the record's page in the data area (the kernel's counts from its own header).
    std::atomic_ref<uint32_t>(header[1]).store(static_cast<uint32_t>((prod_pos & mask_) >> 12),
                                               std::memory_order_relaxed);
    producer_pos_.store(prod_pos + len, std::memory_order_release);
    return header + 2;
}

uint32_t* RingBufMap::reserved_header(void* sample) const {
    const auto addr = reinterpret_cast<uintptr_t>(sample);
    const auto base = reinterpret_cast<uintptr_t>(data_.data());
    if (addr < base + BPF_RINGBUF_HDR_SZ) return nullptr;
    const uint64_t off = addr - BPF_RINGBUF_HDR_SZ - base;
    if (off > mask_ || off % 8) return nullptr;
    auto* header = reinterpret_cast<uint32_t*>(base + off);
    if (!(load_word(header) & BPF_RINGBUF_BUSY_BIT) || load_word(header + 1) != off >> 12)
        return nullptr;
    return header;
}

// bpf_ringbuf_commit(): wake-up flags have no one to wake here.
bool RingBufMap::commit(void* sample, bool discard) {
    uint32_t* header = reserved_header(sample);
    if (!header) return false;
    uint32_t len = load_word(header) & ~BPF_RINGBUF_BUSY_BIT;
    if (discard) len |= BPF_RINGBUF_DISCARD_BIT;
    std::atomic_ref<uint32_t>(*header).exchange(len, std::memory_order_acq_rel);
    return true;
}

bool RingBufMap::submit(void* sample, uint64_t) {
    return commit(sample, false);
}
bool RingBufMap::discard(void* sample, uint64_t) {
    return commit(sample, true);
}

long RingBufMap::output(const void* data, uint64_t size, uint64_t flags) {
    if (flags & ~(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)) return -kerr::einval;
    void* sample = reserve(size, 0);
    if (!sample) return -kerr::eagain;
    if (size) std::memcpy(sample, data, size); // data may be null when size is 0
    commit(sample, false);
    return 0;
}

uint64_t RingBufMap::query(uint64_t flags) const {
    const uint64_t cons_pos = consumer_pos_.load(std::memory_order_acquire);
    const uint64_t prod_pos = producer_pos_.load(std::memory_order_acquire);
    switch (flags) {
    case BPF_RB_AVAIL_DATA: return prod_pos - cons_pos;
    case BPF_RB_RING_SIZE: return mask_ + 1;
    case BPF_RB_CONS_POS: return cons_pos;
    case BPF_RB_PROD_POS: return prod_pos;
    default: return 0;
    }
}

std::vector<std::vector<uint8_t>> RingBufMap::read_records(size_t max_records,
                                                           uint64_t* end) const {
    std::vector<std::vector<uint8_t>> out;
    uint64_t pos = consumer_pos_.load(std::memory_order_relaxed);
    const uint64_t prod_pos = producer_pos_.load(std::memory_order_acquire);
    while (pos < prod_pos && out.size() < max_records) {
        const uint32_t* header = header_at(pos);
        const uint32_t len = load_word(header);
        if (len & BPF_RINGBUF_BUSY_BIT) break;
        const uint32_t size = len & ~BPF_RINGBUF_DISCARD_BIT;
        if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
            const auto* data = reinterpret_cast<const uint8_t*>(header + 2);
            out.emplace_back(data, data + size);
        }
        pos += round_up8(size + BPF_RINGBUF_HDR_SZ);
    }
    *end = pos;
    return out;
}

std::vector<std::vector<uint8_t>> RingBufMap::records() const {
    std::lock_guard guard(consumer_lock_);
    uint64_t end;
    return read_records(SIZE_MAX, &end);
}

std::vector<std::vector<uint8_t>> RingBufMap::consume(size_t max_records) {
    std::lock_guard guard(consumer_lock_);
    uint64_t end;
    auto out = read_records(max_records, &end);
    consumer_pos_.store(end, std::memory_order_release);
    return out;
}

// Inside the data of a record reserved now: a walk over the records not consumed yet.
bool RingBufMap::owns(uint64_t addr, uint64_t len, bool) const {
    std::lock_guard guard(producer_lock_);
    const uint64_t prod_pos = producer_pos_.load(std::memory_order_relaxed);
    for (uint64_t pos = consumer_pos_.load(std::memory_order_acquire); pos < prod_pos;) {
        const uint32_t* header = header_at(pos);
        const uint32_t bits = load_word(header);
        const uint32_t size = bits & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
        const auto data = reinterpret_cast<uint64_t>(header + 2);
        if ((bits & BPF_RINGBUF_BUSY_BIT) && addr >= data && len <= size &&
            addr - data <= size - len)
            return true;
        pos += round_up8(size + BPF_RINGBUF_HDR_SZ);
    }
    return false;
}

DefCheck detail::ringbuf_map_alloc_check(const MapDef& def) {
    if (def.map_flags & ~BPF_F_NUMA_NODE)
        return DefError{kerr::einval, "map_flags has unknown flags"};
    if (def.key_size || def.value_size)
        return DefError{kerr::einval, "key_size and value_size must be 0"};
    if (!std::has_single_bit(def.max_entries) || def.max_entries % PAGE_SIZE)
        return DefError{kerr::einval, "max_entries must be a power of 2 multiple of 4096"};
    return std::nullopt;
}

std::shared_ptr<Map> detail::make_ringbuf_map(const MapDef& def, uint32_t ncpus) {
    return std::make_shared<RingBufMap>(def, ncpus);
}

} // namespace ebpf
