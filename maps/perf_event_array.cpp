// BPF_MAP_TYPE_PERF_EVENT_ARRAY.
#include "maps/perf_event_array.hpp"

#include <algorithm>

namespace ebpf {

using namespace detail;

namespace {

uint64_t record_size(uint64_t size) {
    return round_up8(8 + 4 + size);
}

} // namespace

// Empty data may come as a null pointer, which memcpy must not see.
void PerfEventArrayMap::Buffer::write(uint64_t pos, const void* src, uint64_t n) {
    if (n == 0) return;
    const uint64_t off = pos % buffer_size, first = std::min(n, buffer_size - off);
    std::memcpy(ring.get() + off, src, first);
    std::memcpy(ring.get(), static_cast<const uint8_t*>(src) + first, n - first);
}

void PerfEventArrayMap::Buffer::read(uint64_t pos, void* dst, uint64_t n) const {
    if (n == 0) return;
    const uint64_t off = pos % buffer_size, first = std::min(n, buffer_size - off);
    std::memcpy(dst, ring.get() + off, first);
    std::memcpy(static_cast<uint8_t*>(dst) + first, ring.get(), n - first);
}

PerfEventArrayMap::PerfEventArrayMap(const MapDef& def, uint32_t ncpus)
    : Map(def, ncpus), open_(new std::atomic<bool>[def.max_entries]), buffers_(new Buffer[ncpus]) {
    for (uint32_t i = 0; i < def.max_entries; ++i)
        open_[i].store(i < ncpus);
    for (uint32_t cpu = 0; cpu < ncpus; ++cpu)
        buffers_[cpu].ring = std::make_unique_for_overwrite<uint8_t[]>(buffer_size);
}

long PerfEventArrayMap::output(uint32_t cpu, uint64_t flags, const void* data, uint64_t size) {
    if (flags & ~(BPF_F_INDEX_MASK | BPF_F_CTXLEN_MASK)) return -kerr::einval;
    uint64_t index = flags & BPF_F_INDEX_MASK;
    if (index == BPF_F_CURRENT_CPU) index = cpu;
    if (index >= def().max_entries) return -kerr::e2big;
    if (!open_[index].load(std::memory_order_acquire)) return -kerr::enoent;
    if (index != cpu) return -kerr::eopnotsupp;
    Buffer& buffer = buffers_[cpu];
    std::lock_guard guard(buffer.lock);
    if (size > buffer_size || buffer.head + record_size(size) - buffer.tail > buffer_size) {
        ++buffer.lost;
        return -kerr::enospc;
    }
    const auto size32 = static_cast<uint32_t>(size);
    buffer.write(buffer.head, &size32, 4);
    buffer.write(buffer.head + 4, data, size);
    buffer.head += record_size(size);
    return 0;
}

std::vector<std::vector<uint8_t>> PerfEventArrayMap::consume(uint32_t cpu) {
    if (cpu >= ncpus()) return {};
    Buffer& buffer = buffers_[cpu];
    std::lock_guard guard(buffer.lock);
    std::vector<std::vector<uint8_t>> out;
    while (buffer.tail < buffer.head) {
        uint32_t size;
        buffer.read(buffer.tail, &size, 4);
        std::vector<uint8_t>& record = out.emplace_back(size);
        buffer.read(buffer.tail + 4, record.data(), size);
        buffer.tail += record_size(size);
    }
    return out;
}

uint64_t PerfEventArrayMap::lost(uint32_t cpu) const {
    if (cpu >= ncpus()) return 0;
    Buffer& buffer = buffers_[cpu];
    std::lock_guard guard(buffer.lock);
    return buffer.lost;
}

long PerfEventArrayMap::sys_update(const void* key, const void*, uint64_t flags) {
    return fd_array_sys_update(def(), key, flags);
}

long PerfEventArrayMap::sys_delete(const void* key) {
    if (long err = sys_write_perm(def())) return err;
    const uint32_t index = array_index(key);
    if (index >= def().max_entries) return -kerr::e2big;
    return open_[index].exchange(false) ? 0 : -kerr::enoent;
}

long PerfEventArrayMap::get_next_key(const void* key, void* next_key) {
    if (long err = sys_read_perm(def())) return err;
    return array_get_next_key(def().max_entries, key, next_key);
}

std::shared_ptr<Map> detail::make_perf_event_array(const MapDef& def, uint32_t ncpus) {
    return std::make_shared<PerfEventArrayMap>(def, ncpus);
}

} // namespace ebpf
