// BPF_MAP_TYPE_PROG_ARRAY (kernel/bpf/arraymap.c): the programs bpf_tail_call() jumps to.
//
// Slots are set by the host (the kernel's update stores a program fd; this VM has none, so
// sys_update answers as for a bad fd after the kernel's checks). A tail call reads a slot while
// the host may be setting it: each slot is an atomic pointer. The program's lookup and update
// are refused, as the verifier refuses them in the kernel. The syscall's lookup, which answers
// with a program id in the kernel, is not offered: this VM has no program ids.
#pragma once

#include "maps/map.hpp"

#include <atomic>
#include <memory>

namespace ebpf {

class ProgArrayMap final : public Map {
  public:
    ProgArrayMap(const MapDef& def, uint32_t ncpus);

    // Sets slot index to prog (null clears it): 0, or -E2BIG when index is out of range,
    // -ENOENT when clearing an empty slot.
    long set(uint32_t index, const Program* prog);
    // The program in slot index, or null when it is empty or out of range.
    const Program* get(uint32_t index) const;

    long sys_update(const void* key, const void* value, uint64_t flags) override;
    long sys_delete(const void* key) override;
    long get_next_key(const void* key, void* next_key) override;

  private:
    std::unique_ptr<std::atomic<const Program*>[]> slots_;
};

} // namespace ebpf
