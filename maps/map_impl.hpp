// What the map kinds share (internal to maps/): the kernel's attribute checks and constants,
// value copies that spare the bpf_spin_lock, the syscall's access rules, zeroed arenas, keys as
// words, free lists, and the range check behind owns().
#pragma once

#include "maps/kernel_errno.hpp"
#include "maps/map.hpp"
#include "maps/spin_lock.hpp"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <vector>

namespace ebpf::detail {

inline constexpr uint32_t BPF_F_ACCESS_MASK =
    BPF_F_RDONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY | BPF_F_WRONLY_PROG;
inline constexpr uint64_t KMALLOC_MAX_SIZE = 1ull << 22; // x86-64, 4 KiB pages
inline constexpr uint64_t PCPU_MIN_UNIT_SIZE = 32768;
inline constexpr uint64_t PAGE_SIZE = 4096;
inline constexpr uint32_t nil = UINT32_MAX; // "no element" in index-linked structures

inline uint64_t round_up8(uint64_t v) {
    return (v + 7) & ~uint64_t{7};
}

// A refused attribute: the errno the kernel gives and which attribute.
struct DefError {
    long err;
    std::string what;
};
using DefCheck = std::optional<DefError>;

// bpf_map_flags_access_ok(): a program may not be denied both reading and writing.
inline bool flags_access_ok(uint32_t flags) {
    return (flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)) !=
           (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG);
}

// create_map's checks (common ones, then the kind's), and its message for a refusal.
DefCheck check_map_def(const MapDef& def, const MapOptions& options);
Error map_def_error(const MapDef& def, const DefError& e);

// The kernel's map_alloc_check of each kind (the sizes and flags it refuses).
DefCheck array_map_alloc_check(const MapDef& def);
DefCheck fd_array_map_alloc_check(const MapDef& def);
DefCheck htab_map_alloc_check(const MapDef& def);
DefCheck trie_alloc_check(const MapDef& def);
DefCheck queue_stack_map_alloc_check(const MapDef& def);
DefCheck ringbuf_map_alloc_check(const MapDef& def);
DefCheck dev_map_alloc_check(const MapDef& def); // devmap and devmap_hash
DefCheck cpu_map_alloc_check(const MapDef& def);
DefCheck xsk_map_alloc_check(const MapDef& def);

// Constructors of the kinds, for create_map once the checks passed. They throw std::bad_alloc
// when the preallocated memory is not available.
std::shared_ptr<Map> make_array_map(const MapDef& def, uint32_t ncpus);
std::shared_ptr<Map> make_hash_map(const MapDef& def, uint32_t ncpus);
std::shared_ptr<Map> make_lru_hash_map(const MapDef& def, uint32_t ncpus);
std::shared_ptr<Map> make_lpm_trie(const MapDef& def, uint32_t ncpus);
std::shared_ptr<Map> make_prog_array(const MapDef& def, uint32_t ncpus);
std::shared_ptr<Map> make_queue_stack_map(const MapDef& def, uint32_t ncpus);
std::shared_ptr<Map> make_ringbuf_map(const MapDef& def, uint32_t ncpus);
std::shared_ptr<Map> make_perf_event_array(const MapDef& def, uint32_t ncpus);
std::shared_ptr<Map> make_devmap(const MapDef& def, uint32_t ncpus); // devmap and devmap_hash
std::shared_ptr<Map> make_cpumap(const MapDef& def, uint32_t ncpus);
std::shared_ptr<Map> make_xskmap(const MapDef& def, uint32_t ncpus);

// The syscall side's access rules (map_get_sys_perms): BPF_F_RDONLY maps refuse writes,
// BPF_F_WRONLY maps refuse reads, with -EPERM; BPF_F_LOCK needs a bpf_spin_lock in the value.
inline long sys_read_perm(const MapDef& def) {
    return def.map_flags & BPF_F_WRONLY ? -kerr::eperm : 0;
}
inline long sys_write_perm(const MapDef& def) {
    return def.map_flags & BPF_F_RDONLY ? -kerr::eperm : 0;
}
inline long sys_update_check(const MapDef& def, uint64_t flags) {
    if (long err = sys_write_perm(def)) return err;
    if ((flags & BPF_F_LOCK) && def.spin_lock_off < 0) return -kerr::einval;
    return 0;
}

// The program side's access rules, for checked mode's owns().
inline bool prog_access_ok(const MapDef& def, bool write) {
    return !(def.map_flags & (write ? BPF_F_RDONLY_PROG : BPF_F_WRONLY_PROG));
}

// copy_map_value(): every byte of the value but its bpf_spin_lock.
inline void copy_map_value(const MapDef& def, void* dst, const void* src) {
    if (def.spin_lock_off < 0) {
        std::memcpy(dst, src, def.value_size);
        return;
    }
    const uint32_t off = static_cast<uint32_t>(def.spin_lock_off);
    std::memcpy(dst, src, off);
    std::memcpy(static_cast<uint8_t*>(dst) + off + 4, static_cast<const uint8_t*>(src) + off + 4,
                def.value_size - off - 4);
}

// BPF_F_LOCK: the copy made under the destination's own bpf_spin_lock.
inline void copy_map_value_locked(const MapDef& def, void* dst, const void* src) {
    void* lock = static_cast<uint8_t*>(dst) + def.spin_lock_off;
    acquire_bpf_spin_lock(lock);
    copy_map_value(def, dst, src);
    release_bpf_spin_lock(lock);
}

// What the syscall hands out or a fresh element starts with: the lock word reads as zero.
inline void zero_spin_lock(const MapDef& def, void* value) {
    if (def.spin_lock_off >= 0) std::memset(static_cast<uint8_t*>(value) + def.spin_lock_off, 0, 4);
}

// Zeroed memory that stays where it is for the map's lifetime, starting on a cache line (so that
// an element laid out to fit in one, such as an LPM trie node, does). calloc leaves large areas
// to the kernel's zero pages, so a big, sparsely used map costs what it touches.
class Arena {
  public:
    static constexpr uint64_t line = 64;
    explicit Arena(uint64_t size) : p_(static_cast<uint8_t*>(std::calloc(size + line, 1))) {
        if (!p_) throw std::bad_alloc();
        data_ = p_.get() + (line - reinterpret_cast<uintptr_t>(p_.get()) % line) % line;
    }
    uint8_t* data() const { return data_; }

  private:
    struct Free {
        void operator()(uint8_t* p) const { std::free(p); }
    };
    std::unique_ptr<uint8_t, Free> p_;
    uint8_t* data_;
};

// count * size as bytes to allocate, or bad_alloc when no address space could hold it.
inline uint64_t checked_size(uint64_t count, uint64_t size) {
    uint64_t total;
    if (__builtin_mul_overflow(count, size, &total) || total > (uint64_t{1} << 47))
        throw std::bad_alloc();
    return total;
}

// [addr, addr + len) inside one of count values of value_size bytes laid stride apart from base.
inline bool in_one_value(const uint8_t* base, uint64_t stride, uint64_t count, uint64_t value_size,
                         uint64_t addr, uint64_t len) {
    const uint64_t begin = reinterpret_cast<uint64_t>(base);
    if (addr < begin || len > value_size) return false;
    const uint64_t off = addr - begin;
    return off / stride < count && off % stride + len <= value_size;
}

// The word of a key at p with `left` bytes to go: 8 bytes, or the last 1-7 zero-padded, as a
// memcpy into a zeroed word gives them but without a call to memcpy for a size it cannot see.
// Keys that lookups compare without a lock are stored, and compared, as such words.
[[gnu::always_inline]] inline uint64_t key_word(const uint8_t* p, uint32_t left) {
    uint64_t word = 0;
    if (left >= 8 || std::endian::native != std::endian::little) {
        std::memcpy(&word, p, std::min<uint32_t>(left, 8));
        return word;
    }
    uint32_t shift = 0;
    if (left & 4) {
        uint32_t v;
        std::memcpy(&v, p, 4);
        word = v;
        p += 4;
        shift = 32;
    }
    if (left & 2) {
        uint16_t v;
        std::memcpy(&v, p, 2);
        word |= uint64_t{v} << shift;
        p += 2;
        shift += 16;
    }
    if (left & 1) word |= uint64_t{*p} << shift;
    return word;
}

// Preallocated element ids not in use; pops the lowest id first while fresh.
class FreeList {
  public:
    explicit FreeList(uint32_t n) : ids_(n) {
        for (uint32_t i = 0; i < n; ++i)
            ids_[i] = n - 1 - i;
    }
    uint32_t pop() {
        std::lock_guard guard(lock_);
        if (ids_.empty()) return nil;
        const uint32_t id = ids_.back();
        ids_.pop_back();
        return id;
    }
    // Never grows past the initial size, so this does not allocate.
    void push(uint32_t id) {
        std::lock_guard guard(lock_);
        ids_.push_back(id);
    }

  private:
    SpinLock lock_;
    std::vector<uint32_t> ids_;
};

} // namespace ebpf::detail

namespace ebpf::detail {

// Array kinds, the fd arrays included: key null or out of range gives index 0, the last index
// gives -ENOENT.
inline long array_get_next_key(uint32_t max_entries, const void* key, void* next_key) {
    uint32_t index = UINT32_MAX;
    if (key) std::memcpy(&index, key, 4);
    if (index < max_entries && index == max_entries - 1) return -kerr::enoent;
    const uint32_t next = index >= max_entries ? 0 : index + 1;
    std::memcpy(next_key, &next, 4);
    return 0;
}

inline uint32_t array_index(const void* key) {
    uint32_t index;
    std::memcpy(&index, key, 4);
    return index;
}

// bpf_fd_array_map_update_elem() up to reading the fd. This VM has no file descriptors, so the
// slot's object is set through the kind's host API and the syscall answers as for a bad fd.
inline long fd_array_sys_update(const MapDef& def, const void* key, uint64_t flags) {
    if (long err = sys_update_check(def, flags)) return err;
    if (flags != BPF_ANY) return -kerr::einval;
    if (array_index(key) >= def.max_entries) return -kerr::e2big;
    return -kerr::ebadf;
}

} // namespace ebpf::detail
