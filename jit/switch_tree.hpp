// Switch statements in compiled BPF: BPF has no indirect jump, so clang lowers a switch to a tree
// of compares of one register with constants. A code generator can put a jump table in front of
// such a tree: for the values the table covers (each of which was run through the tree here to
// find where it leads) one indirect jump replaces a chain of hard-to-predict branches; other
// values, and any path entering the tree below its root, run the tree as it is.
// Architecture-neutral.
#pragma once

#include "vm/program.hpp"

#include <cstdint>
#include <vector>

namespace ebpf::jit {

struct SwitchTree {
    uint32_t root;                // the first compare
    uint8_t reg;                  // the register every compare reads
    bool is64;                    // JMP compares (else JMP32: the low halves)
    int64_t lo;                   // the values covered, lo..lo + leaves.size() - 1 (signed, in
                                  // the compares' width)
    std::vector<uint32_t> leaves; // for each value, the first instruction past the tree
};

// Trees of at least `min_compares` compares whose constants span at most `max_values` values.
std::vector<SwitchTree> find_switch_trees(const Program& prog, size_t min_compares = 4,
                                          size_t max_values = 256);

} // namespace ebpf::jit
