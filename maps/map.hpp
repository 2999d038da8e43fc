// One interface for every map kind, like the kernel's bpf_map_ops. Two views of a map:
//  - the program's, through helpers (lookup returns a pointer into the element's stable memory;
//    per-CPU maps give the calling CPU's copy), and
//  - the host's, as the bpf() syscall has it (values copied in and out; per-CPU values are
//    round_up(value_size, 8) bytes for each CPU, one after the other).
// Errors are the kernel's, as negative errno values (-ENOENT, -EEXIST, -E2BIG, -EINVAL, ...).
// Maps are safe to use from many host threads at once; element memory is preallocated and stays
// valid for the map's lifetime, so a pointer a program got stays usable after a delete.
#pragma once

#include "maps/map_types.hpp"
#include "vm/isa/result.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace ebpf {

class Program; // what a prog array holds; maps only keep pointers to it

struct MapDef {
    MapType type = MapType::unspec;
    uint32_t key_size = 0;
    uint32_t value_size = 0;
    uint32_t max_entries = 0;
    uint32_t map_flags = 0;
    uint64_t map_extra = 0;     // bloom filter: the number of hashes (0: 5); 0 for other kinds
    int32_t spin_lock_off = -1; // offset of a struct bpf_spin_lock in the value, from BTF; -1: none
    int32_t timer_off = -1;     // offset of a struct bpf_timer in the value, from BTF; -1: none
    std::string name;
};

struct MapOptions {
    uint32_t ncpus = 1; // per-CPU maps keep this many copies of each value
};

class Map {
  public:
    virtual ~Map() = default;
    Map(const Map&) = delete;
    Map& operator=(const Map&) = delete;

    const MapDef& def() const { return def_; }
    MapType type() const { return def_.type; }
    uint32_t ncpus() const { return ncpus_; }

    // --- The program's view (what helpers call) ---
    // The value for key (this CPU's copy for per-CPU maps; the inner Map* for map-in-maps), or
    // null when there is none or the kind has no lookup.
    virtual void* lookup(const void* key, uint32_t cpu);
    // The kernel's map_gen_lookup as a function: what a JIT may call in place of the
    // bpf_map_lookup_elem helper where R1 is this map, with R1 and R2 as they are; the same
    // answer as lookup(). Null where the kind's lookup needs the run (a per-CPU map, its CPU) or
    // does more (an LRU map marks the element).
    using DirectLookup = void* (*)(Map* map, const void* key);
    virtual DirectLookup direct_lookup() const { return nullptr; }
    virtual long update(const void* key, const void* value, uint64_t flags, uint32_t cpu);
    virtual long erase(const void* key);
    // Queue and stack maps.
    virtual long push(const void* value, uint64_t flags);
    virtual long pop(void* value);
    virtual long peek(void* value);

    // --- The host's view (the bpf() syscall's) ---
    virtual long sys_lookup(const void* key, void* value);
    virtual long sys_update(const void* key, const void* value, uint64_t flags);
    virtual long sys_delete(const void* key);
    // key null: the first key. -ENOENT after the last one.
    virtual long get_next_key(const void* key, void* next_key);
    // BPF_MAP_LOOKUP_AND_DELETE_ELEM: hash kinds (key) and queue/stack (key null: pop);
    // -ENOTSUPP (524) elsewhere, as the kernel answers.
    virtual long sys_lookup_and_delete(const void* key, void* value);

    // Checked mode: true when [addr, addr + len) lies inside one value this map gave a program
    // (not across two), and write is allowed there when asked.
    virtual bool owns(uint64_t addr, uint64_t len, bool write) const;

    // For BPF_PSEUDO_MAP_VALUE (global data): the address of element 0's value plus offset, or
    // null when the kind has no direct value access or offset is out of range.
    virtual uint8_t* direct_value(uint32_t offset);

    // Size of one CPU's value in the syscall view: round_up(value_size, 8) for per-CPU maps.
    uint32_t percpu_value_stride() const { return (def_.value_size + 7) & ~7u; }

  protected:
    Map(const MapDef& def, uint32_t ncpus) : def_(def), ncpus_(ncpus) {}

  private:
    MapDef def_;
    uint32_t ncpus_;
};

// Whether this VM has the kind: the kernel's others (socket maps, cgroup and local storages,
// struct_ops, arenas, user ring buffers) it does not.
bool map_type_supported(MapType type);

// Creates a map of def.type with the kernel's checks on its attributes (-EINVAL for sizes the
// kernel refuses, with a message that names the attribute).
Result<std::shared_ptr<Map>> create_map(const MapDef& def, const MapOptions& options = {});

} // namespace ebpf
