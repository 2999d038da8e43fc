// Hostile input: truncated objects, random byte flips and hand-broken headers. load_elf must
// return an Error or an Object, never crash or read out of bounds; run this under
// -fsanitize=address,undefined. Every case copies the bytes into a buffer of exactly the file's
// size so the sanitizer sees any read past the end.
#include "tests/loader/loader_test.hpp"

#include "vm/loader/btf.hpp"
#include "vm/loader/elf.hpp"

#include <algorithm>
#include <cstring>
#include <random>

using namespace ebpf;
using namespace ebpf::loader_test;

namespace {

template <typename T> void store(std::vector<uint8_t>& bytes, uint64_t off, T v) {
    REQUIRE(off + sizeof(T) <= bytes.size());
    for (size_t i = 0; i < sizeof(T); i++)
        bytes[off + i] = static_cast<uint8_t>(v >> (8 * i));
}

template <typename T> T fetch(const std::vector<uint8_t>& bytes, uint64_t off) {
    REQUIRE(off + sizeof(T) <= bytes.size());
    T v = 0;
    for (size_t i = 0; i < sizeof(T); i++)
        v |= static_cast<T>(T{bytes[off + i]} << (8 * i));
    return v;
}

// What a loaded object promises whatever the input: every local call and callback address lands
// inside its program, and func/line info points at its instructions.
void check_invariants(const Object& obj) {
    for (const auto& prog : obj.programs) {
        for (size_t i = 0; i < prog.insns.size(); i++) {
            const Insn& insn = prog.insns[i];
            const bool call = insn.opcode == (BPF_JMP | BPF_CALL) && insn.src == BPF_PSEUDO_CALL &&
                              insn.dst == 0 && insn.off == 0;
            const bool func = insn.opcode == BPF_LDDW && insn.src == BPF_PSEUDO_FUNC;
            if (call || func) {
                const int64_t target = static_cast<int64_t>(i) + insn.imm + 1;
                REQUIRE(target >= 0);
                REQUIRE(static_cast<size_t>(target) < prog.insns.size());
            }
        }
        for (const auto& f : prog.func_info)
            REQUIRE(f.insn < prog.insns.size());
        for (const auto& l : prog.line_info)
            REQUIRE(l.insn < prog.insns.size());
    }
}

// What the hostile objects load against: nothing from the host, core_target's BTF for CO-RE
// and values for every extern of externs.c, so that the intact objects load.
const LoadOptions& fuzz_options() {
    static const LoadOptions options = [] {
        LoadOptions o;
        o.host_defaults = false;
        auto btf = parse_target_btf(object_bytes("core_target"));
        REQUIRE(btf);
        o.target_btf = *btf;
        o.kconfig = {{"LINUX_KERNEL_VERSION", "0x60c00"}, {"CONFIG_TEST_BOOL", "y"},
                     {"CONFIG_TEST_TRISTATE", "m"},       {"CONFIG_TEST_CHAR", "y"},
                     {"CONFIG_TEST_ULONG", "1"},          {"CONFIG_TEST_INT", "-1"},
                     {"CONFIG_TEST_USHORT", "2"},         {"CONFIG_TEST_STR", "\"s\""}};
        return o;
    }();
    return options;
}

// The objects the hostile tests start from: maps, calls, global data, CO-RE and externs.
const char* const FUZZ_OBJECTS[] = {"maps", "programs", "globals", "core_reads", "externs"};

// Loads from a buffer of exactly `bytes`' size; returns whether an Object came back.
bool try_load(const std::vector<uint8_t>& bytes) {
    const std::unique_ptr<uint8_t[]> exact(new uint8_t[bytes.size() ? bytes.size() : 1]);
    if (!bytes.empty()) std::memcpy(exact.get(), bytes.data(), bytes.size());
    const auto obj =
        load_elf(std::span<const uint8_t>(exact.get(), bytes.size()), "fuzz.o", fuzz_options());
    if (!obj) {
        REQUIRE_FALSE(obj.error().message.empty());
        return false;
    }
    check_invariants(*obj);
    return true;
}

struct ObjectFile {
    elf::File elf;
    const elf::Section& section(std::string_view name) const {
        const elf::Section* sec = elf.find(name);
        INFO("section " << name);
        REQUIRE(sec);
        return *sec;
    }
    uint64_t shdr(uint32_t index) const { return shoff + uint64_t{index} * 64; }
    uint64_t symbol(std::string_view name) const { // file offset of a symbol's entry
        for (const auto& sym : elf.symbols())
            if (sym.name == name) return section(".symtab").offset + uint64_t{sym.index} * 24;
        FAIL("no symbol " << name);
        return 0;
    }
    uint64_t shoff = 0;
};

ObjectFile layout_of(const std::vector<uint8_t>& bytes) {
    auto elf = elf::File::parse(bytes);
    REQUIRE(elf);
    return ObjectFile{std::move(*elf), fetch<uint64_t>(bytes, 40)};
}

// Walks .BTF for the type named `name` of `kind`: its id and the file offset of its header.
std::pair<uint32_t, uint64_t> find_btf_type(const std::vector<uint8_t>& bytes, uint64_t at,
                                            std::string_view name, uint32_t kind) {
    const uint32_t hdr_len = fetch<uint32_t>(bytes, at + 4);
    const uint64_t types = at + hdr_len + fetch<uint32_t>(bytes, at + 8);
    const uint64_t types_end = types + fetch<uint32_t>(bytes, at + 12);
    const uint64_t strs = at + hdr_len + fetch<uint32_t>(bytes, at + 16);
    uint32_t id = 1;
    for (uint64_t pos = types; pos < types_end; id++) {
        const uint32_t info = fetch<uint32_t>(bytes, pos + 4);
        const uint32_t k = (info >> 24) & 0x1f, vlen = info & 0xffff;
        const char* type_name =
            reinterpret_cast<const char*>(bytes.data() + strs + fetch<uint32_t>(bytes, pos));
        if (k == kind && name == type_name) return {id, pos};
        uint64_t extra = 0;
        switch (k) {
        case btf::BTF_KIND_INT:
        case btf::BTF_KIND_VAR:
        case btf::BTF_KIND_DECL_TAG: extra = 4; break;
        case btf::BTF_KIND_ARRAY: extra = 12; break;
        case btf::BTF_KIND_STRUCT:
        case btf::BTF_KIND_UNION:
        case btf::BTF_KIND_ENUM64:
        case btf::BTF_KIND_DATASEC: extra = 12 * vlen; break;
        case btf::BTF_KIND_ENUM:
        case btf::BTF_KIND_FUNC_PROTO: extra = 8 * vlen; break;
        default: break;
        }
        pos += 12 + extra;
    }
    FAIL("no BTF type " << name);
    return {0, 0};
}

std::string load_error(const std::vector<uint8_t>& bytes) {
    const auto obj = load_elf(bytes, "broken.o", fuzz_options());
    REQUIRE_FALSE(obj);
    return obj.error().to_string();
}

} // namespace

TEST_CASE("robustness: every truncation gives an error", "[loader][robustness]") {
    for (const char* name : FUZZ_OBJECTS) {
        const auto bytes = object_bytes(name);
        REQUIRE(try_load(bytes));
        for (size_t n = 0; n < bytes.size(); n += 7) {
            INFO(name << " truncated to " << n << " bytes");
            // The section header table is at the end: a shorter file has none left.
            CHECK_FALSE(try_load(std::vector<uint8_t>(bytes.begin(), bytes.begin() + n)));
        }
    }
}

TEST_CASE("robustness: random byte flips never crash", "[loader][robustness]") {
    std::mt19937 rng(20240601);
    for (const char* name : FUZZ_OBJECTS) {
        const auto bytes = object_bytes(name);
        const ObjectFile layout = layout_of(bytes);
        // Half the flips land in the parts the loader reads, half anywhere.
        std::vector<std::pair<uint64_t, uint64_t>> hot = {{0, 64}, {layout.shoff, bytes.size()}};
        for (const auto& sec : layout.elf.sections())
            if (sec.size > 0 && sec.type != elf::SHT_NOBITS &&
                (sec.type == elf::SHT_REL || sec.type == elf::SHT_SYMTAB || sec.name == ".BTF" ||
                 sec.name == ".BTF.ext" || sec.name == ".maps" || sec.executable()))
                hot.emplace_back(sec.offset, sec.offset + sec.size);
        size_t loaded = 0;
        const int rounds = 1500;
        for (int round = 0; round < rounds; round++) {
            auto mutated = bytes;
            const int flips = 1 + static_cast<int>(rng() % 4);
            for (int f = 0; f < flips; f++) {
                uint64_t pos;
                if (rng() % 2) {
                    const auto& [lo, hi] = hot[rng() % hot.size()];
                    pos = lo + rng() % (hi - lo);
                } else {
                    pos = rng() % mutated.size();
                }
                mutated[pos] = rng() % 3 ? static_cast<uint8_t>(rng()) : mutated[pos] ^ 0x80;
            }
            INFO(name << " round " << round);
            loaded += try_load(mutated);
        }
        // Most flips hit debug info and padding the loader ignores; some must have broken it.
        CHECK(loaded > 0);
        CHECK(loaded < static_cast<size_t>(rounds));
    }
}

TEST_CASE("robustness: hand-broken objects give errors that say what is wrong",
          "[loader][robustness]") {
    const auto good = object_bytes("maps");
    const ObjectFile layout = layout_of(good);
    auto broken = good;

    SECTION("section header table past the end of the file") {
        store<uint64_t>(broken, 40, good.size() + 100);
        CHECK_THAT(load_error(broken), Catch::Contains("section header table at offset"));
    }
    SECTION("absurd section count") {
        store<uint16_t>(broken, 60, 0xffff);
        CHECK_THAT(load_error(broken), Catch::Contains("runs past the end of the file"));
    }
    SECTION("symbol table's sh_link out of range") {
        store<uint32_t>(broken, layout.shdr(layout.section(".symtab").index) + 40, 999);
        CHECK_THAT(load_error(broken), Catch::Contains("string table index 999 is out of range"));
    }
    SECTION("section name offset out of range") {
        store<uint32_t>(broken, layout.shdr(layout.section("xdp").index), 0xfffff);
        CHECK_THAT(load_error(broken), Catch::Contains("name offset 1048575 is out of range"));
    }
    SECTION("overlapping sections") {
        store<uint64_t>(broken, layout.shdr(layout.section(".BTF").index) + 24,
                        layout.section("xdp").offset + 8);
        CHECK_THAT(load_error(broken), Catch::Contains("overlap"));
    }
    SECTION("a section past the end of the file") {
        store<uint64_t>(broken, layout.shdr(layout.section(".BTF").index) + 32, 1ull << 62);
        CHECK_THAT(load_error(broken), Catch::Contains("'.BTF' extends past the end of the file"));
    }
    SECTION("a relocation whose symbol index is past the symbol table") {
        const auto& rel = layout.section(".relxdp");
        store<uint32_t>(broken, rel.offset + 12, 0xffff);
        CHECK_THAT(load_error(broken),
                   Catch::Contains("'.relxdp': relocation #0: symbol #65535 is past the end of "
                                   "the symbol table"));
    }
    SECTION("a relocation past the end of its section") {
        const auto& rel = layout.section(".relxdp");
        store<uint64_t>(broken, rel.offset, 1u << 20);
        CHECK_THAT(load_error(broken),
                   Catch::Contains("sec '.relxdp': relocation #0: invalid offset"));
    }
    SECTION("a program symbol past the end of its section") {
        store<uint64_t>(broken, layout.symbol("use_maps") + 16, 1u << 20);
        CHECK_THAT(load_error(broken),
                   Catch::Contains("program 'use_maps' at offset 32 crosses the section boundary"));
    }
    SECTION("BTF typedef loop") {
        const auto [id, pos] =
            find_btf_type(good, layout.section(".BTF").offset, "counter_t", btf::BTF_KIND_TYPEDEF);
        store<uint32_t>(broken, pos + 8, id); // typedef counter_t counter_t;
        const std::string err = load_error(broken);
        CHECK_THAT(err, Catch::Contains("map 'counters'"));
        CHECK_THAT(err, Catch::Contains("(a loop?)"));
    }
    SECTION("BTF type referring past the last type") {
        const auto [id, pos] =
            find_btf_type(good, layout.section(".BTF").offset, "counter_t", btf::BTF_KIND_TYPEDEF);
        store<uint32_t>(broken, pos + 8, 0x7fffffff);
        CHECK_THAT(load_error(broken),
                   Catch::Contains("BTF: type [" + std::to_string(id) +
                                   "] (typedef) refers to type [2147483647] past the last type"));
    }
    SECTION("BTF name offset out of range") {
        const auto [id, pos] =
            find_btf_type(good, layout.section(".BTF").offset, "counter_t", btf::BTF_KIND_TYPEDEF);
        store<uint32_t>(broken, pos, 0xffffff);
        CHECK_THAT(load_error(broken), Catch::Contains("name offset 16777215 is out of range"));
    }
    SECTION("BTF type section length absurd") {
        store<uint32_t>(broken, layout.section(".BTF").offset + 12, 0x7fffffff);
        CHECK_THAT(load_error(broken), Catch::Contains("BTF: type section"));
    }
    SECTION("BTF.ext record count absurd") {
        const uint64_t ext = layout.section(".BTF.ext").offset;
        const uint64_t func_info =
            ext + fetch<uint32_t>(good, ext + 4) + fetch<uint32_t>(good, ext + 8);
        store<uint32_t>(broken, func_info + 8, 0x40000000);
        CHECK_THAT(load_error(broken), Catch::Contains("BTF.ext func_info: section 'xdp'"));
    }
    SECTION("not an ELF file") {
        broken[1] = 'X';
        CHECK(load_error(broken) == "elf: not an ELF file (bad magic)");
    }
    SECTION("a non-BPF machine") {
        store<uint16_t>(broken, 18, 62); // EM_X86_64
        CHECK(load_error(broken) == "elf: not a BPF object (e_machine 62)");
    }
}

namespace {

// The file offsets of core_reads.o's CO-RE relocation records (struct bpf_core_relo, 16 bytes:
// insn_off, type_id, access_str_off, kind), with each record's access string.
struct CoreRelos {
    std::vector<uint64_t> recs;
    std::vector<std::string> access;
};

CoreRelos core_relos(const std::vector<uint8_t>& bytes, const ObjectFile& layout) {
    const uint64_t ext = layout.section(".BTF.ext").offset;
    const uint64_t btf = layout.section(".BTF").offset;
    const uint64_t strs = btf + fetch<uint32_t>(bytes, btf + 4) + fetch<uint32_t>(bytes, btf + 16);
    REQUIRE(fetch<uint32_t>(bytes, ext + 4) >= 32);
    const uint64_t start = ext + fetch<uint32_t>(bytes, ext + 4) + fetch<uint32_t>(bytes, ext + 24);
    const uint64_t end = start + fetch<uint32_t>(bytes, ext + 28);
    REQUIRE(fetch<uint32_t>(bytes, start) == 16);
    CoreRelos out;
    for (uint64_t pos = start + 4; pos < end;) {
        const uint32_t n = fetch<uint32_t>(bytes, pos + 4);
        pos += 8;
        for (uint32_t i = 0; i < n; i++, pos += 16) {
            out.recs.push_back(pos);
            out.access.emplace_back(reinterpret_cast<const char*>(bytes.data() + strs +
                                                                  fetch<uint32_t>(bytes, pos + 8)));
        }
    }
    REQUIRE(!out.recs.empty());
    return out;
}

} // namespace

TEST_CASE("robustness: hand-broken CO-RE relocations give errors naming them",
          "[loader][robustness][core]") {
    const auto good = object_bytes("core_reads");
    const ObjectFile layout = layout_of(good);
    const CoreRelos relos = core_relos(good, layout);
    const uint64_t btf = layout.section(".BTF").offset;
    auto broken = good;

    SECTION("an instruction offset that is not a multiple of 8") {
        store<uint32_t>(broken, relos.recs[0], 3);
        CHECK_THAT(load_error(broken), Catch::Contains("CO-RE relo #0: insn offset 3 is not a "
                                                       "multiple of 8"));
    }
    SECTION("an instruction offset past every function is skipped, as libbpf skips it") {
        store<uint32_t>(broken, relos.recs[0], 1u << 20);
        CHECK(try_load(broken));
    }
    SECTION("a type id past the last type") {
        store<uint32_t>(broken, relos.recs[0] + 4, 0x7fffffff);
        CHECK_THAT(load_error(broken), Catch::Contains("names type [2147483647] past the last"));
    }
    SECTION("an access string offset out of range") {
        store<uint32_t>(broken, relos.recs[0] + 8, 0xffffff);
        CHECK_THAT(load_error(broken), Catch::Contains("access string offset out of range"));
    }
    SECTION("an access string past the type's members") {
        // Every record now names core_mm, which has one member: "0:1" reaches past it.
        const auto [mm, pos] = find_btf_type(good, btf, "core_mm", btf::BTF_KIND_STRUCT);
        const auto it = std::find(relos.access.begin(), relos.access.end(), "0:1");
        REQUIRE(it != relos.access.end());
        store<uint32_t>(broken, relos.recs[it - relos.access.begin()] + 4, mm);
        CHECK_THAT(load_error(broken),
                   Catch::Contains("member #1 of struct [" + std::to_string(mm) +
                                   "] is past its 1 members"));
    }
    SECTION("an unknown relocation kind") {
        store<uint32_t>(broken, relos.recs[0] + 12, 99);
        CHECK_THAT(load_error(broken),
                   Catch::Contains("relo #0: unknown CO-RE relocation kind 99"));
    }
    SECTION("a type id loop") {
        // typedef core_mm_t core_mm_t; bpf_core_type_size(core_mm_t) relocates it.
        const auto [id, pos] = find_btf_type(good, btf, "core_mm_t", btf::BTF_KIND_TYPEDEF);
        store<uint32_t>(broken, pos + 8, id);
        CHECK_THAT(load_error(broken), Catch::Contains("(a loop?)"));
    }
    SECTION("a relocation on an instruction of the wrong class") {
        // Point every record at the program's first instruction's neighbour, a `call`.
        for (const uint64_t rec : relos.recs)
            store<uint32_t>(broken, rec, 7 * 8);
        CHECK_THAT(load_error(broken), Catch::Contains("prog 'core_reads': relo #"));
    }
}
