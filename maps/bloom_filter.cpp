// BPF_MAP_TYPE_BLOOM_FILTER: bloom_map_alloc's checks and sizing, and hash() as the kernel's
// (jhash2 over u32-aligned values, jhash otherwise, seeded with hash_seed + the function's
// index), so the same pushes give the same peek answers as in the kernel.
#include "maps/bloom_filter.hpp"

#include "maps/jhash.hpp"

#include <atomic>
#include <random>

namespace ebpf {

using namespace detail;

namespace {

constexpr uint32_t BLOOM_CREATE_FLAG_MASK = BPF_F_NUMA_NODE | BPF_F_ZERO_SEED | BPF_F_ACCESS_MASK;

class BloomFilter final : public Map {
  public:
    BloomFilter(const MapDef& def, uint32_t ncpus)
        : Map(def, ncpus), nr_hash_funcs_(def.map_extra ? uint32_t(def.map_extra) : 5),
          bitset_mask_(bitset_mask(def.max_entries, nr_hash_funcs_)),
          aligned_u32_count_(def.value_size % 4 ? 0 : def.value_size / 4),
          hash_seed_(def.map_flags & BPF_F_ZERO_SEED ? 0 : std::random_device{}()),
          bitset_(checked_size(uint64_t{bitset_mask_} / 64 + 1, 8)) {}

    void* lookup(const void*, uint32_t) override { return nullptr; }
    long update(const void*, const void*, uint64_t, uint32_t) override { return -kerr::einval; }
    long erase(const void*) override { return -kerr::eopnotsupp; }

    long push(const void* value, uint64_t flags) override {
        if (flags != BPF_ANY) return -kerr::einval;
        for (uint32_t i = 0; i < nr_hash_funcs_; ++i) {
            const uint32_t h = hash(value, i);
            word(h).fetch_or(uint64_t{1} << (h % 64), std::memory_order_relaxed);
        }
        return 0;
    }
    long pop(void*) override { return -kerr::eopnotsupp; }
    long peek(void* value) override {
        for (uint32_t i = 0; i < nr_hash_funcs_; ++i) {
            const uint32_t h = hash(value, i);
            if (!(word(h).load(std::memory_order_relaxed) & (uint64_t{1} << (h % 64))))
                return -kerr::enoent;
        }
        return 0;
    }

    // The syscall's lookup takes the value to test (nothing is copied back), its update pushes;
    // both refuse a key.
    long sys_lookup(const void* key, void* value) override {
        if (long err = sys_read_perm(def())) return err;
        if (key) return -kerr::einval;
        return peek(value);
    }
    long sys_update(const void* key, const void* value, uint64_t flags) override {
        if (long err = sys_update_check(def(), flags)) return err;
        if (key) return -kerr::einval;
        return push(value, flags);
    }
    long sys_delete(const void*) override {
        if (long err = sys_write_perm(def())) return err;
        return -kerr::eopnotsupp;
    }
    long get_next_key(const void*, void*) override {
        if (long err = sys_read_perm(def())) return err;
        return -kerr::eopnotsupp;
    }

  private:
    // n * k / ln 2 bits (7/5 for 1/ln 2), rounded up to a power of two, at least 64; 2^32 bits
    // when that passes 2^31.
    static uint32_t bitset_mask(uint32_t max_entries, uint32_t nr_hash_funcs) {
        uint32_t nr_bits;
        if (__builtin_mul_overflow(max_entries, nr_hash_funcs, &nr_bits) ||
            __builtin_mul_overflow(nr_bits / 5, 7u, &nr_bits) || nr_bits > (1u << 31))
            return UINT32_MAX;
        return (nr_bits <= 64 ? 64 : std::bit_ceil(nr_bits)) - 1;
    }

    uint32_t hash(const void* value, uint32_t index) const {
        const uint32_t h = aligned_u32_count_ ? jhash2(static_cast<const uint32_t*>(value),
                                                       aligned_u32_count_, hash_seed_ + index)
                                              : jhash(value, def().value_size, hash_seed_ + index);
        return h & bitset_mask_;
    }

    std::atomic_ref<uint64_t> word(uint32_t bit) const {
        return std::atomic_ref<uint64_t>(reinterpret_cast<uint64_t*>(bitset_.data())[bit / 64]);
    }

    const uint32_t nr_hash_funcs_;
    const uint32_t bitset_mask_;
    const uint32_t aligned_u32_count_;
    const uint32_t hash_seed_;
    Arena bitset_;
};

} // namespace

DefCheck detail::bloom_map_alloc_check(const MapDef& def) {
    if (def.value_size > KMALLOC_MAX_SIZE) return DefError{kerr::e2big, "value_size too large"};
    if (def.key_size != 0) return DefError{kerr::einval, "key_size must be 0"};
    if (def.value_size == 0) return DefError{kerr::einval, "value_size must not be 0"};
    if (def.max_entries == 0) return DefError{kerr::einval, "max_entries must not be 0"};
    if (def.map_flags & ~BLOOM_CREATE_FLAG_MASK)
        return DefError{kerr::einval, "map_flags has unknown flags"};
    if (!flags_access_ok(def.map_flags))
        return DefError{kerr::einval, "map_flags has both BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG"};
    if (def.map_extra & ~uint64_t{0xf})
        return DefError{kerr::einval, "map_extra (the number of hashes) must be below 16"};
    return std::nullopt;
}

std::shared_ptr<Map> detail::make_bloom_filter(const MapDef& def, uint32_t ncpus) {
    return std::make_shared<BloomFilter>(def, ncpus);
}

} // namespace ebpf
