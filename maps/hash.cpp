// BPF_MAP_TYPE_HASH and BPF_MAP_TYPE_PERCPU_HASH (kernel/bpf/hashtab.c).
#include "maps/hash.hpp"

#include <algorithm>
#include <bit>
#include <chrono>

namespace ebpf {

using namespace detail;

namespace {

uint64_t mix64(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

// wyhash's multiply-and-fold: the 128-bit product's halves xored. One multiply mixes every bit of
// both operands into the low bits that pick the bucket.
[[gnu::always_inline]] inline uint64_t mum(uint64_t a, uint64_t b) {
    const unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
    return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

constexpr uint64_t wy_p0 = 0xa0761d6478bd642fULL, wy_p1 = 0xe7037ed1a0b428dbULL,
                   wy_p2 = 0x8ebc6af09c88c6e3ULL;

// wyhash's shape (16 bytes a multiply), over the key's words as key_word() reads them. The seed
// goes into both factors: a key that zeroes one factor can then not be chosen without it.
[[gnu::always_inline]] inline uint32_t hash_words(const void* key, uint32_t size, uint64_t seed) {
    const auto* p = static_cast<const uint8_t*>(key);
    uint32_t n = size;
    uint64_t h = seed;
    for (; n > 16; p += 16, n -= 16)
        h = mum(key_word(p, 8) ^ h ^ wy_p1, key_word(p + 8, 8) ^ h ^ wy_p0);
    const uint64_t lo = key_word(p, n);
    const uint64_t hi = n > 8 ? key_word(p + 8, n - 8) : 0;
    return static_cast<uint32_t>(mum(mum(lo ^ h ^ wy_p1, hi ^ h ^ wy_p0) ^ size, wy_p2));
}

// A stored key (whole words, read atomically: a writer may be reusing the element) against key.
[[gnu::always_inline]] inline bool words_equal(uint8_t* stored, const void* key, uint32_t size) {
    auto* slot = reinterpret_cast<uint64_t*>(stored);
    const auto* bytes = static_cast<const uint8_t*>(key);
    for (uint32_t off = 0; off < size; off += 8)
        if (std::atomic_ref<uint64_t>(slot[off / 8]).load(std::memory_order_relaxed) !=
            key_word(bytes + off, size - off))
            return false;
    return true;
}

// A per-map seed, as the kernel's hashrnd, unless BPF_F_ZERO_SEED asks for a fixed one.
uint64_t hash_seed(const MapDef& def, const void* self) {
    if (def.map_flags & BPF_F_ZERO_SEED) return 0;
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    return mix64(reinterpret_cast<uintptr_t>(self) ^ static_cast<uint64_t>(now));
}

} // namespace

HashMap::HashMap(const MapDef& def, uint32_t ncpus)
    : Map(def, ncpus),
      percpu_(def.type == MapType::percpu_hash || def.type == MapType::lru_percpu_hash),
      copies_(percpu_ ? ncpus : 1), key_stride_(round_up8(def.key_size)),
      value_stride_(round_up8(def.value_size)), n_buckets_(std::bit_ceil(def.max_entries)),
      seed_(hash_seed(def, this)), buckets_(new Bucket[n_buckets_]),
      elems_(new Elem[def.max_entries]), keys_(checked_size(def.max_entries, key_stride_)),
      values_(checked_size(checked_size(def.max_entries, copies_), value_stride_)),
      free_(def.max_entries) {}

uint32_t HashMap::hash_key(const void* key) const {
    return hash_words(key, def().key_size, seed_);
}

void HashMap::store_key(uint32_t elem, const void* key) {
    auto* slot = reinterpret_cast<uint64_t*>(key_ptr(elem));
    const auto* bytes = static_cast<const uint8_t*>(key);
    for (uint32_t off = 0; off < def().key_size; off += 8) // the padding past key_size stays zero
        std::atomic_ref<uint64_t>(slot[off / 8])
            .store(key_word(bytes + off, def().key_size - off), std::memory_order_relaxed);
}

bool HashMap::key_equals(uint32_t elem, const void* key) const {
    return words_equal(key_ptr(elem), key, def().key_size);
}

uint32_t HashMap::find_locked(const Bucket& bucket, uint32_t hash, const void* key) const {
    for (uint32_t i = bucket.head.load(std::memory_order_relaxed); i != nil;
         i = elems_[i].next.load(std::memory_order_relaxed))
        if (elems_[i].hash.load(std::memory_order_relaxed) == hash && key_equals(i, key)) return i;
    return nil;
}

// A reader walking the chain may be led astray by an element a writer unlinks and reuses
// (even into a cycle); the step bound and the sequence check catch both. The hash and the key
// compares are inlined here: they are most of a program's lookup.
uint32_t HashMap::find(const void* key) const {
    const uint32_t hash = hash_words(key, def().key_size, seed_);
    const Bucket& bucket = buckets_[hash & (n_buckets_ - 1)];
    for (;;) {
        const uint32_t seq = bucket.seq.load(std::memory_order_acquire);
        if (seq & 1) {
            cpu_relax();
            continue;
        }
        uint32_t found = nil;
        uint32_t i = bucket.head.load(std::memory_order_relaxed);
        for (uint32_t steps = 0; i != nil && steps <= def().max_entries; ++steps) {
            if (elems_[i].hash.load(std::memory_order_relaxed) == hash &&
                words_equal(key_ptr(i), key, def().key_size)) {
                found = i;
                break;
            }
            i = elems_[i].next.load(std::memory_order_relaxed);
        }
        std::atomic_thread_fence(std::memory_order_acquire);
        if (bucket.seq.load(std::memory_order_relaxed) == seq) return found;
    }
}

void HashMap::begin_write(Bucket& bucket) {
    bucket.seq.store(bucket.seq.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
}

void HashMap::end_write(Bucket& bucket) {
    bucket.seq.store(bucket.seq.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

bool HashMap::unlink(uint32_t elem) {
    Bucket& bucket = bucket_of(elems_[elem].hash.load(std::memory_order_relaxed));
    std::lock_guard guard(bucket.lock);
    std::atomic<uint32_t>* link = &bucket.head;
    for (uint32_t i; (i = link->load(std::memory_order_relaxed)) != elem; link = &elems_[i].next)
        if (i == nil) return false;
    begin_write(bucket);
    link->store(elems_[elem].next.load(std::memory_order_relaxed), std::memory_order_relaxed);
    end_write(bucket);
    return true;
}

// fresh: elem is not in the table yet. A fresh per-CPU element written by a program has its
// other CPUs' copies zeroed, as pcpu_init_value() does; a fresh element's lock word is zero.
void HashMap::write_value(uint32_t elem, const void* value, uint64_t flags, uint32_t cpu,
                          bool fresh) {
    if (percpu_) {
        if (cpu == all_cpus) {
            std::memcpy(value_ptr(elem, 0), value, value_stride_ * copies_);
            return;
        }
        if (fresh) std::memset(value_ptr(elem, 0), 0, value_stride_ * copies_);
        std::memcpy(value_ptr(elem, cpu), value, def().value_size);
        return;
    }
    uint8_t* dst = value_ptr(elem, 0);
    if (fresh) {
        copy_map_value(def(), dst, value);
        zero_spin_lock(def(), dst);
    } else if (flags & BPF_F_LOCK) {
        copy_map_value_locked(def(), dst, value);
    } else {
        copy_map_value(def(), dst, value);
    }
}

void HashMap::read_value(uint32_t elem, void* out) const {
    if (percpu_) {
        std::memcpy(out, value_ptr(elem, 0), value_stride_ * copies_);
        return;
    }
    copy_map_value(def(), out, value_ptr(elem, 0));
    zero_spin_lock(def(), out);
}

long HashMap::update_elem(const void* key, const void* value, uint64_t flags, uint32_t cpu) {
    const uint64_t op = flags & ~BPF_F_LOCK;
    const uint32_t hash = hash_key(key);
    Bucket& bucket = bucket_of(hash);
    {
        std::lock_guard guard(bucket.lock);
        const uint32_t old = find_locked(bucket, hash, key);
        if (old != nil) {
            if (op == BPF_NOEXIST) return -kerr::eexist;
            write_value(old, value, flags, cpu, false);
            on_update(old);
            return 0;
        }
        if (op == BPF_EXIST) return -kerr::enoent;
    }
    // Taken without the bucket lock held: an LRU eviction locks the victim's bucket.
    const uint32_t fresh = alloc_elem();
    if (fresh == nil) return -kerr::e2big;
    store_key(fresh, key);
    elems_[fresh].hash.store(hash, std::memory_order_relaxed);
    write_value(fresh, value, flags, cpu, true);
    long err = 0;
    bool inserted = false;
    {
        std::lock_guard guard(bucket.lock);
        const uint32_t old = find_locked(bucket, hash, key);
        if (old == nil) {
            begin_write(bucket);
            elems_[fresh].next.store(bucket.head.load(std::memory_order_relaxed),
                                     std::memory_order_relaxed);
            bucket.head.store(fresh, std::memory_order_relaxed);
            end_write(bucket);
            inserted = true;
        } else if (op == BPF_NOEXIST) { // another update inserted the key meanwhile
            err = -kerr::eexist;
        } else {
            write_value(old, value, flags, cpu, false);
            on_update(old);
        }
    }
    if (inserted) {
        on_insert(fresh);
        return 0;
    }
    free_elem(fresh);
    return err;
}

long HashMap::delete_elem(const void* key, void* value_out) {
    const uint32_t hash = hash_key(key);
    Bucket& bucket = bucket_of(hash);
    uint32_t elem;
    {
        std::lock_guard guard(bucket.lock);
        elem = find_locked(bucket, hash, key);
        if (elem == nil) return -kerr::enoent;
        if (value_out) read_value(elem, value_out);
        std::atomic<uint32_t>* link = &bucket.head;
        while (link->load(std::memory_order_relaxed) != elem)
            link = &elems_[link->load(std::memory_order_relaxed)].next;
        begin_write(bucket);
        link->store(elems_[elem].next.load(std::memory_order_relaxed), std::memory_order_relaxed);
        end_write(bucket);
    }
    free_elem(elem);
    return 0;
}

void* HashMap::lookup(const void* key, uint32_t cpu) {
    if (cpu >= copies_ && percpu_) return nullptr;
    const uint32_t elem = find(key);
    return elem == nil ? nullptr : value_ptr(elem, percpu_ ? cpu : 0);
}

// __htab_map_lookup_elem(), which the kernel's JIT calls for BPF_MAP_TYPE_HASH.
Map::DirectLookup HashMap::direct_lookup() const {
    if (type() != MapType::hash) return nullptr;
    return [](Map* map, const void* key) -> void* {
        auto* self = static_cast<HashMap*>(map);
        const uint32_t elem = self->find(key);
        return elem == nil ? nullptr : self->value_ptr(elem, 0);
    };
}

// htab_map_update_elem() and the LRU and per-CPU variants: only the plain hash takes BPF_F_LOCK.
long HashMap::update(const void* key, const void* value, uint64_t flags, uint32_t cpu) {
    if (def().type == MapType::hash) {
        if ((flags & ~BPF_F_LOCK) > BPF_EXIST) return -kerr::einval;
        if ((flags & BPF_F_LOCK) && def().spin_lock_off < 0) return -kerr::einval;
    } else if (flags > BPF_EXIST) {
        return -kerr::einval;
    }
    if (percpu_ && cpu >= copies_) return -kerr::einval;
    return update_elem(key, value, flags, percpu_ ? cpu : 0);
}

long HashMap::erase(const void* key) {
    return delete_elem(key, nullptr);
}

long HashMap::sys_lookup(const void* key, void* value) {
    if (long err = sys_read_perm(def())) return err;
    const uint32_t hash = hash_key(key);
    Bucket& bucket = bucket_of(hash);
    std::lock_guard guard(bucket.lock);
    const uint32_t elem = find_locked(bucket, hash, key);
    if (elem == nil) return -kerr::enoent;
    read_value(elem, value);
    return 0;
}

long HashMap::sys_update(const void* key, const void* value, uint64_t flags) {
    if (long err = sys_update_check(def(), flags)) return err;
    if (!percpu_) return HashMap::update(key, value, flags, 0); // not an override's locking again
    if (flags > BPF_EXIST) return -kerr::einval;
    return update_elem(key, value, flags, all_cpus);
}

long HashMap::sys_delete(const void* key) {
    if (long err = sys_write_perm(def())) return err;
    return delete_elem(key, nullptr);
}

long HashMap::sys_lookup_and_delete(const void* key, void* value) {
    if (long err = sys_read_perm(def())) return err;
    if (long err = sys_write_perm(def())) return err;
    return delete_elem(key, value);
}

// htab_map_get_next_key(): the next element in key's chain, else the first of a later bucket; a
// key that is not there starts over from the first bucket.
long HashMap::get_next_key(const void* key, void* next_key) {
    if (long err = sys_read_perm(def())) return err;
    uint32_t first_bucket = 0;
    if (key) {
        const uint32_t hash = hash_key(key);
        Bucket& bucket = bucket_of(hash);
        std::lock_guard guard(bucket.lock);
        const uint32_t elem = find_locked(bucket, hash, key);
        if (elem != nil) {
            const uint32_t next = elems_[elem].next.load(std::memory_order_relaxed);
            if (next != nil) {
                std::memcpy(next_key, key_ptr(next), def().key_size);
                return 0;
            }
            first_bucket = (hash & (n_buckets_ - 1)) + 1;
        }
    }
    for (uint32_t i = first_bucket; i < n_buckets_; ++i) {
        std::lock_guard guard(buckets_[i].lock);
        const uint32_t head = buckets_[i].head.load(std::memory_order_relaxed);
        if (head != nil) {
            std::memcpy(next_key, key_ptr(head), def().key_size);
            return 0;
        }
    }
    return -kerr::enoent;
}

bool HashMap::owns(uint64_t addr, uint64_t len, bool write) const {
    return prog_access_ok(def(), write) &&
           in_one_value(values_.data(), value_stride_, uint64_t{def().max_entries} * copies_,
                        def().value_size, addr, len);
}

DefCheck detail::htab_map_alloc_check(const MapDef& def) {
    const bool percpu = def.type == MapType::percpu_hash || def.type == MapType::lru_percpu_hash;
    const bool lru = def.type == MapType::lru_hash || def.type == MapType::lru_percpu_hash;
    const bool percpu_lru = def.map_flags & BPF_F_NO_COMMON_LRU;
    constexpr uint32_t mask = BPF_F_NO_PREALLOC | BPF_F_NO_COMMON_LRU | BPF_F_NUMA_NODE |
                              BPF_F_ACCESS_MASK | BPF_F_ZERO_SEED;
    if (def.map_flags & ~mask) return DefError{kerr::einval, "map_flags has unknown flags"};
    if (!flags_access_ok(def.map_flags))
        return DefError{kerr::einval, "map_flags has both BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG"};
    if (!lru && percpu_lru)
        return DefError{kerr::einval, "map_flags: BPF_F_NO_COMMON_LRU is for LRU maps"};
    if (lru && (def.map_flags & BPF_F_NO_PREALLOC))
        return DefError{kerr::enotsupp, "map_flags: LRU maps are always preallocated"};
    if ((def.map_flags & BPF_F_NUMA_NODE) && (percpu || percpu_lru))
        return DefError{kerr::einval, "map_flags: BPF_F_NUMA_NODE on a per-CPU map or LRU"};
    if (def.max_entries == 0) return DefError{kerr::einval, "max_entries must not be 0"};
    if (def.key_size == 0) return DefError{kerr::einval, "key_size must not be 0"};
    if (def.value_size == 0) return DefError{kerr::einval, "value_size must not be 0"};
    constexpr uint64_t htab_elem_size = 48; // sizeof(struct htab_elem) on 64-bit hosts
    if (uint64_t{def.key_size} + def.value_size >= KMALLOC_MAX_SIZE - htab_elem_size)
        return DefError{kerr::e2big, "key_size + value_size too large"};
    if (percpu && round_up8(def.value_size) > PCPU_MIN_UNIT_SIZE)
        return DefError{kerr::e2big, "value_size over 32768 for a per-CPU map"};
    if (def.max_entries > (1u << 31)) return DefError{kerr::e2big, "max_entries over 2^31"};
    return std::nullopt;
}

std::shared_ptr<Map> detail::make_hash_map(const MapDef& def, uint32_t ncpus) {
    return std::make_shared<HashMap>(def, ncpus);
}

} // namespace ebpf
