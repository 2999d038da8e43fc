// BPF_MAP_TYPE_XSKMAP (net/xdp/xskmap.c): the AF_XDP sockets bpf_redirect_map hands XDP frames
// to, by index.
//
// In the kernel the control plane stores a bound AF_XDP socket's fd; a program's lookup gives the
// socket, of which it may read struct bpf_xdp_sock (its queue_id), and the syscall's lookup is
// refused. This VM has no sockets: the host puts a stand-in for a socket bound to a queue in a
// slot with attach(), and the syscall's update answers as for a bad fd.
#pragma once

#include "maps/target_slots.hpp"

namespace ebpf {

class XskMap final : public detail::TargetSlotMap {
  public:
    XskMap(const MapDef& def, uint32_t ncpus) : TargetSlotMap(def, ncpus) {}

    // Slot index holds a socket bound to queue_id from now on: 0, or -E2BIG out of range. A
    // program's lookup gives it as struct bpf_xdp_sock.
    long attach(uint32_t index, uint32_t queue_id);

    long sys_lookup(const void* key, void* value) override;
    long sys_update(const void* key, const void* value, uint64_t flags) override;
    bool owns(uint64_t addr, uint64_t len, bool write) const override;
};

} // namespace ebpf
