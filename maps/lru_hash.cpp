// BPF_MAP_TYPE_LRU_HASH and BPF_MAP_TYPE_LRU_PERCPU_HASH (kernel/bpf/hashtab.c): a hash table
// whose elements come from the kernel's LRU lists (bpf_lru_list.hpp), so that a full map makes
// room for a new key by evicting old ones, the same ones the kernel would.
//
// As in the kernel, an update takes a fresh element from the LRU before it locks the bucket (an
// eviction locks the victim's bucket), even when the key is already there:
//  - LRU hash: the fresh element replaces the old one, which goes back to the free lists, and is
//    marked referenced;
//  - LRU per-CPU hash (unless the update is BPF_EXIST only): an existing element's value is
//    updated in place and marked referenced, and the fresh element given back.
// A program's lookup marks the element referenced; the syscall's lookup does not. Which CPU's
// lists an update uses: a program's, the CPU it runs on; the syscall's, the CPU the calling thread
// is on, as in the kernel.
#include "maps/bpf_lru_list.hpp"
#include "maps/hash.hpp"

#if defined(__linux__)
#include <sched.h>
#endif

namespace ebpf {

using namespace detail;

namespace {

// raw_smp_processor_id() for the syscall side: the calling thread's CPU.
uint32_t current_cpu() {
#if defined(__linux__)
    if (const int cpu = sched_getcpu(); cpu >= 0) return static_cast<uint32_t>(cpu);
#endif
    return 0;
}

// check_flags() of an update: BPF_NOEXIST wants no old element, BPF_EXIST one.
long check_flags(uint32_t old, uint64_t flags) {
    if (old != nil && flags == BPF_NOEXIST) return -kerr::eexist;
    if (old == nil && flags == BPF_EXIST) return -kerr::enoent;
    return 0;
}

class LruHashMap final : public HashMap {
  public:
    LruHashMap(const MapDef& def, uint32_t ncpus)
        : HashMap(def, ncpus), lru_(def.map_flags & BPF_F_NO_COMMON_LRU, def.max_entries, ncpus,
                                    [this](uint32_t elem) { return unlink(elem); }) {}

    void* lookup(const void* key, uint32_t cpu) override {
        if (percpu_ && cpu >= copies_) return nullptr;
        const uint32_t elem = find(key);
        if (elem == nil) return nullptr;
        lru_.set_ref(elem);
        return value_ptr(elem, percpu_ ? cpu : 0);
    }

    // The LRU's CPU is cpu itself, taken modulo ncpus for a host that runs programs as CPUs the
    // map was not made for.
    long update(const void* key, const void* value, uint64_t flags, uint32_t cpu) override {
        if (flags > BPF_EXIST || (percpu_ && cpu >= copies_)) return -kerr::einval;
        const uint32_t lru_cpu = cpu % ncpus();
        return percpu_ ? percpu_lru_update(key, value, flags, cpu, lru_cpu)
                       : lru_update(key, value, flags, lru_cpu);
    }

    long sys_update(const void* key, const void* value, uint64_t flags) override {
        if (long err = sys_update_check(def(), flags)) return err;
        if (flags > BPF_EXIST) return -kerr::einval;
        const uint32_t lru_cpu = current_cpu() % ncpus();
        return percpu_ ? percpu_lru_update(key, value, flags, all_cpus, lru_cpu)
                       : lru_update(key, value, flags, lru_cpu);
    }

  private:
    // A deleted element, unlinked already (HashMap's delete): htab_lru_push_free().
    void free_elem(uint32_t elem) override { lru_.push_free(elem); }

    // prealloc_lru_pop(): a fresh element for key, not linked yet; nil when the LRU has none.
    uint32_t pop_fresh(const void* key, uint32_t hash, uint32_t lru_cpu) {
        const uint32_t fresh = lru_.pop_free(lru_cpu);
        if (fresh == nil) return nil;
        store_key(fresh, key);
        elems_[fresh].hash.store(hash, std::memory_order_relaxed);
        return fresh;
    }

    // With bucket locked, in a write section: elem first in the chain, or out of it.
    void link_first(Bucket& bucket, uint32_t elem) {
        elems_[elem].next.store(bucket.head.load(std::memory_order_relaxed),
                                std::memory_order_relaxed);
        bucket.head.store(elem, std::memory_order_relaxed);
    }
    void unlink_locked(Bucket& bucket, uint32_t elem) {
        std::atomic<uint32_t>* link = &bucket.head;
        while (link->load(std::memory_order_relaxed) != elem)
            link = &elems_[link->load(std::memory_order_relaxed)].next;
        link->store(elems_[elem].next.load(std::memory_order_relaxed), std::memory_order_relaxed);
    }

    // htab_lru_map_update_elem()
    long lru_update(const void* key, const void* value, uint64_t flags, uint32_t lru_cpu) {
        const uint32_t hash = hash_key(key);
        const uint32_t fresh = pop_fresh(key, hash, lru_cpu);
        if (fresh == nil) return -kerr::enomem;
        write_value(fresh, value, flags, 0, true);
        Bucket& bucket = bucket_of(hash);
        uint32_t old;
        long err;
        {
            std::lock_guard guard(bucket.lock);
            old = find_locked(bucket, hash, key);
            err = check_flags(old, flags);
            if (!err) {
                begin_write(bucket);
                link_first(bucket, fresh);
                if (old != nil) {
                    lru_.set_ref(fresh);
                    unlink_locked(bucket, old);
                }
                end_write(bucket);
            }
        }
        if (err)
            lru_.push_free(fresh);
        else if (old != nil)
            lru_.push_free(old);
        return err;
    }

    // __htab_lru_percpu_map_update_elem(): cpu is the value's CPU, or all_cpus for the syscall.
    long percpu_lru_update(const void* key, const void* value, uint64_t flags, uint32_t cpu,
                           uint32_t lru_cpu) {
        const uint32_t hash = hash_key(key);
        uint32_t fresh = nil;
        if (flags != BPF_EXIST) {
            fresh = pop_fresh(key, hash, lru_cpu);
            if (fresh == nil) return -kerr::enomem;
        }
        Bucket& bucket = bucket_of(hash);
        long err;
        {
            std::lock_guard guard(bucket.lock);
            const uint32_t old = find_locked(bucket, hash, key);
            err = check_flags(old, flags);
            if (!err && old != nil) {
                lru_.set_ref(old);
                write_value(old, value, flags, cpu, false);
            } else if (!err) {
                write_value(fresh, value, flags, cpu, true);
                begin_write(bucket);
                link_first(bucket, fresh);
                end_write(bucket);
                fresh = nil;
            }
        }
        if (fresh != nil) lru_.push_free(fresh);
        return err;
    }

    BpfLru lru_;
};

// htab_map_alloc(): a per-CPU LRU gives each CPU the same share, so max_entries is rounded up to
// a multiple of the CPUs (down when that overflows), as the map then reports it.
MapDef lru_map_def(MapDef def, uint32_t ncpus) {
    if (def.map_flags & BPF_F_NO_COMMON_LRU) {
        const uint64_t up = (uint64_t{def.max_entries} + ncpus - 1) / ncpus * ncpus;
        def.max_entries =
            up <= UINT32_MAX ? static_cast<uint32_t>(up) : def.max_entries / ncpus * ncpus;
    }
    return def;
}

} // namespace

std::shared_ptr<Map> detail::make_lru_hash_map(const MapDef& def, uint32_t ncpus) {
    return std::make_shared<LruHashMap>(lru_map_def(def, ncpus), ncpus);
}

} // namespace ebpf
