// Dumping a map the way the bpf() syscall sees it, the same way for the kernel's maps and this
// VM's: both sides implement MapView and dump_map() turns it into comparable text.
#pragma once

#include "maps/map_types.hpp"
#include "tests/progs/oracle.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace oracle {

// A record a ring buffer or perf event array delivered to user space.
struct Record {
    uint32_t cpu = 0; // perf event arrays: the CPU whose buffer held it
    Bytes data;
};

class MapView {
  public:
    virtual ~MapView() = default;

    virtual ebpf::MapType type() const = 0;
    virtual uint32_t key_size() const = 0;
    virtual uint32_t value_size() const = 0; // one CPU's
    virtual uint32_t max_entries() const = 0;
    virtual uint32_t ncpus() const = 0; // copies of a per-CPU value

    // The syscall's commands; 0 or a negative errno. Per-CPU values are ncpus() copies of
    // round_up(value_size(), 8) bytes. pop and push are queue/stack's lookup_and_delete and
    // update with no key.
    virtual long next_key(const void* key, void* next) = 0;
    virtual long lookup(const void* key, void* value) = 0;
    virtual long pop(void* value) = 0;
    virtual long push(const void* value) = 0;

    // Ring buffer and perf event array records not consumed yet, oldest first; consumed.
    virtual std::vector<Record> consume() = 0;
};

// The map's contents as text. Hash-like kinds are sorted by key, arrays in index order, queues
// and stacks in pop order (they are popped and pushed back, so the map is unchanged), records in
// arrival order (consumed). Prog arrays and array-of-maps dump nothing: their values are program
// and map ids, which mean nothing across two systems; hash-of-maps dumps its keys.
Dump dump_map(MapView& map);

// What dump_map gives for a map holding these elements: expectations are written with it.
// indexed: an array (the elements in index order, all of them); otherwise sorted by key.
Dump expected_dump(const std::vector<std::pair<Bytes, Bytes>>& elements, bool indexed);

// The map kinds whose values are per-CPU.
bool is_percpu(ebpf::MapType type);

} // namespace oracle
