// BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY (kernel/bpf/arraymap.c): max_entries
// preallocated, zeroed values addressed by a u32 index; nothing is ever deleted.
#include "maps/map_impl.hpp"

#include <array>

namespace ebpf {

using namespace detail;

namespace {

class ArrayMap final : public Map {
  public:
    ArrayMap(const MapDef& def, uint32_t ncpus)
        : Map(def, ncpus), percpu_(def.type == MapType::percpu_array),
          stride_(round_up8(def.value_size)), copies_(percpu_ ? ncpus : 1),
          values_(checked_size(checked_size(def.max_entries, copies_), stride_)) {}

    void* lookup(const void* key, uint32_t cpu) override {
        const uint32_t index = array_index(key);
        if (index >= def().max_entries || (percpu_ && cpu >= copies_)) return nullptr;
        return value_ptr(index, percpu_ ? cpu : 0);
    }

    DirectLookup direct_lookup() const override {
        if (percpu_) return nullptr;
        return
            [](Map* map, const void* key) { return static_cast<ArrayMap*>(map)->lookup(key, 0); };
    }

    // array_map_update_elem(): the checks in the kernel's order.
    long update(const void* key, const void* value, uint64_t flags, uint32_t cpu) override {
        if ((flags & ~BPF_F_LOCK) > BPF_EXIST) return -kerr::einval;
        const uint32_t index = array_index(key);
        if (index >= def().max_entries) return -kerr::e2big;
        if (flags & BPF_NOEXIST) return -kerr::eexist;
        if ((flags & BPF_F_LOCK) && def().spin_lock_off < 0) return -kerr::einval;
        if (percpu_ && cpu >= copies_) return -kerr::einval;
        uint8_t* dst = value_ptr(index, percpu_ ? cpu : 0);
        std::lock_guard guard(stripe(index));
        if (flags & BPF_F_LOCK)
            copy_map_value_locked(def(), dst, value);
        else
            copy_map_value(def(), dst, value);
        return 0;
    }

    long erase(const void*) override { return -kerr::einval; }

    long sys_lookup(const void* key, void* value) override {
        if (long err = sys_read_perm(def())) return err;
        const uint32_t index = array_index(key);
        if (index >= def().max_entries) return -kerr::enoent;
        std::lock_guard guard(stripe(index));
        if (percpu_) {
            std::memcpy(value, value_ptr(index, 0), stride_ * copies_);
        } else {
            copy_map_value(def(), value, value_ptr(index, 0));
            zero_spin_lock(def(), value);
        }
        return 0;
    }

    long sys_update(const void* key, const void* value, uint64_t flags) override {
        if (long err = sys_update_check(def(), flags)) return err;
        if (!percpu_) return update(key, value, flags, 0);
        // bpf_percpu_array_update(): round_up(value_size, 8) bytes for each CPU, padding too.
        if (flags > BPF_EXIST) return -kerr::einval;
        const uint32_t index = array_index(key);
        if (index >= def().max_entries) return -kerr::e2big;
        if (flags == BPF_NOEXIST) return -kerr::eexist;
        std::lock_guard guard(stripe(index));
        std::memcpy(value_ptr(index, 0), value, stride_ * copies_);
        return 0;
    }

    long sys_delete(const void*) override {
        if (long err = sys_write_perm(def())) return err;
        return -kerr::einval;
    }

    long get_next_key(const void* key, void* next_key) override {
        if (long err = sys_read_perm(def())) return err;
        return array_get_next_key(def().max_entries, key, next_key);
    }

    bool owns(uint64_t addr, uint64_t len, bool write) const override {
        return prog_access_ok(def(), write) &&
               in_one_value(values_.data(), stride_, uint64_t{def().max_entries} * copies_,
                            def().value_size, addr, len);
    }

    // array_map_direct_value_addr(): single-element arrays only (global data).
    uint8_t* direct_value(uint32_t offset) override {
        if (percpu_ || def().max_entries != 1 || offset >= def().value_size) return nullptr;
        return values_.data() + offset;
    }

  private:
    uint8_t* value_ptr(uint32_t index, uint32_t cpu) const {
        return values_.data() + (uint64_t{index} * copies_ + cpu) * stride_;
    }
    // Updates of one element exclude each other; a program's loads and stores do not lock.
    SpinLock& stripe(uint32_t index) { return stripes_[index % stripes_.size()]; }

    const bool percpu_;
    const uint64_t stride_;
    const uint32_t copies_;
    Arena values_;
    std::array<SpinLock, 64> stripes_{};
};

} // namespace

DefCheck detail::array_map_alloc_check(const MapDef& def) {
    const bool percpu = def.type == MapType::percpu_array;
    constexpr uint32_t mask = BPF_F_NUMA_NODE | BPF_F_MMAPABLE | BPF_F_ACCESS_MASK |
                              BPF_F_PRESERVE_ELEMS | BPF_F_INNER_MAP;
    if (def.max_entries == 0) return DefError{kerr::einval, "max_entries must not be 0"};
    if (def.key_size != 4) return DefError{kerr::einval, "key_size must be 4"};
    if (def.value_size == 0) return DefError{kerr::einval, "value_size must not be 0"};
    if (def.map_flags & ~mask) return DefError{kerr::einval, "map_flags has unknown flags"};
    if (!flags_access_ok(def.map_flags))
        return DefError{kerr::einval, "map_flags has both BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG"};
    if (percpu && (def.map_flags & BPF_F_NUMA_NODE))
        return DefError{kerr::einval, "map_flags: BPF_F_NUMA_NODE on a per-CPU map"};
    if (def.type != MapType::array && (def.map_flags & (BPF_F_MMAPABLE | BPF_F_INNER_MAP)))
        return DefError{kerr::einval,
                        "map_flags: BPF_F_MMAPABLE and BPF_F_INNER_MAP are for arrays"};
    if (def.type != MapType::perf_event_array && (def.map_flags & BPF_F_PRESERVE_ELEMS))
        return DefError{kerr::einval, "map_flags: BPF_F_PRESERVE_ELEMS is for perf event arrays"};
    if (def.value_size > INT32_MAX) return DefError{kerr::e2big, "value_size too large"};
    if (percpu && round_up8(def.value_size) > PCPU_MIN_UNIT_SIZE)
        return DefError{kerr::e2big, "value_size over 32768 for a per-CPU map"};
    return std::nullopt;
}

// fd_array_map_alloc_check(): prog arrays, perf event arrays and arrays of maps hold fds.
DefCheck detail::fd_array_map_alloc_check(const MapDef& def) {
    if (def.value_size != 4) return DefError{kerr::einval, "value_size must be 4 (an fd)"};
    if (def.map_flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG))
        return DefError{kerr::einval, "map_flags: BPF_F_RDONLY_PROG/BPF_F_WRONLY_PROG not allowed"};
    return array_map_alloc_check(def);
}

std::shared_ptr<Map> detail::make_array_map(const MapDef& def, uint32_t ncpus) {
    return std::make_shared<ArrayMap>(def, ncpus);
}

} // namespace ebpf
