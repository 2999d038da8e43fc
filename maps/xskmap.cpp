// BPF_MAP_TYPE_XSKMAP.
#include "maps/xskmap.hpp"

namespace ebpf {

using namespace detail;

long XskMap::attach(uint32_t index, uint32_t queue_id) {
    if (index >= def().max_entries) return -kerr::e2big;
    set(index, queue_id, 0);
    return 0;
}

// xsk_map_lookup_elem_sys_only()
long XskMap::sys_lookup(const void*, void*) {
    if (long err = sys_read_perm(def())) return err;
    return -kerr::eopnotsupp;
}

// xsk_map_update_elem() up to sockfd_lookup(), which finds no socket here.
long XskMap::sys_update(const void* key, const void*, uint64_t flags) {
    if (long err = sys_update_check(def(), flags)) return err;
    if (flags > BPF_EXIST) return -kerr::einval;
    if (array_index(key) >= def().max_entries) return -kerr::e2big;
    return -kerr::ebadf;
}

// What a program may read of a socket it looked up: the 4 bytes of struct bpf_xdp_sock.
bool XskMap::owns(uint64_t addr, uint64_t len, bool write) const {
    return !write && TargetSlotMap::owns(addr, len, false);
}

// xsk_map_alloc(): 4-byte keys and values (a socket fd).
DefCheck detail::xsk_map_alloc_check(const MapDef& def) {
    return target_map_alloc_check(def, "a socket fd", false,
                                  BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY);
}

std::shared_ptr<Map> detail::make_xskmap(const MapDef& def, uint32_t ncpus) {
    return std::make_shared<XskMap>(def, ncpus);
}

} // namespace ebpf
