// Helpers by id: the kernel's, under the kernel's numbering, and any a host registers. Ids are
// not limited to a small table.
#pragma once

#include "helpers/run_state.hpp"

#include <cstdint>
#include <string>
#include <unordered_map>

namespace ebpf {

// R1-R5 in, R0 out; the run's state last, so a JIT passes it in the sixth argument register.
using HelperFn = uint64_t (*)(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                              RunState* state);

struct Helper {
    int32_t id = 0;
    std::string name;
    HelperFn fn = nullptr;
};

class HelperRegistry {
  public:
    // Adds or replaces the helper with this id.
    void add(int32_t id, std::string name, HelperFn fn);
    const Helper* find(int32_t id) const;
    size_t size() const { return helpers_.size(); }

  private:
    std::unordered_map<int32_t, Helper> helpers_;
};

// The kernel's name for a helper id ("bpf_map_lookup_elem" for 1), or "" when it has none.
std::string kernel_helper_name(int32_t id);

// Registers the kernel helpers this build implements (time, random, CPU and NUMA ids, ...).
void register_kernel_helpers(HelperRegistry& registry);

// The function register_kernel_helpers() binds to bpf_map_lookup_elem. Where a program calls it
// on a map known when compiling, a JIT may call the map's Map::direct_lookup() instead.
HelperFn kernel_map_lookup_elem();

} // namespace ebpf
