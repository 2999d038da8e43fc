#include "vm/loader/map_defs.hpp"

#include "vm/loader/diag.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <unordered_map>
#include <unordered_set>

namespace ebpf::loader {
namespace {

using btf::Btf;
using btf::Type;

bool fits(uint64_t offset, uint64_t size, uint64_t limit) {
    return offset <= limit && size <= limit - offset;
}

uint32_t load_u32(const uint8_t* p) {
    return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

bool is_map_in_map(MapType t) {
    return t == MapType::array_of_maps || t == MapType::hash_of_maps;
}

struct BtfMapDef {
    MapDef def;
    uint32_t key_type_id = 0;
    uint32_t value_type_id = 0;
    uint64_t map_extra = 0;
    bool has_inner = false;
};

// An integer attribute: `__uint(name, val)` is `int (*name)[val]`, the value being the array's
// dimension.
Result<uint32_t> map_field_int(const Btf& btf, const std::string& map, std::string_view attr,
                               uint32_t type_id) {
    auto id = btf.skip_mods_and_typedefs(type_id);
    if (!id) return id.error();
    const Type& t = btf.type(*id);
    if (t.kind != btf::BTF_KIND_PTR)
        return fail("map " + quote(map) + ": attr " + quote(attr) + ": expected PTR, got " +
                    btf::kind_name(t.kind));
    const Type& arr = btf.type(t.size_type);
    if (arr.kind != btf::BTF_KIND_ARRAY)
        return fail("map " + quote(map) + ": attr " + quote(attr) + ": expected ARRAY, got " +
                    btf::kind_name(arr.kind));
    return arr.nelems;
}

// `__ulong(name, val)` is an enum with one enumerator; `__uint` works too.
Result<uint64_t> map_field_long(const Btf& btf, const std::string& map, std::string_view attr,
                                uint32_t type_id) {
    auto id = btf.skip_mods_and_typedefs(type_id);
    if (!id) return id.error();
    const Type& t = btf.type(*id);
    if (t.kind == btf::BTF_KIND_PTR) {
        auto v = map_field_int(btf, map, attr, type_id);
        if (!v) return v.error();
        return uint64_t{*v};
    }
    if (t.kind != btf::BTF_KIND_ENUM && t.kind != btf::BTF_KIND_ENUM64)
        return fail("map " + quote(map) + ": attr " + quote(attr) +
                    ": expected ENUM or ENUM64, got " + btf::kind_name(t.kind));
    if (t.enumerators.size() != 1)
        return fail("map " + quote(map) + ": attr " + quote(attr) + ": invalid __ulong");
    return static_cast<uint64_t>(t.enumerators[0].val);
}

// `__type(key, T)` is `T *key`: the size is T's.
Status sized_type(const Btf& btf, const std::string& map, std::string_view attr, uint32_t type_id,
                  uint32_t& size, uint32_t& pointee) {
    const Type& t = btf.type(type_id);
    if (t.kind != btf::BTF_KIND_PTR)
        return fail("map " + quote(map) + ": " + std::string(attr) +
                    " spec is not PTR: " + btf::kind_name(t.kind));
    auto sz = btf.resolve_size(t.size_type);
    if (!sz)
        return fail("map " + quote(map) + ": can't determine " + std::string(attr) +
                    " size: " + sz.error().message);
    if (size && size != *sz)
        return fail("map " + quote(map) + ": conflicting " + std::string(attr) + " size " +
                    std::to_string(size) + " != " + std::to_string(*sz));
    size = *sz;
    pointee = t.size_type;
    return std::nullopt;
}

Status set_size(const std::string& map, std::string_view attr, uint32_t& size, uint32_t v) {
    if (size && size != v)
        return fail("map " + quote(map) + ": conflicting " + std::string(attr) + " " +
                    std::to_string(size) + " != " + std::to_string(v));
    size = v;
    return std::nullopt;
}

// libbpf's parse_btf_map_def; `inner` is null when parsing an inner map's definition.
Status parse_btf_map_def(const Btf& btf, const std::string& name, const Type& def_t, BtfMapDef& out,
                         BtfMapDef* inner) {
    MapDef& def = out.def;
    for (size_t i = 0; i < def_t.members.size(); i++) {
        const auto& m = def_t.members[i];
        const std::string_view field = *btf.str(m.name_off);
        Status err;
        auto read_int = [&](uint32_t& dst) -> Status {
            auto v = map_field_int(btf, name, field, m.type);
            if (!v) return v.error();
            dst = *v;
            return std::nullopt;
        };
        if (field == "type") {
            uint32_t type = 0;
            err = read_int(type);
            def.type = static_cast<MapType>(type);
        } else if (field == "max_entries") {
            err = read_int(def.max_entries);
        } else if (field == "map_flags") {
            err = read_int(def.map_flags);
        } else if (field == "numa_node") {
            uint32_t numa_node = 0; // a placement hint with no meaning here
            err = read_int(numa_node);
        } else if (field == "key_size" || field == "value_size") {
            uint32_t v = 0;
            err = read_int(v);
            if (!err)
                err = set_size(name, field, field == "key_size" ? def.key_size : def.value_size, v);
        } else if (field == "key") {
            err = sized_type(btf, name, "key", m.type, def.key_size, out.key_type_id);
        } else if (field == "value") {
            err = sized_type(btf, name, "value", m.type, def.value_size, out.value_type_id);
        } else if (field == "values") {
            const bool prog_array = def.type == MapType::prog_array;
            if (!inner)
                return fail("map " + quote(name) + ": multi-level inner maps not supported");
            if (i != def_t.members.size() - 1)
                return fail("map " + quote(name) + ": 'values' member should be last");
            if (!is_map_in_map(def.type) && !prog_array)
                return fail("map " + quote(name) + ": should be map-in-map or prog-array");
            if (auto e = set_size(name, "value size", def.value_size, 4)) return e;
            const Type& arr = btf.type(m.type);
            if (arr.kind != btf::BTF_KIND_ARRAY || arr.nelems != 0)
                return fail("map " + quote(name) + ": 'values' spec is not a zero-sized array");
            auto ptr = btf.skip_mods_and_typedefs(arr.elem_type);
            if (!ptr) return ptr.error();
            if (btf.type(*ptr).kind != btf::BTF_KIND_PTR)
                return fail("map " + quote(name) + ": 'values' def is of unexpected kind " +
                            btf::kind_name(btf.type(*ptr).kind));
            auto target = btf.skip_mods_and_typedefs(btf.type(*ptr).size_type);
            if (!target) return target.error();
            const Type& t = btf.type(*target);
            if (prog_array) {
                if (t.kind != btf::BTF_KIND_FUNC_PROTO)
                    return fail("map " + quote(name) +
                                ": prog-array value def is of unexpected kind " +
                                btf::kind_name(t.kind));
                continue;
            }
            if (t.kind != btf::BTF_KIND_STRUCT)
                return fail("map " + quote(name) + ": map-in-map inner def is of unexpected kind " +
                            btf::kind_name(t.kind));
            inner->def.name = name + ".inner";
            if (auto e = parse_btf_map_def(btf, inner->def.name, t, *inner, nullptr)) return e;
            out.has_inner = true;
        } else if (field == "pinning") {
            if (!inner) return fail("map " + quote(name) + ": inner def can't be pinned");
            uint32_t pinning = 0;
            err = read_int(pinning);
            // LIBBPF_PIN_NONE or LIBBPF_PIN_BY_NAME; there is no file system to pin to here.
            if (!err && pinning > 1)
                return fail("map " + quote(name) + ": invalid pinning value " +
                            std::to_string(pinning));
        } else if (field == "map_extra") {
            auto v = map_field_long(btf, name, field, m.type);
            if (!v) return v.error();
            out.map_extra = *v;
        } else {
            return fail("map " + quote(name) + ": unknown field " + quote(field));
        }
        if (err) return err;
    }
    if (def.type == MapType::unspec)
        return fail("map " + quote(name) + ": map type isn't specified");
    return std::nullopt;
}

// libbpf's adjust_ringbuf_sz: the kernel wants a power-of-2 multiple of the page size.
uint32_t adjust_ringbuf_sz(uint32_t sz) {
    if (sz == 0) return 0;
    const uint32_t pages = sz / RINGBUF_PAGE_SIZE;
    if (sz % RINGBUF_PAGE_SIZE == 0 && (pages & (pages - 1)) == 0) return sz;
    for (uint64_t mul = 1; mul <= std::numeric_limits<uint32_t>::max() / RINGBUF_PAGE_SIZE;
         mul <<= 1)
        if (mul * RINGBUF_PAGE_SIZE > sz) return static_cast<uint32_t>(mul * RINGBUF_PAGE_SIZE);
    return sz;
}

// The offset of the top-level member of type `struct <name>` (`size` bytes, `align`-aligned) in
// the value type, as the kernel's btf_find_field finds bpf_spin_lock and bpf_timer; -1 when there
// is none.
Result<int32_t> special_field_off(const Btf& btf, const std::string& map, uint32_t value_type_id,
                                  std::string_view name, uint32_t size, uint32_t align) {
    if (!value_type_id) return -1;
    auto id = btf.skip_mods_and_typedefs(value_type_id);
    if (!id) return id.error();
    const Type& t = btf.type(*id);
    if (!t.is_composite()) return -1;
    int32_t found = -1;
    for (const auto& m : t.members) {
        auto mid = btf.skip_mods_and_typedefs(m.type);
        if (!mid) return mid.error();
        const Type& mt = btf.type(*mid);
        if (mt.kind != btf::BTF_KIND_STRUCT || btf.name(mt) != name || mt.size_type != size)
            continue;
        const uint32_t bit_off = t.member_bit_offset(m);
        if (bit_off % (8 * align))
            return fail("map " + quote(map) + ": " + std::string(name) + " at bit offset " +
                        std::to_string(bit_off) + " is not " + std::to_string(align) +
                        "-byte aligned");
        if (found >= 0)
            return fail("map " + quote(map) + ": value has more than one " + std::string(name));
        found = static_cast<int32_t>(bit_off / 8);
    }
    return found;
}

Result<MapDef> finish_def(const Btf& btf, BtfMapDef& parsed) {
    MapDef def = parsed.def;
    if (def.type == MapType::ringbuf || def.type == MapType::user_ringbuf)
        def.max_entries = adjust_ringbuf_sz(def.max_entries);
    auto lock = special_field_off(btf, def.name, parsed.value_type_id, "bpf_spin_lock", 4, 4);
    if (!lock) return lock.error();
    def.spin_lock_off = *lock;
    auto timer = special_field_off(btf, def.name, parsed.value_type_id, "bpf_timer", 16, 8);
    if (!timer) return timer.error();
    def.timer_off = *timer;
    return def;
}

Status collect_btf_maps(ObjectMaps& maps, const elf::File& elf, const Layout& layout,
                        const Btf* btf) {
    if (!layout.maps_shndx) return std::nullopt;
    const elf::Section& data = *elf.section(layout.maps_shndx);
    if (!btf) return fail("sec '.maps': BTF-defined maps need .BTF, which the object lacks");
    const Type* sec = nullptr;
    for (uint32_t id = 1; id < btf->type_count() && !sec; id++)
        if (btf->type(id).kind == btf::BTF_KIND_DATASEC && btf->name(btf->type(id)) == ".maps")
            sec = &btf->type(id);
    if (!sec) return fail("sec '.maps': DATASEC '.maps' not found in BTF");

    for (size_t i = 0; i < sec->vars.size(); i++) {
        const auto& vi = sec->vars[i];
        const Type& var = btf->type(vi.type);
        const std::string name(btf->name(var));
        if (name.empty()) return fail("sec '.maps': map #" + std::to_string(i) + ": empty name");
        if (!fits(vi.offset, vi.size, data.data.size()))
            return fail("sec '.maps': map " + quote(name) + ": BTF data is corrupted (offset " +
                        std::to_string(vi.offset) + ", size " + std::to_string(vi.size) +
                        " past the section's " + std::to_string(data.data.size()) + " bytes)");
        if (var.kind != btf::BTF_KIND_VAR)
            return fail("sec '.maps': map " + quote(name) + ": unexpected var kind " +
                        btf::kind_name(var.kind));
        if (var.linkage != btf::BTF_VAR_GLOBAL_ALLOCATED)
            return fail("sec '.maps': map " + quote(name) + ": unsupported map linkage " +
                        (var.linkage == btf::BTF_VAR_STATIC ? "static" : "extern"));
        auto def_id = btf->skip_mods_and_typedefs(var.size_type);
        if (!def_id) return def_id.error();
        const Type& def_t = btf->type(*def_id);
        if (def_t.kind != btf::BTF_KIND_STRUCT)
            return fail("sec '.maps': map " + quote(name) + ": unexpected def kind " +
                        btf::kind_name(def_t.kind));
        if (def_t.size_type > vi.size)
            return fail("sec '.maps': map " + quote(name) + ": invalid def size");

        BtfMapDef parsed, inner;
        parsed.def.name = name;
        if (auto err = parse_btf_map_def(*btf, name, def_t, parsed, &inner))
            return fail("sec '.maps': " + err->message);
        MapSpec spec;
        auto def = finish_def(*btf, parsed);
        if (!def) return fail("sec '.maps': " + def.error().message);
        spec.def = *def;
        spec.section = ".maps";
        spec.btf_key_type_id = parsed.key_type_id;
        spec.btf_value_type_id = parsed.value_type_id;
        spec.map_extra = parsed.map_extra;
        spec.def.map_extra = parsed.map_extra;
        if (parsed.has_inner) {
            auto inner_def = finish_def(*btf, inner);
            if (!inner_def) return fail("sec '.maps': " + inner_def.error().message);
            spec.inner = *inner_def;
        }
        maps.specs.push_back(std::move(spec));
        maps.origins.push_back({layout.maps_shndx, vi.offset, vi.size, *def_id});
    }
    return std::nullopt;
}

// The `maps` section libbpf v1.0 dropped: one struct bpf_map_def { type, key_size, value_size,
// max_entries, map_flags } per symbol, the symbol's size being the record's.
Status collect_legacy_maps(ObjectMaps& maps, const elf::File& elf, const Layout& layout) {
    if (!layout.legacy_maps_shndx) return std::nullopt;
    const elf::Section& sec = *elf.section(layout.legacy_maps_shndx);
    std::vector<const elf::Symbol*> syms;
    for (const auto& sym : elf.symbols())
        if (sym.shndx == sec.index && sym.type() != elf::STT_SECTION) syms.push_back(&sym);
    std::stable_sort(syms.begin(), syms.end(),
                     [](const auto* a, const auto* b) { return a->value < b->value; });
    for (const auto* sym : syms) {
        const std::string name(sym->name);
        if (sym->size == 0 || !fits(sym->value, sym->size, sec.data.size()))
            return fail("sec 'maps': map " + quote(name) + ": definition at offset " +
                        std::to_string(sym->value) + " of " + std::to_string(sym->size) +
                        " bytes is outside the section (" + std::to_string(sec.data.size()) +
                        " bytes)");
        const uint8_t* rec = sec.data.data() + sym->value;
        uint32_t fields[5] = {};
        for (size_t k = 0; k < 5 && 4 * (k + 1) <= sym->size; k++)
            fields[k] = load_u32(rec + 4 * k);
        if (std::any_of(rec + std::min<uint64_t>(sym->size, 20), rec + sym->size,
                        [](uint8_t b) { return b != 0; }))
            return fail("sec 'maps': map " + quote(name) + " has unrecognized, non-zero options");
        MapSpec spec;
        spec.def.type = static_cast<MapType>(fields[0]);
        spec.def.key_size = fields[1];
        spec.def.value_size = fields[2];
        spec.def.max_entries = fields[3];
        spec.def.map_flags = fields[4];
        spec.def.name = name;
        spec.section = "maps";
        maps.specs.push_back(std::move(spec));
        maps.origins.push_back({sec.index, sym->value, sym->size, 0});
    }
    return std::nullopt;
}

// libbpf's map_is_mmapable: some variable of the section is global and not hidden.
bool has_global_var(const Btf& btf, uint32_t datasec_id) {
    const Type& t = btf.type(datasec_id);
    if (t.kind != btf::BTF_KIND_DATASEC) return false;
    return std::any_of(t.vars.begin(), t.vars.end(), [&](const btf::VarSecinfo& v) {
        const Type& var = btf.type(v.type);
        return var.kind == btf::BTF_KIND_VAR && var.linkage != btf::BTF_VAR_STATIC;
    });
}

Status collect_global_data(ObjectMaps& maps, const elf::File& elf, const Layout& layout,
                           const Btf* btf, const std::string& object_name) {
    for (const auto& sec : elf.sections()) {
        const SecType type = layout.types[sec.index];
        if (!layout.is_data(sec.index) || sec.size == 0) continue;
        if (sec.size > MAX_GLOBAL_DATA_SIZE)
            return fail("elf: " + elf::describe(sec) + " of " + std::to_string(sec.size) +
                        " bytes is larger than a map value may be (" +
                        std::to_string(MAX_GLOBAL_DATA_SIZE) + ")");
        MapSpec spec;
        spec.def.type = MapType::array;
        spec.def.key_size = 4;
        spec.def.value_size = static_cast<uint32_t>(sec.size);
        spec.def.max_entries = 1;
        spec.def.map_flags = type == SecType::rodata ? BPF_F_RDONLY_PROG : 0;
        spec.def.name = internal_map_name(object_name, sec.name);
        spec.section = std::string(sec.name);
        spec.global_data = true;
        if (type == SecType::bss)
            spec.initial_value.assign(sec.size, 0);
        else
            spec.initial_value.assign(sec.data.begin(), sec.data.end());
        // Sections holding only string literals (.rodata.str1.1) have no DATASEC.
        if (btf) {
            if (auto id = btf->find_by_name(sec.name)) {
                spec.btf_value_type_id = *id;
                if (has_global_var(*btf, *id)) spec.def.map_flags |= BPF_F_MMAPABLE;
            }
        }
        maps.specs.push_back(std::move(spec));
        maps.origins.push_back({sec.index, 0, sec.size, 0});
    }
    return std::nullopt;
}

} // namespace

std::optional<uint32_t> ObjectMaps::find_def(uint32_t sec_idx, uint64_t offset) const {
    const auto it = def_index.find({sec_idx, offset});
    if (it == def_index.end()) return std::nullopt;
    return it->second;
}

std::optional<uint32_t> ObjectMaps::find_data(uint32_t sec_idx) const {
    const auto it = data_index.find(sec_idx);
    if (it == data_index.end()) return std::nullopt;
    return it->second;
}

std::string internal_map_name(const std::string& object_name, std::string_view section) {
    constexpr size_t BPF_OBJ_NAME_LEN = 16;
    const size_t sfx_len = std::min(std::max<size_t>(7, section.size()), BPF_OBJ_NAME_LEN - 1);
    // Two or more dots: a custom section, named without the object's prefix.
    const bool custom = section.size() > 1 && section.find('.', 1) != std::string_view::npos;
    const size_t pfx_len =
        custom ? 0 : std::min(BPF_OBJ_NAME_LEN - sfx_len - 1, object_name.size());
    std::string name = object_name.substr(0, pfx_len) + std::string(section.substr(0, sfx_len));
    name.resize(std::min(name.size(), BPF_OBJ_NAME_LEN - 1));
    for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.') c = '_';
    return name;
}

Status fixup_datasecs(Btf& btf, const elf::File& elf) {
    // libbpf's find_elf_var_sym: the first global or weak object of that name.
    std::unordered_map<std::string_view, const elf::Symbol*> var_syms;
    for (const auto& s : elf.symbols())
        if (s.type() == elf::STT_OBJECT &&
            (s.bind() == elf::STB_GLOBAL || s.bind() == elf::STB_WEAK))
            var_syms.emplace(s.name, &s);
    for (uint32_t id = 1; id < btf.type_count(); id++) {
        Type& t = btf.mutable_type(id);
        if (t.kind != btf::BTF_KIND_DATASEC) continue;
        const std::string name(btf.name(t));
        auto by_offset = [](const btf::VarSecinfo& a, const btf::VarSecinfo& b) {
            return a.offset < b.offset;
        };
        // Extern-backed sections got their layout from collect_externs.
        if (name == ".kconfig" || name == ".ksyms") {
            std::stable_sort(t.vars.begin(), t.vars.end(), by_offset);
            continue;
        }
        bool fixup_offsets = false;
        if (t.size_type == 0) {
            const elf::Section* sec = elf.find(name);
            if (!sec || sec->size == 0 || sec->size > std::numeric_limits<uint32_t>::max())
                return fail("BTF: DATASEC " + quote(name) + " has no ELF section to size it");
            t.size_type = static_cast<uint32_t>(sec->size);
            fixup_offsets = true;
        }
        for (auto& vsi : t.vars) {
            Type& var = btf.mutable_type(vsi.type);
            if (var.kind != btf::BTF_KIND_VAR)
                return fail("BTF: DATASEC " + quote(name) + ": type [" + std::to_string(vsi.type) +
                            "] is not a VAR");
            if (var.linkage == btf::BTF_VAR_STATIC || var.linkage == btf::BTF_VAR_GLOBAL_EXTERN)
                continue;
            const std::string_view var_name = btf.name(var);
            const auto found = var_syms.find(var_name);
            if (found == var_syms.end())
                return fail("BTF: DATASEC " + quote(name) + ": no ELF symbol for VAR " +
                            quote(var_name));
            const elf::Symbol* sym = found->second;
            if (fixup_offsets) {
                if (sym->value > std::numeric_limits<uint32_t>::max())
                    return fail("BTF: DATASEC " + quote(name) + ": symbol " + quote(var_name) +
                                " has offset " + std::to_string(sym->value) + " past 4 GiB");
                vsi.offset = static_cast<uint32_t>(sym->value);
            }
            if (sym->visibility() == elf::STV_HIDDEN || sym->visibility() == elf::STV_INTERNAL)
                var.linkage = btf::BTF_VAR_STATIC;
        }
        std::stable_sort(t.vars.begin(), t.vars.end(), by_offset);
    }
    return std::nullopt;
}

Result<ObjectMaps> collect_maps(const elf::File& elf, const Layout& layout, const Btf* btf,
                                const std::string& object_name) {
    ObjectMaps maps;
    if (auto err = collect_legacy_maps(maps, elf, layout)) return *err;
    if (auto err = collect_btf_maps(maps, elf, layout, btf)) return *err;
    if (auto err = collect_global_data(maps, elf, layout, btf, object_name)) return *err;
    for (uint32_t i = 0; i < maps.specs.size(); i++) {
        const MapOrigin& o = maps.origins[i];
        if (maps.specs[i].global_data)
            maps.data_index.emplace(o.sec_idx, i);
        else
            maps.def_index.emplace(std::pair{o.sec_idx, o.offset}, i);
    }
    return maps;
}

Status collect_map_relos(ObjectMaps& maps, const elf::File& elf, const Layout& layout,
                         const Btf& btf, const IsEntryProgram& is_entry_program) {
    std::unordered_set<std::string_view> names;
    for (const auto& spec : maps.specs)
        names.insert(spec.def.name);
    for (const auto& sec : elf.sections()) {
        if (layout.types[sec.index] != SecType::relo || sec.info != layout.maps_shndx) continue;
        auto rels = elf.relocations(sec);
        if (!rels) return rels.error();
        for (size_t i = 0; i < rels->size(); i++) {
            const elf::Rel& rel = (*rels)[i];
            const elf::Symbol& sym = elf.symbols()[rel.sym];
            const std::string where = "sec '.rel.maps': relocation #" + std::to_string(i) + ": ";
            // The last definition starting at or before the offset must contain the slot.
            std::optional<uint32_t> idx;
            auto it = maps.def_index.upper_bound({layout.maps_shndx, rel.offset});
            if (it != maps.def_index.begin()) {
                --it;
                const MapOrigin& o = maps.origins[it->second];
                if (o.sec_idx == layout.maps_shndx && fits(rel.offset - o.offset, 8, o.size))
                    idx = it->second;
            }
            if (!idx)
                return fail(where + "cannot find map " + quote(sym.name) + " at offset " +
                            std::to_string(rel.offset));
            MapSpec& spec = maps.specs[*idx];
            const MapOrigin& origin = maps.origins[*idx];
            std::string target(sym.name);
            if (is_map_in_map(spec.def.type)) {
                if (sym.shndx != layout.maps_shndx)
                    return fail(where + quote(target) + " isn't a BTF-defined map");
                if (spec.def.type == MapType::hash_of_maps && spec.def.key_size != 4)
                    return fail(where + "hash-of-maps " + quote(spec.def.name) +
                                " should have key size 4");
                if (!names.count(target))
                    return fail(where + quote(target) + " isn't a valid map reference");
            } else if (spec.def.type == MapType::prog_array) {
                if (!is_entry_program(sym))
                    return fail(where + quote(target) + " isn't an entry-point program");
            } else {
                return fail(where + "map " + quote(spec.def.name) +
                            " is neither a map-in-map nor a prog array");
            }
            const Type& def = btf.type(origin.btf_def_id);
            if (def.members.empty() || btf.str(def.members.back().name_off) != "values")
                return fail(where + "map " + quote(spec.def.name) + " has no 'values' member");
            const uint64_t moff = def.member_bit_offset(def.members.back()) / 8;
            const uint64_t off = rel.offset - origin.offset;
            if (off < moff || (off - moff) % 8)
                return fail(where + "offset " + std::to_string(rel.offset) + " is not a slot of " +
                            quote(spec.def.name));
            const uint64_t slot = (off - moff) / 8;
            if (slot >= spec.def.max_entries)
                return fail(where + "slot " + std::to_string(slot) + " of " + quote(spec.def.name) +
                            " is past max_entries " + std::to_string(spec.def.max_entries));
            auto& slots = spec.initial_slots;
            auto at = std::lower_bound(slots.begin(), slots.end(), slot,
                                       [](const auto& s, uint64_t v) { return s.first < v; });
            if (at != slots.end() && at->first == slot)
                at->second = std::move(target);
            else
                slots.insert(at, {static_cast<uint32_t>(slot), std::move(target)});
        }
    }
    return std::nullopt;
}

} // namespace ebpf::loader
