// What the array kinds holding redirect targets share (devmap, cpumap, xskmap; internal to
// maps/): max_entries slots, each empty or holding a value of two u32 words (struct
// bpf_devmap_val, struct bpf_cpumap_val, an XDP socket's queue_id), and what such an array
// answers but its update.
//
// The kernel replaces a slot's object and frees the old one after an RCU grace period. Here the
// value stays where it is: a program reads it in place while the host may rewrite it, so each
// word is written atomically (a reader may see one word old and the other new), and an emptied
// slot's value stays readable memory.
#pragma once

#include "maps/map_impl.hpp"

#include <atomic>
#include <memory>

namespace ebpf::detail {

// A map kind of such slots: the program's lookup, the syscall's lookup, delete and get_next_key,
// and checked mode's reads, shared; each kind has its own update.
class TargetSlotMap : public Map {
  public:
    void* lookup(const void* key, uint32_t) override { return get(array_index(key)); }

    long sys_lookup(const void* key, void* value) override {
        if (long err = sys_read_perm(def())) return err;
        const uint32_t* v = get(array_index(key));
        if (!v) return -kerr::enoent;
        std::memcpy(value, v, def().value_size);
        return 0;
    }

    // dev_map_delete_elem(), cpu_map_delete_elem(), xsk_map_delete_elem(): an index out of range
    // is -EINVAL, an empty slot is no error.
    long sys_delete(const void* key) override {
        if (long err = sys_write_perm(def())) return err;
        const uint32_t index = array_index(key);
        if (index >= def().max_entries) return -kerr::einval;
        clear(index);
        return 0;
    }

    long get_next_key(const void* key, void* next_key) override {
        if (long err = sys_read_perm(def())) return err;
        return array_get_next_key(def().max_entries, key, next_key);
    }

    bool owns(uint64_t addr, uint64_t len, bool write) const override {
        return prog_access_ok(def(), write) &&
               in_one_value(reinterpret_cast<const uint8_t*>(slots_[0].value), sizeof(Slot),
                            def().max_entries, def().value_size, addr, len);
    }

  protected:
    TargetSlotMap(const MapDef& def, uint32_t ncpus)
        : Map(def, ncpus), slots_(new Slot[def.max_entries]) {}

    // The value in slot index, or null when the slot is empty or out of range.
    uint32_t* get(uint32_t index) const {
        if (index >= def().max_entries || !slots_[index].present.load(std::memory_order_acquire))
            return nullptr;
        return slots_[index].value;
    }
    void set(uint32_t index, uint32_t first, uint32_t second) {
        Slot& s = slots_[index];
        std::atomic_ref<uint32_t>(s.value[0]).store(first, std::memory_order_relaxed);
        std::atomic_ref<uint32_t>(s.value[1]).store(second, std::memory_order_relaxed);
        s.present.store(true, std::memory_order_release);
    }
    void clear(uint32_t index) { slots_[index].present.store(false, std::memory_order_release); }

  private:
    struct Slot {
        alignas(8) uint32_t value[2] = {0, 0};
        std::atomic<bool> present{false};
    };

    std::unique_ptr<Slot[]> slots_;
};

// The attribute checks the three kinds share: entries, 4-byte keys, a value of `word` alone or
// (with_program) followed by a program fd, and only the flags in allowed_flags (all -EINVAL).
inline DefCheck target_map_alloc_check(const MapDef& def, const std::string& word,
                                       bool with_program, uint32_t allowed_flags) {
    if (def.max_entries == 0) return DefError{kerr::einval, "max_entries must be at least 1"};
    if (def.key_size != 4) return DefError{kerr::einval, "key_size must be 4"};
    if (def.value_size != 4 && !(with_program && def.value_size == 8))
        return DefError{kerr::einval, "value_size must be 4 (" + word + ")" +
                                          (with_program ? " or 8 (" + word + ", program)" : "")};
    if (def.map_flags & ~allowed_flags)
        return DefError{kerr::einval, "map_flags has flags this kind does not take"};
    return std::nullopt;
}

// struct bpf_devmap_val and struct bpf_cpumap_val end with a program: an fd on update, its id on
// lookup. This VM has no program fds, so no slot holds a program: the id reads as 0, and an
// update that names a program (fd > 0, as a signed int) fails as the kernel fails a bad fd.
inline bool names_program(const MapDef& def, const void* value) {
    if (def.value_size < 8) return false;
    int32_t fd;
    std::memcpy(&fd, static_cast<const uint8_t*>(value) + 4, 4);
    return fd > 0;
}

} // namespace ebpf::detail
