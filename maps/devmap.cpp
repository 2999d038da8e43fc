// BPF_MAP_TYPE_DEVMAP and BPF_MAP_TYPE_DEVMAP_HASH (kernel/bpf/devmap.c): the network devices
// bpf_redirect_map sends XDP frames to, by index (an array) or by any u32 key (a hash).
//
// A value is struct bpf_devmap_val: the device's ifindex, then (value_size 8) a program to run on
// the frame before it leaves, given as an fd on update and read back as its id. This VM has no
// network devices: an ifindex is a number the host gives, and every ifindex but 0 is accepted
// (the kernel refuses one with no device, with -EINVAL). It has no program fds either (see
// names_program). Programs may look a value up but not change it: the kernel creates the map
// with BPF_F_RDONLY_PROG, as here.
#include "maps/target_slots.hpp"

#include <vector>

namespace ebpf {

using namespace detail;

namespace {

MapDef read_only_for_programs(MapDef def) {
    def.map_flags |= BPF_F_RDONLY_PROG;
    return def;
}

uint32_t ifindex_of(const void* value) {
    uint32_t ifindex;
    std::memcpy(&ifindex, value, 4);
    return ifindex;
}

class DevMap final : public TargetSlotMap {
  public:
    DevMap(const MapDef& def, uint32_t ncpus) : TargetSlotMap(read_only_for_programs(def), ncpus) {}

    // __dev_map_update_elem(): ifindex 0 empties the slot.
    long sys_update(const void* key, const void* value, uint64_t flags) override {
        if (long err = sys_update_check(def(), flags)) return err;
        if (flags > BPF_EXIST) return -kerr::einval;
        const uint32_t index = array_index(key);
        if (index >= def().max_entries) return -kerr::e2big;
        if (flags == BPF_NOEXIST) return -kerr::eexist;
        if (names_program(def(), value)) return -kerr::einval;
        const uint32_t ifindex = ifindex_of(value);
        if (ifindex == 0)
            clear(index);
        else
            set(index, ifindex, 0);
        return 0;
    }
};

uint32_t roundup_pow_of_two(uint32_t n) {
    uint32_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

// Buckets of roundup_pow_of_two(max_entries) chains, the key's low bits choosing one; a new or
// replaced element goes to the front of its chain, which is the order get_next_key walks. The
// max_entries elements are preallocated and recycled, so a value a program got stays readable
// memory. One lock serves lookups and updates: the kernel's readers walk the chains under RCU.
class DevMapHash final : public Map {
  public:
    DevMapHash(const MapDef& def, uint32_t ncpus)
        : Map(read_only_for_programs(def), ncpus), mask_(roundup_pow_of_two(def.max_entries) - 1),
          heads_(size_t{mask_} + 1, nil), elems_(def.max_entries), free_(def.max_entries) {}

    void* lookup(const void* key, uint32_t) override {
        std::lock_guard guard(lock_);
        const uint32_t id = find(array_index(key));
        return id == nil ? nullptr : elems_[id].value;
    }

    long sys_lookup(const void* key, void* value) override {
        if (long err = sys_read_perm(def())) return err;
        std::lock_guard guard(lock_);
        const uint32_t id = find(array_index(key));
        if (id == nil) return -kerr::enoent;
        std::memcpy(value, elems_[id].value, def().value_size);
        return 0;
    }

    // __dev_map_hash_update_elem(): BPF_EXIST does not ask for the key to be there.
    long sys_update(const void* key, const void* value, uint64_t flags) override {
        if (long err = sys_update_check(def(), flags)) return err;
        const uint32_t ifindex = ifindex_of(value);
        if (flags > BPF_EXIST || ifindex == 0) return -kerr::einval;
        const uint32_t k = array_index(key);
        std::lock_guard guard(lock_);
        uint32_t id = find(k);
        if (id != nil && flags == BPF_NOEXIST) return -kerr::eexist;
        if (names_program(def(), value)) return -kerr::einval;
        if (id != nil) {
            unlink(id);
        } else {
            id = free_.pop();
            if (id == nil) return -kerr::e2big;
        }
        Elem& e = elems_[id];
        e.key = k;
        std::atomic_ref<uint32_t>(e.value[0]).store(ifindex, std::memory_order_relaxed);
        std::atomic_ref<uint32_t>(e.value[1]).store(0, std::memory_order_relaxed);
        e.next = heads_[k & mask_];
        heads_[k & mask_] = id;
        return 0;
    }

    long sys_delete(const void* key) override {
        if (long err = sys_write_perm(def())) return err;
        std::lock_guard guard(lock_);
        const uint32_t id = find(array_index(key));
        if (id == nil) return -kerr::enoent;
        unlink(id);
        free_.push(id);
        return 0;
    }

    // dev_map_hash_get_next_key(): the next element of the key's chain, else the first of the
    // following chains; a key not in the map starts over.
    long get_next_key(const void* key, void* next_key) override {
        if (long err = sys_read_perm(def())) return err;
        std::lock_guard guard(lock_);
        uint32_t bucket = 0;
        if (key) {
            const uint32_t k = array_index(key);
            if (const uint32_t id = find(k); id != nil) {
                if (elems_[id].next != nil) return put_key(elems_[id].next, next_key);
                bucket = (k & mask_) + 1;
            }
        }
        for (; bucket <= mask_; ++bucket)
            if (heads_[bucket] != nil) return put_key(heads_[bucket], next_key);
        return -kerr::enoent;
    }

    bool owns(uint64_t addr, uint64_t len, bool write) const override {
        return prog_access_ok(def(), write) &&
               in_one_value(reinterpret_cast<const uint8_t*>(elems_[0].value), sizeof(Elem),
                            elems_.size(), def().value_size, addr, len);
    }

  private:
    struct Elem {
        alignas(8) uint32_t value[2] = {0, 0};
        uint32_t key = 0;
        uint32_t next = nil;
    };

    uint32_t find(uint32_t k) const {
        for (uint32_t id = heads_[k & mask_]; id != nil; id = elems_[id].next)
            if (elems_[id].key == k) return id;
        return nil;
    }
    void unlink(uint32_t id) {
        uint32_t* at = &heads_[elems_[id].key & mask_];
        while (*at != id)
            at = &elems_[*at].next;
        *at = elems_[id].next;
    }
    long put_key(uint32_t id, void* next_key) const {
        std::memcpy(next_key, &elems_[id].key, 4);
        return 0;
    }

    uint32_t mask_;
    std::vector<uint32_t> heads_;
    std::vector<Elem> elems_;
    FreeList free_;
    mutable SpinLock lock_;
};

} // namespace

// dev_map_alloc_check() and dev_map_init_map(): 4-byte keys; a value of the ifindex alone or
// with a program fd.
DefCheck detail::dev_map_alloc_check(const MapDef& def) {
    if (auto e = target_map_alloc_check(def, "ifindex", true,
                                        BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY))
        return e;
    if (def.type == MapType::devmap_hash && def.max_entries > (1u << 31))
        return DefError{kerr::einval, "max_entries must be at most 2^31"};
    return std::nullopt;
}

std::shared_ptr<Map> detail::make_devmap(const MapDef& def, uint32_t ncpus) {
    if (def.type == MapType::devmap_hash) return std::make_shared<DevMapHash>(def, ncpus);
    return std::make_shared<DevMap>(def, ncpus);
}

} // namespace ebpf
