// BPF_MAP_TYPE_PROG_ARRAY.
#include "maps/prog_array.hpp"

#include "maps/map_impl.hpp"

namespace ebpf {

using namespace detail;

ProgArrayMap::ProgArrayMap(const MapDef& def, uint32_t ncpus)
    : Map(def, ncpus), slots_(new std::atomic<const Program*>[def.max_entries]) {
    for (uint32_t i = 0; i < def.max_entries; ++i)
        slots_[i].store(nullptr);
}

long ProgArrayMap::set(uint32_t index, const Program* prog) {
    if (index >= def().max_entries) return -kerr::e2big;
    const Program* old = slots_[index].exchange(prog, std::memory_order_acq_rel);
    return !prog && !old ? -kerr::enoent : 0;
}

const Program* ProgArrayMap::get(uint32_t index) const {
    if (index >= def().max_entries) return nullptr;
    return slots_[index].load(std::memory_order_acquire);
}

long ProgArrayMap::sys_update(const void* key, const void*, uint64_t flags) {
    return fd_array_sys_update(def(), key, flags);
}

// fd_array_map_delete_elem()
long ProgArrayMap::sys_delete(const void* key) {
    if (long err = sys_write_perm(def())) return err;
    return set(array_index(key), nullptr);
}

long ProgArrayMap::get_next_key(const void* key, void* next_key) {
    if (long err = sys_read_perm(def())) return err;
    return array_get_next_key(def().max_entries, key, next_key);
}

std::shared_ptr<Map> detail::make_prog_array(const MapDef& def, uint32_t ncpus) {
    return std::make_shared<ProgArrayMap>(def, ncpus);
}

} // namespace ebpf
