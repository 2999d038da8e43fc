// Map definitions as libbpf reads them: BTF-defined maps in `.maps` (parse_btf_map_def), the
// legacy `maps` section of struct bpf_map_def records, and one single-element array per global
// data section (.data*, .rodata*, .bss*), plus the `__array(values, ...)` initialisers that
// `.rel.maps` describes.
#pragma once

#include "vm/loader/btf.hpp"
#include "vm/loader/elf.hpp"
#include "vm/loader/object.hpp"
#include "vm/loader/sections.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string_view>

namespace ebpf::loader {

// The kernel's limit on an array map's value (KMALLOC_MAX_SIZE on x86-64), which bounds what a
// global data section may hold.
inline constexpr uint64_t MAX_GLOBAL_DATA_SIZE = 4u << 20;
// libbpf rounds ring buffer sizes up to a power-of-2 multiple of the page size.
inline constexpr uint32_t RINGBUF_PAGE_SIZE = 4096;

struct MapOrigin { // where a definition lives, for the relocations that refer to it
    uint32_t sec_idx = 0;
    uint64_t offset = 0;     // of the definition in its section; 0 for global data
    uint64_t size = 0;       // of the definition
    uint32_t btf_def_id = 0; // .maps: the definition's struct type
};

struct ObjectMaps {
    std::vector<MapSpec> specs;
    std::vector<MapOrigin> origins; // parallel to specs

    // The .maps or legacy map defined at `offset` of section `sec_idx`.
    std::optional<uint32_t> find_def(uint32_t sec_idx, uint64_t offset) const;
    // The global-data map of section `sec_idx`.
    std::optional<uint32_t> find_data(uint32_t sec_idx) const;

    std::map<std::pair<uint32_t, uint64_t>, uint32_t> def_index; // (section, offset) -> map
    std::map<uint32_t, uint32_t> data_index;                     // section -> map
};

// libbpf's btf_fixup_datasec for every DATASEC: sizes from the ELF sections and variable offsets
// from the symbols (clang writes zeros), hidden variables made static, variables sorted by
// offset.
Status fixup_datasecs(btf::Btf& btf, const elf::File& elf);

// In libbpf's order: legacy maps, BTF-defined maps, then global data in section order.
Result<ObjectMaps> collect_maps(const elf::File& elf, const Layout& layout, const btf::Btf* btf,
                                const std::string& object_name);

// libbpf's internal_map_name: the object name prefix truncated so the name fits in 15
// characters; custom sections (".rodata.str1.1") keep their own name.
std::string internal_map_name(const std::string& object_name, std::string_view section);

// Whether a symbol names an entry program (not a .text subprogram), for prog-array initialisers.
using IsEntryProgram = std::function<bool(const elf::Symbol&)>;

// Reads `.rel.maps` into MapSpec::initial_slots.
Status collect_map_relos(ObjectMaps& maps, const elf::File& elf, const Layout& layout,
                         const btf::Btf& btf, const IsEntryProgram& is_entry_program);

} // namespace ebpf::loader
