#include "vm/loader/elf.hpp"

#include <algorithm>
#include <cstring>

namespace ebpf::elf {
namespace {

constexpr size_t EHDR_SIZE = 64, SHDR_SIZE = 64, SYM_SIZE = 24, REL_SIZE = 16;
constexpr uint8_t ELFMAG[4] = {0x7f, 'E', 'L', 'F'};
constexpr uint8_t ELFCLASS64 = 2, ELFDATA2LSB = 1, ELFDATA2MSB = 2;

template <typename T> T load_le(const uint8_t* p) {
    T v = 0;
    for (size_t i = 0; i < sizeof(T); i++)
        v |= static_cast<T>(static_cast<T>(p[i]) << (8 * i));
    return v;
}

Error fail(std::string message) {
    return Error{"elf: " + std::move(message), std::nullopt};
}

// [offset, offset + size) lies inside a buffer of `limit` bytes; no overflow on hostile values.
bool fits(uint64_t offset, uint64_t size, uint64_t limit) {
    return offset <= limit && size <= limit - offset;
}

// The NUL-terminated string at `off` in a string table section, or nullopt when the offset is
// out of range or the string runs off the end of the section.
std::optional<std::string_view> string_at(std::span<const uint8_t> table, uint64_t off) {
    if (off >= table.size()) return std::nullopt;
    const auto* begin = reinterpret_cast<const char*>(table.data()) + off;
    const void* nul = std::memchr(begin, '\0', table.size() - off);
    if (!nul) return std::nullopt;
    return std::string_view(begin, static_cast<const char*>(nul) - begin);
}

struct RawHeader {
    uint32_t name, type, link, info;
    uint64_t flags, offset, size, entsize;
};

RawHeader read_shdr(const uint8_t* p) {
    return RawHeader{load_le<uint32_t>(p + 0),  load_le<uint32_t>(p + 4), load_le<uint32_t>(p + 40),
                     load_le<uint32_t>(p + 44), load_le<uint64_t>(p + 8), load_le<uint64_t>(p + 24),
                     load_le<uint64_t>(p + 32), load_le<uint64_t>(p + 56)};
}

std::string idx(uint64_t i) {
    return "#" + std::to_string(i);
}

Status check_overlaps(const std::vector<Section>& sections, uint64_t shoff, uint64_t shsize) {
    struct Extent {
        uint64_t begin, end;
        const Section* sec; // null: the ELF header or the section header table
        const char* what;
    };
    std::vector<Extent> extents{{0, EHDR_SIZE, nullptr, "the ELF header"},
                                {shoff, shoff + shsize, nullptr, "the section header table"}};
    for (const auto& sec : sections)
        if (sec.type != SHT_NULL && sec.type != SHT_NOBITS && sec.size > 0)
            extents.push_back({sec.offset, sec.offset + sec.size, &sec, nullptr});
    std::sort(extents.begin(), extents.end(),
              [](const Extent& a, const Extent& b) { return a.begin < b.begin; });
    for (size_t i = 1; i < extents.size(); i++) {
        const auto& a = extents[i - 1];
        const auto& b = extents[i];
        if (b.begin >= a.end) continue;
        auto name = [](const Extent& e) { return e.sec ? describe(*e.sec) : std::string(e.what); };
        return fail(name(a) + " and " + name(b) + " overlap (file offsets " +
                    std::to_string(a.begin) + " and " + std::to_string(b.begin) + ")");
    }
    return std::nullopt;
}

} // namespace

std::string describe(const Section& sec) {
    return "section " + idx(sec.index) + " '" + std::string(sec.name) + "'";
}

Result<File> File::parse(std::span<const uint8_t> bytes) {
    const uint64_t size = bytes.size();
    const uint8_t* base = bytes.data();
    if (size < EHDR_SIZE)
        return fail("file of " + std::to_string(size) + " bytes is too short for an ELF header");
    if (std::memcmp(base, ELFMAG, sizeof ELFMAG) != 0) return fail("not an ELF file (bad magic)");
    if (base[4] != ELFCLASS64) return fail("not a 64-bit ELF object");
    if (base[5] == ELFDATA2MSB) return fail("big-endian objects are not supported");
    if (base[5] != ELFDATA2LSB) return fail("unknown byte order " + std::to_string(base[5]));
    const auto e_type = load_le<uint16_t>(base + 16);
    const auto e_machine = load_le<uint16_t>(base + 18);
    if (e_type != ET_REL)
        return fail("not a relocatable object (e_type " + std::to_string(e_type) + ")");
    // Old LLVM wrote EM_NONE, as libbpf still accepts.
    if (e_machine != EM_BPF && e_machine != EM_NONE)
        return fail("not a BPF object (e_machine " + std::to_string(e_machine) + ")");

    const auto shoff = load_le<uint64_t>(base + 40);
    const auto shentsize = load_le<uint16_t>(base + 58);
    uint64_t shnum = load_le<uint16_t>(base + 60);
    uint32_t shstrndx = load_le<uint16_t>(base + 62);
    if (shoff == 0) return fail("no section header table");
    if (shentsize != SHDR_SIZE)
        return fail("section header size " + std::to_string(shentsize) + " is not 64");
    if (!fits(shoff, SHDR_SIZE, size))
        return fail("section header table at offset " + std::to_string(shoff) +
                    " is past the end of the file (" + std::to_string(size) + " bytes)");
    // Extended numbering: section #0 holds the real count and name table index.
    const RawHeader sh0 = read_shdr(base + shoff);
    if (shnum == 0) shnum = sh0.size;
    if (shstrndx == SHN_XINDEX) shstrndx = sh0.link;
    if (shnum == 0 || shnum > (size - shoff) / SHDR_SIZE)
        return fail("section header table of " + std::to_string(shnum) + " entries at offset " +
                    std::to_string(shoff) + " runs past the end of the file (" +
                    std::to_string(size) + " bytes)");
    if (shstrndx >= shnum)
        return fail("section name table index " + std::to_string(shstrndx) + " is out of range (" +
                    std::to_string(shnum) + " sections)");

    std::vector<RawHeader> raw;
    raw.reserve(shnum);
    for (uint64_t i = 0; i < shnum; i++)
        raw.push_back(read_shdr(base + shoff + i * SHDR_SIZE));

    const RawHeader& shstr = raw[shstrndx];
    if (shstr.type != SHT_STRTAB)
        return fail("section name table " + idx(shstrndx) + " is not a string table");
    if (!fits(shstr.offset, shstr.size, size))
        return fail("section name table " + idx(shstrndx) + " extends past the end of the file");
    const auto names = bytes.subspan(shstr.offset, shstr.size);

    File file;
    file.sections_.reserve(shnum);
    for (uint32_t i = 0; i < shnum; i++) {
        const RawHeader& h = raw[i];
        Section sec;
        sec.index = i;
        sec.type = h.type;
        sec.flags = h.flags;
        sec.offset = h.offset;
        sec.size = h.size;
        sec.link = h.link;
        sec.info = h.info;
        sec.entsize = h.entsize;
        if (i != 0) {
            const auto name = string_at(names, h.name);
            if (!name)
                return fail("section " + idx(i) + ": name offset " + std::to_string(h.name) +
                            " is out of range of the section name table");
            sec.name = *name;
        }
        if (sec.type != SHT_NULL && sec.type != SHT_NOBITS) {
            if (!fits(h.offset, h.size, size))
                return fail(describe(sec) + " extends past the end of the file (offset " +
                            std::to_string(h.offset) + ", size " + std::to_string(h.size) +
                            ", file " + std::to_string(size) + " bytes)");
            sec.data = bytes.subspan(h.offset, h.size);
        }
        file.sections_.push_back(sec);
    }
    if (auto err = check_overlaps(file.sections_, shoff, shnum * SHDR_SIZE)) return *err;

    const Section* symtab = nullptr;
    for (const auto& sec : file.sections_) {
        if (sec.type != SHT_SYMTAB) continue;
        if (symtab)
            return fail("multiple symbol tables (" + describe(*symtab) + ", " + describe(sec) +
                        ")");
        symtab = &sec;
    }
    if (!symtab) return fail("no symbol table (stripped object?)");
    if (symtab->size % SYM_SIZE != 0)
        return fail(describe(*symtab) + ": size " + std::to_string(symtab->size) +
                    " is not a multiple of " + std::to_string(SYM_SIZE));
    const Section* strtab = file.section(symtab->link);
    if (!strtab || strtab->index == 0)
        return fail(describe(*symtab) + ": string table index " + std::to_string(symtab->link) +
                    " is out of range");
    if (strtab->type != SHT_STRTAB)
        return fail(describe(*symtab) + ": linked " + describe(*strtab) + " is not a string table");
    file.symtab_index_ = symtab->index;

    const size_t nsyms = symtab->size / SYM_SIZE;
    file.symbols_.reserve(nsyms);
    for (uint32_t i = 0; i < nsyms; i++) {
        const uint8_t* p = symtab->data.data() + size_t{i} * SYM_SIZE;
        Symbol sym;
        sym.index = i;
        const auto name_off = load_le<uint32_t>(p + 0);
        sym.info = p[4];
        sym.other = p[5];
        sym.shndx = load_le<uint16_t>(p + 6);
        sym.value = load_le<uint64_t>(p + 8);
        sym.size = load_le<uint64_t>(p + 16);
        const auto name = string_at(strtab->data, name_off);
        if (!name)
            return fail("symbol " + idx(i) + ": name offset " + std::to_string(name_off) +
                        " is out of range of " + describe(*strtab));
        sym.name = *name;
        file.symbols_.push_back(sym);
    }
    return file;
}

const Section* File::section(uint32_t index) const {
    return index < sections_.size() ? &sections_[index] : nullptr;
}

const Section* File::find(std::string_view name) const {
    for (const auto& sec : sections_)
        if (sec.index != 0 && sec.name == name) return &sec;
    return nullptr;
}

Result<std::vector<Rel>> File::relocations(const Section& rel) const {
    if (rel.type != SHT_REL) return fail(describe(rel) + " is not an SHT_REL section");
    if (rel.entsize != REL_SIZE)
        return fail(describe(rel) + ": entry size " + std::to_string(rel.entsize) + " is not " +
                    std::to_string(REL_SIZE));
    if (rel.size % REL_SIZE != 0)
        return fail(describe(rel) + ": size " + std::to_string(rel.size) +
                    " is not a multiple of " + std::to_string(REL_SIZE));
    if (rel.link != symtab_index_)
        return fail(describe(rel) + ": linked symbol table " + idx(rel.link) +
                    " is not the symbol table " + idx(symtab_index_));
    std::vector<Rel> rels;
    rels.reserve(rel.size / REL_SIZE);
    for (size_t i = 0; i < rel.size / REL_SIZE; i++) {
        const uint8_t* p = rel.data.data() + i * REL_SIZE;
        const auto r_info = load_le<uint64_t>(p + 8);
        const Rel r{load_le<uint64_t>(p), static_cast<uint32_t>(r_info >> 32)};
        if (r.sym >= symbols_.size())
            return fail(describe(rel) + ": relocation " + idx(i) + ": symbol " + idx(r.sym) +
                        " is past the end of the symbol table (" + std::to_string(symbols_.size()) +
                        " symbols)");
        rels.push_back(r);
    }
    return rels;
}

} // namespace ebpf::elf
