// BPF_MAP_TYPE_CPUMAP (kernel/bpf/cpumap.c): the CPUs bpf_redirect_map hands XDP frames to, by
// CPU number. A value is struct bpf_cpumap_val: the size of the CPU's frame queue, then
// (value_size 8) a program to run there, given as an fd and read back as its id (this VM has no
// program fds: see names_program). In the kernel an entry starts a thread on that CPU that
// builds sk_buffs from the frames; here it records only the queue size, for bpf_redirect_map to
// find and for the host to read. Programs may pass the map to bpf_redirect_map only.
#include "maps/target_slots.hpp"

namespace ebpf {

using namespace detail;

namespace {

// The kernel's CONFIG_NR_CPUS, which bounds max_entries: 256 on the kernel this VM is checked
// against (x86-64 defconfig has 64, Debian's kernels 8192).
constexpr uint32_t NR_CPUS = 256;
// Sanity limit on a queue's size (cpu_map_update_elem).
constexpr uint32_t max_qsize = 16384;

class CpuMap final : public TargetSlotMap {
  public:
    CpuMap(const MapDef& def, uint32_t ncpus) : TargetSlotMap(def, ncpus) {}

    // cpu_map_update_elem(): qsize 0 empties the slot; the key must be a CPU of this VM (ncpus).
    long sys_update(const void* key, const void* value, uint64_t flags) override {
        if (long err = sys_update_check(def(), flags)) return err;
        if (flags > BPF_EXIST) return -kerr::einval;
        const uint32_t cpu = array_index(key);
        if (cpu >= def().max_entries) return -kerr::e2big;
        if (flags == BPF_NOEXIST) return -kerr::eexist;
        uint32_t qsize;
        std::memcpy(&qsize, value, 4);
        if (qsize > max_qsize) return -kerr::eoverflow;
        if (cpu >= ncpus()) return -kerr::enodev;
        if (qsize == 0) {
            clear(cpu);
            return 0;
        }
        // __cpu_map_entry_alloc() fails, without saying why, on a program it cannot use.
        if (names_program(def(), value)) return -kerr::enomem;
        set(cpu, qsize, 0);
        return 0;
    }
};

} // namespace

// cpu_map_alloc(): 4-byte keys; a value of the queue size alone or with a program fd.
DefCheck detail::cpu_map_alloc_check(const MapDef& def) {
    if (auto e = target_map_alloc_check(def, "qsize", true, BPF_F_NUMA_NODE)) return e;
    if (def.max_entries > NR_CPUS)
        return DefError{kerr::e2big,
                        "max_entries must be at most NR_CPUS (" + std::to_string(NR_CPUS) + ")"};
    return std::nullopt;
}

std::shared_ptr<Map> detail::make_cpumap(const MapDef& def, uint32_t ncpus) {
    return std::make_shared<CpuMap>(def, ncpus);
}

} // namespace ebpf
