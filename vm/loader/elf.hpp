// A bounds-checked reader for the ELF64 little-endian relocatable objects clang writes for BPF.
// Every header, offset, size and index is checked before use; names are views into the file's
// own bytes, so the reader copies nothing and allocates in proportion to the section and symbol
// counts only.
#pragma once

#include "vm/isa/result.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ebpf::elf {

inline constexpr uint16_t ET_REL = 1;
inline constexpr uint16_t EM_NONE = 0, EM_BPF = 247;

inline constexpr uint32_t SHT_NULL = 0, SHT_PROGBITS = 1, SHT_SYMTAB = 2, SHT_STRTAB = 3,
                          SHT_NOBITS = 8, SHT_REL = 9, SHT_LLVM_ADDRSIG = 0x6fff4c03;
inline constexpr uint64_t SHF_EXECINSTR = 0x4;

inline constexpr uint16_t SHN_UNDEF = 0, SHN_LORESERVE = 0xff00, SHN_XINDEX = 0xffff;

inline constexpr uint8_t STB_LOCAL = 0, STB_GLOBAL = 1, STB_WEAK = 2;
inline constexpr uint8_t STT_OBJECT = 1, STT_FUNC = 2, STT_SECTION = 3;
inline constexpr uint8_t STV_INTERNAL = 1, STV_HIDDEN = 2;

struct Section {
    uint32_t index = 0;
    std::string_view name;
    uint32_t type = SHT_NULL;
    uint64_t flags = 0;
    uint64_t offset = 0;
    uint64_t size = 0;
    uint32_t link = 0;
    uint32_t info = 0;
    uint64_t entsize = 0;
    std::span<const uint8_t> data; // empty for SHT_NOBITS

    bool executable() const { return type == SHT_PROGBITS && (flags & SHF_EXECINSTR); }
};

struct Symbol {
    uint32_t index = 0;
    std::string_view name;
    uint8_t info = 0;
    uint8_t other = 0;
    uint16_t shndx = SHN_UNDEF;
    uint64_t value = 0;
    uint64_t size = 0;

    uint8_t bind() const { return info >> 4; }
    uint8_t type() const { return info & 0xf; }
    uint8_t visibility() const { return other & 0x3; }
};

// An Elf64_Rel. Its type is not kept: as in libbpf, the instruction it applies to decides
// (R_BPF_64_64 on lddw, R_BPF_64_32 on calls, R_BPF_64_ABS64 in .rel.maps; the ABS32 and
// NODYLD32 relocations clang writes only concern DWARF and BTF sections, which need none).
struct Rel {
    uint64_t offset = 0;
    uint32_t sym = 0;
};

// "section #3 '.text'": how errors name a section.
std::string describe(const Section& sec);

class File {
  public:
    // Checks the ELF header, the section header table, every section's extent (no section past
    // the end of the file, no two sections overlapping), the section names, and the one symbol
    // table with its string table.
    static Result<File> parse(std::span<const uint8_t> bytes);

    const std::vector<Section>& sections() const { return sections_; }
    // Null for an index past the section header table.
    const Section* section(uint32_t index) const;
    // The first section of that name, as libelf's lookup by name finds it.
    const Section* find(std::string_view name) const;

    const std::vector<Symbol>& symbols() const { return symbols_; }
    uint32_t symtab_index() const { return symtab_index_; }

    // The entries of an SHT_REL section, each checked to name a symbol of the symbol table.
    Result<std::vector<Rel>> relocations(const Section& rel) const;

  private:
    std::vector<Section> sections_;
    std::vector<Symbol> symbols_;
    uint32_t symtab_index_ = 0;
};

} // namespace ebpf::elf
