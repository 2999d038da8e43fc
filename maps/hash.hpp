// BPF_MAP_TYPE_HASH and BPF_MAP_TYPE_PERCPU_HASH (kernel/bpf/hashtab.c), and the table the LRU
// kinds and hash-of-maps build on.
//
// All max_entries elements are preallocated (the kernel's default; BPF_F_NO_PREALLOC is accepted
// and changes nothing) and recycled through a free list, so a value pointer a program got stays
// valid memory after a delete. Buckets are roundup_pow_of_two(max_entries) chains, each with a
// spinlock for writers and a sequence count: a program's lookup takes no lock, it walks the chain
// and tries again if a writer linked or unlinked an element of that bucket meanwhile (the
// kernel's walks rely on RCU and nulls markers instead). An update of an existing key copies the
// value in place under its bucket's lock, so updates of one element exclude each other.
#pragma once

#include "maps/map_impl.hpp"

#include <atomic>

namespace ebpf {

class HashMap : public Map {
  public:
    HashMap(const MapDef& def, uint32_t ncpus);

    void* lookup(const void* key, uint32_t cpu) override;
    DirectLookup direct_lookup() const override;
    long update(const void* key, const void* value, uint64_t flags, uint32_t cpu) override;
    long erase(const void* key) override;

    long sys_lookup(const void* key, void* value) override;
    long sys_update(const void* key, const void* value, uint64_t flags) override;
    long sys_delete(const void* key) override;
    long sys_lookup_and_delete(const void* key, void* value) override;
    long get_next_key(const void* key, void* next_key) override;

    bool owns(uint64_t addr, uint64_t len, bool write) const override;

  protected:
    // The element holding key, or nil; without locks.
    uint32_t find(const void* key) const;
    uint8_t* value_ptr(uint32_t elem, uint32_t cpu) const {
        return values_.data() + (uint64_t{elem} * copies_ + cpu) * value_stride_;
    }
    // Unlinks elem from its bucket (for LRU eviction); false when it is not there.
    bool unlink(uint32_t elem);

    // Where the LRU kinds differ: where elements come from and go, and the use they record.
    virtual uint32_t alloc_elem() { return free_.pop(); }
    virtual void free_elem(uint32_t elem) { free_.push(elem); }
    virtual void on_insert(uint32_t) {}
    virtual void on_update(uint32_t) {}

    const bool percpu_;
    const uint32_t copies_; // ncpus for per-CPU values, else 1

    // The table's internals are open to the LRU kinds, whose update takes an element before the
    // bucket's lock and links it in place of the old one, as the kernel's does (lru_hash.cpp).
    // The syscall's update writes every CPU's copy of a per-CPU value.
    static constexpr uint32_t all_cpus = UINT32_MAX;

    // What lookups read without the lock is atomic (relaxed) and checked against seq, which
    // writers make odd while they link or unlink.
    struct Bucket {
        SpinLock lock;
        std::atomic<uint32_t> seq{0};
        std::atomic<uint32_t> head{detail::nil};
    };
    struct Elem {
        std::atomic<uint32_t> next{detail::nil};
        std::atomic<uint32_t> hash{0};
    };
    static void begin_write(Bucket& bucket);
    static void end_write(Bucket& bucket);

    uint32_t hash_key(const void* key) const;
    Bucket& bucket_of(uint32_t hash) { return buckets_[hash & (n_buckets_ - 1)]; }
    // With bucket locked.
    uint32_t find_locked(const Bucket& bucket, uint32_t hash, const void* key) const;
    uint8_t* key_ptr(uint32_t elem) const { return keys_.data() + uint64_t{elem} * key_stride_; }
    // Keys are written and compared a word at a time, atomically, for the lock-free walk.
    void store_key(uint32_t elem, const void* key);
    bool key_equals(uint32_t elem, const void* key) const;
    void write_value(uint32_t elem, const void* value, uint64_t flags, uint32_t cpu, bool fresh);
    void read_value(uint32_t elem, void* out) const;
    long update_elem(const void* key, const void* value, uint64_t flags, uint32_t cpu);
    long delete_elem(const void* key, void* value_out);

    const uint64_t key_stride_;
    const uint64_t value_stride_;
    const uint32_t n_buckets_;
    const uint64_t seed_;
    std::unique_ptr<Bucket[]> buckets_;
    std::unique_ptr<Elem[]> elems_;
    detail::Arena keys_;
    detail::Arena values_;
    detail::FreeList free_;
};

} // namespace ebpf
