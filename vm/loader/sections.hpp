// What each ELF section of a BPF object is, by libbpf's conventions (bpf_object__elf_collect):
// code, global data, map definitions, BTF, license and version, and the relocation sections
// that apply to code and to `.maps`.
#pragma once

#include "vm/loader/elf.hpp"

#include <vector>

namespace ebpf::loader {

enum class SecType {
    unused,
    program, // SHF_EXECINSTR code with at least one instruction
    data,    // .data, .data.*
    rodata,  // .rodata, .rodata.*
    bss,     // .bss, .bss.* (SHT_NOBITS)
    relo,    // SHT_REL for a program section or for .maps
};

struct Layout {
    std::vector<SecType> types;     // by section index
    uint32_t text_shndx = 0;        // .text with code; 0 when there is none
    uint32_t maps_shndx = 0;        // .maps
    uint32_t legacy_maps_shndx = 0; // maps
    const elf::Section* license = nullptr;
    const elf::Section* version = nullptr;
    const elf::Section* btf = nullptr;
    const elf::Section* btf_ext = nullptr;

    bool is_data(uint32_t shndx) const {
        const SecType t = types[shndx];
        return t == SecType::data || t == SecType::rodata || t == SecType::bss;
    }
};

Result<Layout> classify_sections(const elf::File& elf);

} // namespace ebpf::loader
