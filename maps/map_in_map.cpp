// BPF_MAP_TYPE_ARRAY_OF_MAPS and BPF_MAP_TYPE_HASH_OF_MAPS.
#include "maps/map_in_map.hpp"

#include "maps/hash.hpp"

namespace ebpf {

using namespace detail;

bool MapInMap::compatible(const Map& inner) const {
    const MapDef& meta = inner_def_;
    const MapDef& other = inner.def();
    if (meta.type != other.type || meta.key_size != other.key_size ||
        meta.value_size != other.value_size || meta.map_flags != other.map_flags ||
        meta.spin_lock_off != other.spin_lock_off)
        return false;
    // array_map_meta_equal(): programs' lookups in an inner array are bounded by max_entries
    if (meta.type == MapType::array && !(meta.map_flags & BPF_F_INNER_MAP))
        return meta.max_entries == other.max_entries;
    return true;
}

// Called once the slot is set; the caller's reference covers the time in between.
void MapInMap::keep(std::shared_ptr<Map> inner) {
    std::lock_guard guard(kept_lock_);
    kept_.emplace(inner.get(), std::move(inner));
}

namespace {

class ArrayOfMaps final : public MapInMap {
  public:
    ArrayOfMaps(const MapDef& def, const MapDef& inner_def, uint32_t ncpus)
        : MapInMap(def, inner_def, ncpus), slots_(new std::atomic<Map*>[def.max_entries]) {
        for (uint32_t i = 0; i < def.max_entries; ++i)
            slots_[i].store(nullptr);
    }

    void* lookup(const void* key, uint32_t) override {
        const uint32_t index = array_index(key);
        return index < def().max_entries ? slots_[index].load(std::memory_order_acquire) : nullptr;
    }

    // bpf_fd_array_map_update_elem()
    long set(const void* key, std::shared_ptr<Map> inner, uint64_t flags) override {
        if (flags != BPF_ANY) return -kerr::einval;
        const uint32_t index = array_index(key);
        if (index >= def().max_entries) return -kerr::e2big;
        if (!inner || !compatible(*inner)) return -kerr::einval;
        slots_[index].store(inner.get(), std::memory_order_release);
        keep(std::move(inner));
        return 0;
    }

    long sys_update(const void* key, const void*, uint64_t flags) override {
        return fd_array_sys_update(def(), key, flags);
    }

    long sys_delete(const void* key) override {
        if (long err = sys_write_perm(def())) return err;
        const uint32_t index = array_index(key);
        if (index >= def().max_entries) return -kerr::e2big;
        return slots_[index].exchange(nullptr, std::memory_order_acq_rel) ? 0 : -kerr::enoent;
    }

    long get_next_key(const void* key, void* next_key) override {
        if (long err = sys_read_perm(def())) return err;
        return array_get_next_key(def().max_entries, key, next_key);
    }

  private:
    std::unique_ptr<std::atomic<Map*>[]> slots_;
};

// A hash table whose values are the inner Map* pointers.
MapDef pointer_table_def(const MapDef& def) {
    MapDef table = def;
    table.type = MapType::hash;
    table.value_size = sizeof(Map*);
    table.map_flags &= BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE | BPF_F_ZERO_SEED;
    table.spin_lock_off = -1;
    return table;
}

class HashOfMaps final : public MapInMap {
  public:
    HashOfMaps(const MapDef& def, const MapDef& inner_def, uint32_t ncpus)
        : MapInMap(def, inner_def, ncpus), table_(pointer_table_def(def), ncpus) {}

    // Copied out under the bucket lock: a set() of the same key may be rewriting it.
    void* lookup(const void* key, uint32_t) override {
        Map* inner = nullptr;
        table_.sys_lookup(key, &inner);
        return inner;
    }

    // bpf_fd_htab_map_update_elem(): the map first, then the hash map's flags and checks.
    long set(const void* key, std::shared_ptr<Map> inner, uint64_t flags) override {
        if (!inner || !compatible(*inner)) return -kerr::einval;
        if (flags > BPF_EXIST) return -kerr::einval;
        Map* map = inner.get();
        const long err = table_.update(key, &map, flags, 0);
        if (err == 0) keep(std::move(inner));
        return err;
    }

    long sys_update(const void*, const void*, uint64_t flags) override {
        if (long err = sys_update_check(def(), flags)) return err;
        return -kerr::ebadf;
    }

    long sys_delete(const void* key) override {
        if (long err = sys_write_perm(def())) return err;
        return table_.erase(key);
    }

    long get_next_key(const void* key, void* next_key) override {
        if (long err = sys_read_perm(def())) return err;
        return table_.get_next_key(key, next_key);
    }

  private:
    HashMap table_;
};

} // namespace

Result<std::shared_ptr<Map>> create_map_in_map(const MapDef& def, const MapDef& inner_def,
                                               const MapOptions& options) {
    if (def.type != MapType::array_of_maps && def.type != MapType::hash_of_maps)
        return map_def_error(def, {kerr::einval, "not a map-in-map type"});
    if (auto e = check_map_def(def, options)) return map_def_error(def, *e);
    // bpf_map_meta_alloc()
    if (inner_def.type == MapType::array_of_maps || inner_def.type == MapType::hash_of_maps)
        return map_def_error(def, {kerr::einval, "an inner map cannot be a map-in-map"});
    if (inner_def.type == MapType::prog_array)
        return map_def_error(def, {kerr::enotsupp, "a prog array cannot be an inner map"});
    if (auto e = check_map_def(inner_def, options))
        return map_def_error(def, {e->err, "inner map: " + e->what});
    try {
        if (def.type == MapType::array_of_maps)
            return std::shared_ptr<Map>(
                std::make_shared<ArrayOfMaps>(def, inner_def, options.ncpus));
        return std::shared_ptr<Map>(std::make_shared<HashOfMaps>(def, inner_def, options.ncpus));
    } catch (const std::bad_alloc&) {
        return map_def_error(def, {kerr::enomem, "cannot preallocate the map's memory"});
    }
}

} // namespace ebpf
