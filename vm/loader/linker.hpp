// The relocation and linking pass, as libbpf's bpf_object__collect_prog_relos,
// bpf_object__relocate_data and bpf_object__relocate_calls do it: every function of a program
// section is cut out by its symbol, map and global-data references are resolved to map indices,
// and each entry program gets the .text subprograms it calls (transitively, each once, in the
// order libbpf appends them) with call and callback offsets fixed up and its BTF.ext func and
// line info rebased on the linked instructions.
#pragma once

#include "vm/isa/insn.hpp"
#include "vm/loader/btf.hpp"
#include "vm/loader/elf.hpp"
#include "vm/loader/externs.hpp"
#include "vm/loader/map_defs.hpp"
#include "vm/loader/object.hpp"
#include "vm/loader/sections.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ebpf::loader {

// Bounds on what linking may produce: the kernel's limit for one program, and a budget for the
// whole object so a small hostile file cannot multiply a large .text into gigabytes.
inline constexpr size_t MAX_LINKED_INSNS = BPF_COMPLEXITY_LIMIT_INSNS;
inline constexpr size_t MAX_OBJECT_INSNS = 16 * BPF_COMPLEXITY_LIMIT_INSNS;
// Budget for the func/line info (records and the names, file names and source lines they copy)
// across all programs, where shared subprograms repeat theirs.
inline constexpr size_t MAX_INFO_BYTES = 128u << 20;

// A function of a program section (libbpf's bpf_program before linking): an entry program, or
// a .text subprogram.
struct Function {
    std::string_view name;
    uint32_t sec_idx = 0;
    std::string_view sec_name;
    size_t sec_insn_off = 0; // index of its first instruction in the section
    std::vector<Insn> insns; // map and global-data references already relocated
    bool subprog = false;
    // Local calls and callback addresses: instruction index -> target instruction index in .text.
    std::map<size_t, size_t> targets;
    // Instructions turned into invalid calls (failed CO-RE relocations, unresolved weak kfuncs),
    // by instruction index, with the reason.
    std::map<size_t, std::string> poisoned;
};

// The function holding instruction `insn_idx` of section `sec_idx` (find_prog_by_sec_insn);
// `funcs` sorted as collect_functions returns them.
std::optional<size_t> find_function(const std::vector<Function>& funcs, uint32_t sec_idx,
                                    size_t insn_idx);

// The functions of all program sections, sorted by section and offset.
Result<std::vector<Function>> collect_functions(const elf::File& elf, const Layout& layout);

// Applies the relocation sections of program sections: map, global-data and kconfig lddw are
// resolved (BPF_PSEUDO_MAP_IDX / BPF_PSEUDO_MAP_IDX_VALUE), unresolved ksym lddw get 0 and
// unresolved weak kfunc calls are poisoned, call and callback targets recorded.
Status relocate(std::vector<Function>& funcs, const elf::File& elf, const Layout& layout,
                const ObjectMaps& maps, const Externs& externs);

// One ProgramSpec per entry program, in function order.
Result<std::vector<ProgramSpec>> link_programs(const std::vector<Function>& funcs,
                                               const Layout& layout, const btf::Btf* btf,
                                               const btf::BtfExt* btf_ext);

} // namespace ebpf::loader
