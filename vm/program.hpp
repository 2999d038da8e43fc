// A loaded program: the instructions as given, validated, and pre-decoded for the interpreter
// (opcode rows resolved, jump and call targets made absolute, lddw folded into one 64-bit
// immediate, helper calls bound to their functions).
#pragma once

#include "helpers/registry.hpp"
#include "maps/map.hpp"
#include "vm/isa/insn.hpp"
#include "vm/isa/opcodes.hpp"
#include "vm/isa/result.hpp"

#include <span>
#include <vector>

namespace ebpf {

// One pre-decoded instruction. Index i of the slots is instruction i of the program, so errors
// and logs name the same index either way; the second slot of an lddw is never executed.
struct Slot {
    Op op;
    uint8_t dst;
    uint8_t src;
    int32_t off;  // memory offset; absolute target index for jumps and local calls
    uint64_t imm; // sign-extended imm; lddw's 64-bit value; a HelperFn for helper calls
};
static_assert(sizeof(Slot) == 16);

class Program {
  public:
    // Validates and decodes; helper calls must name helpers the registry has. lddw map forms
    // name maps by index into `maps` (BPF_PSEUDO_MAP_FD and _IDX: the map; _VALUE and
    // _IDX_VALUE: its value at the offset in the second slot); BPF_PSEUDO_FUNC gives the
    // callback's instruction index. The registry and the maps must outlive the program.
    static Result<Program> load(Insns insns, const HelperRegistry& helpers, std::span<Map* const> maps = {});

    Insns insns() const { return insns_; }
    const std::vector<Slot>& slots() const { return slots_; }
    const HelperRegistry& helpers() const { return *helpers_; }
    // The maps the program refers to, for checked mode's bounds.
    std::span<Map* const> maps() const { return maps_; }

  private:
    std::vector<Insn> insns_;
    std::vector<Slot> slots_;
    const HelperRegistry* helpers_ = nullptr;
    std::vector<Map*> maps_;
};

} // namespace ebpf
