#include "vm/loader/externs.hpp"

#include "vm/loader/diag.hpp"

#include "vm/loader/host.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace ebpf::loader {
namespace {

using btf::Btf;
using btf::Type;

// libbpf's sym_is_extern: an undefined global or weak symbol without a type.
bool is_extern(const elf::Symbol& sym) {
    return sym.shndx == elf::SHN_UNDEF && sym.type() == 0 &&
           (sym.bind() == elf::STB_GLOBAL || sym.bind() == elf::STB_WEAK);
}

// find_extern_btf_id: the VAR or FUNC of that name, which must be an extern declaration.
Result<uint32_t> find_extern_btf_id(const Btf& btf, std::string_view name) {
    for (uint32_t id = 1; id < btf.type_count(); id++) {
        const Type& t = btf.type(id);
        if ((t.kind != btf::BTF_KIND_VAR && t.kind != btf::BTF_KIND_FUNC) || btf.name(t) != name)
            continue;
        const bool is_extern = t.kind == btf::BTF_KIND_VAR ? t.linkage == btf::BTF_VAR_GLOBAL_EXTERN
                                                           : t.vlen == btf::BTF_FUNC_EXTERN;
        if (!is_extern) return fail("extern " + quote(name) + ": BTF declares it as defined");
        return id;
    }
    return fail("failed to find BTF for extern " + quote(name));
}

std::optional<uint32_t> find_extern_datasec(const Btf& btf, uint32_t btf_id) {
    for (uint32_t id = 1; id < btf.type_count(); id++) {
        const Type& t = btf.type(id);
        if (t.kind != btf::BTF_KIND_DATASEC) continue;
        for (const auto& v : t.vars)
            if (v.type == btf_id) return id;
    }
    return std::nullopt;
}

// btf__align_of, for the types a kconfig extern may have.
Result<uint32_t> align_of(const Btf& btf, uint32_t id) {
    for (int depth = 0; depth <= btf::MAX_RESOLVE_DEPTH; depth++) {
        const Type& t = btf.type(id);
        switch (t.kind) {
        case btf::BTF_KIND_INT:
        case btf::BTF_KIND_ENUM:
        case btf::BTF_KIND_ENUM64:
        case btf::BTF_KIND_FLOAT: return std::min<uint32_t>(t.size_type, 8);
        case btf::BTF_KIND_PTR: return 8;
        case btf::BTF_KIND_ARRAY: id = t.elem_type; continue;
        default:
            if (!t.is_mod() && t.kind != btf::BTF_KIND_TYPEDEF)
                return fail(std::string("cannot determine the alignment of a ") +
                            btf::kind_name(t.kind));
            id = t.size_type;
        }
    }
    return fail("type chain is longer than " + std::to_string(btf::MAX_RESOLVE_DEPTH));
}

// find_kcfg_type: bool, char, libbpf_tristate, 1/2/4/8-byte integers and char arrays.
Result<std::optional<KcfgType>> kcfg_type(const Btf& btf, uint32_t id, bool& is_signed,
                                          bool array_ok = true) {
    auto resolved = btf.skip_mods_and_typedefs(id);
    if (!resolved) return resolved.error();
    const Type& t = btf.type(*resolved);
    is_signed = false;
    switch (t.kind) {
    case btf::BTF_KIND_INT: {
        const uint32_t size = t.size_type;
        if (t.int_flags() & btf::BTF_INT_BOOL)
            return size == 1 ? std::optional(KcfgType::boolean) : std::nullopt;
        is_signed = t.int_flags() & btf::BTF_INT_SIGNED;
        if (size == 1) return std::optional(KcfgType::character);
        if (size < 1 || size > 8 || (size & (size - 1))) return std::optional<KcfgType>();
        return std::optional(KcfgType::integer);
    }
    case btf::BTF_KIND_ENUM:
    case btf::BTF_KIND_ENUM64:
        if (btf.name(t) != "libbpf_tristate" || (t.kind == btf::BTF_KIND_ENUM && t.size_type != 4))
            return std::optional<KcfgType>();
        return std::optional(KcfgType::tristate);
    case btf::BTF_KIND_ARRAY: {
        if (!array_ok || t.nelems == 0) return std::optional<KcfgType>();
        bool elem_signed;
        auto elem = kcfg_type(btf, t.elem_type, elem_signed, false);
        if (!elem) return elem;
        if (*elem != KcfgType::character) return std::optional<KcfgType>();
        return std::optional(KcfgType::char_array);
    }
    default: return std::optional<KcfgType>();
    }
}

// libbpf's cmp_externs.
bool extern_before(const Extern& a, const Extern& b) {
    if (a.type != b.type) return a.type == ExternType::kconfig;
    if (a.type == ExternType::kconfig) {
        if (a.align != b.align) return a.align > b.align; // descending alignment
        if (a.size != b.size) return a.size < b.size;     // then ascending size
    }
    return a.name < b.name;
}

// is_kcfg_value_in_range: whether `v` fits the extern's size, as signed or unsigned.
bool in_range(const Extern& ext, uint64_t v) {
    const uint32_t bits = ext.size * 8;
    if (bits >= 64) return true;
    if (ext.is_signed) return v + (uint64_t{1} << (bits - 1)) < (uint64_t{1} << bits);
    return (v >> bits) == 0;
}

std::string kcfg(const Extern& ext) {
    return "extern (kcfg) " + quote(ext.name) + ": ";
}

// set_kcfg_value_num.
Status set_num(Extern& ext, uint8_t* out, uint64_t value) {
    if (ext.kcfg_type != KcfgType::integer && ext.kcfg_type != KcfgType::character &&
        ext.kcfg_type != KcfgType::boolean)
        return fail(kcfg(ext) + "value '" + std::to_string(value) +
                    "' implies integer, char, or boolean type");
    if (ext.kcfg_type == KcfgType::boolean && value > 1)
        return fail(kcfg(ext) + "value '" + std::to_string(value) + "' isn't boolean compatible");
    if (ext.kcfg_type != KcfgType::boolean && !in_range(ext, value))
        return fail(kcfg(ext) + "value '" + std::to_string(value) + "' doesn't fit in " +
                    std::to_string(ext.size) + " bytes");
    for (uint32_t i = 0; i < ext.size && i < 8; i++)
        out[i] = static_cast<uint8_t>(value >> (8 * i));
    ext.is_set = true;
    return std::nullopt;
}

// One CONFIG_X=value, as bpf_object__process_kconfig_line handles its value.
Status set_value(Extern& ext, uint8_t* out, std::string_view value) {
    if (value.empty()) return fail(kcfg(ext) + "no value");
    switch (value[0]) {
    case 'y':
    case 'n':
    case 'm': {
        const char c = value[0];
        switch (ext.kcfg_type) {
        case KcfgType::boolean:
            if (c == 'm') return fail(kcfg(ext) + "value 'm' implies tristate or char type");
            out[0] = c == 'y';
            break;
        case KcfgType::tristate: out[0] = c == 'y' ? 1 : c == 'm' ? 2 : 0; break; // TRI_*
        case KcfgType::character: out[0] = static_cast<uint8_t>(c); break;
        default:
            return fail(kcfg(ext) + "value '" + std::string(1, c) +
                        "' implies bool, tristate, or char type");
        }
        ext.is_set = true;
        return std::nullopt;
    }
    case '"': {
        if (ext.kcfg_type != KcfgType::char_array)
            return fail(kcfg(ext) + "value '" + std::string(value) + "' implies char array type");
        if (value.size() < 2 || value.back() != '"')
            return fail(kcfg(ext) + "invalid string config '" + std::string(value) + "'");
        // Quotes stripped; cut to fit with its NUL, as libbpf does (it only warns).
        const size_t len = std::min<size_t>(value.size() - 2, ext.size - 1);
        std::memcpy(out, value.data() + 1, len);
        out[len] = 0;
        ext.is_set = true;
        return std::nullopt;
    }
    default: {
        // parse_u64: strtoull in any base, the whole value.
        const std::string text(value);
        char* end = nullptr;
        errno = 0;
        const unsigned long long num = std::strtoull(text.c_str(), &end, 0);
        if (errno || end == text.c_str() || *end)
            return fail(kcfg(ext) + "value '" + text + "' isn't a valid integer");
        if (ext.kcfg_type != KcfgType::integer && ext.kcfg_type != KcfgType::character)
            return fail(kcfg(ext) + "value '" + text + "' implies integer type");
        return set_num(ext, out, num);
    }
    }
}

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

} // namespace

std::optional<size_t> Externs::find_by_sym(uint32_t sym_idx) const {
    for (size_t i = 0; i < list.size(); i++)
        if (list[i].sym_idx == sym_idx) return i;
    return std::nullopt;
}

Result<Externs> collect_externs(const elf::File& elf, Btf* btf) {
    Externs externs;
    for (const auto& sym : elf.symbols()) {
        if (!is_extern(sym)) continue;
        if (!btf) return fail("failed to find BTF for extern " + quote(sym.name) + ": no .BTF");
        auto id = find_extern_btf_id(*btf, sym.name);
        if (!id) return id.error();
        const Type& t = btf->type(*id);
        Extern ext;
        ext.name = btf->name(t);
        ext.sym_idx = sym.index;
        ext.btf_id = *id;
        ext.weak = sym.bind() == elf::STB_WEAK;
        const auto sec = find_extern_datasec(*btf, *id);
        if (!sec) return fail("failed to find BTF for extern " + quote(ext.name) + " section");
        const std::string_view sec_name = btf->name(btf->type(*sec));
        if (sec_name == ".kconfig") {
            if (t.kind == btf::BTF_KIND_FUNC)
                return fail("extern function " + quote(ext.name) +
                            " is unsupported under .kconfig section");
            ext.type = ExternType::kconfig;
            externs.kconfig_datasec = *sec;
            auto size = btf->resolve_size(t.size_type);
            if (!size || *size == 0)
                return fail("failed to resolve size of extern (kcfg) " + quote(ext.name));
            ext.size = *size;
            auto align = align_of(*btf, t.size_type);
            if (!align || *align == 0)
                return fail("failed to determine alignment of extern (kcfg) " + quote(ext.name));
            ext.align = *align;
            auto type = kcfg_type(*btf, t.size_type, ext.is_signed);
            if (!type) return type.error();
            if (!*type) return fail(kcfg(ext) + "type is unsupported");
            ext.kcfg_type = **type;
        } else if (sec_name == ".ksyms") {
            ext.type = ExternType::ksym;
            ext.is_func = t.kind == btf::BTF_KIND_FUNC;
        } else {
            return fail("unrecognized extern section " + quote(sec_name));
        }
        externs.list.push_back(ext);
    }
    std::sort(externs.list.begin(), externs.list.end(), extern_before);

    if (externs.kconfig_datasec) {
        uint64_t off = 0;
        for (auto& ext : externs.list) {
            if (ext.type != ExternType::kconfig) continue;
            off = (off + ext.align - 1) / ext.align * ext.align;
            if (off + ext.size > MAX_GLOBAL_DATA_SIZE)
                return fail(".kconfig: externs take more than " +
                            std::to_string(MAX_GLOBAL_DATA_SIZE) + " bytes");
            ext.data_off = static_cast<uint32_t>(off);
            off += ext.size;
        }
        Type& sec = btf->mutable_type(*externs.kconfig_datasec);
        sec.size_type = static_cast<uint32_t>(off);
        for (auto& vs : sec.vars) {
            Type& var = btf->mutable_type(vs.type);
            const std::string_view name = btf->name(var);
            const auto ext = std::find_if(externs.list.begin(), externs.list.end(),
                                          [&](const Extern& e) { return e.name == name; });
            if (ext == externs.list.end())
                return fail("failed to find extern definition for BTF var " + quote(name));
            if (var.kind == btf::BTF_KIND_VAR) var.linkage = btf::BTF_VAR_GLOBAL_ALLOCATED;
            vs.offset = ext->data_off;
        }
    }
    return externs;
}

Status resolve_externs(Externs& externs, const LoadOptions& options, const btf::Btf* btf,
                       const std::string& object_name, ObjectMaps& maps) {
    uint32_t map_size = 0;
    for (const auto& ext : externs.list)
        if (ext.type == ExternType::kconfig) map_size = ext.data_off + ext.size;
    std::vector<uint8_t> data(map_size, 0);

    auto given = [&](std::string_view name) -> const std::string* {
        const auto it = options.kconfig.find(name);
        return it == options.kconfig.end() ? nullptr : &it->second;
    };
    bool need_config = false;
    for (auto& ext : externs.list) {
        if (ext.type != ExternType::kconfig) continue;
        uint8_t* out = data.data() + ext.data_off;
        if (const std::string* value = given(ext.name)) {
            if (auto err = set_value(ext, out, *value)) return err;
        } else if (ext.name == "LINUX_KERNEL_VERSION") {
            if (const auto version = options.host_defaults ? host::kernel_version() : std::nullopt)
                if (auto err = set_num(ext, out, *version)) return err;
        } else if (ext.name == "LINUX_HAS_BPF_COOKIE") {
            // This VM has no bpf_get_attach_cookie(): programs take their cookie-less path.
            if (auto err = set_num(ext, out, 0)) return err;
        } else if (ext.name == "LINUX_HAS_SYSCALL_WRAPPER") {
            // Syscall kprobes see the wrapper's pt_regs, as on x86-64 and arm64 kernels.
            if (auto err = set_num(ext, out, 1)) return err;
        } else if (starts_with(ext.name, "LINUX_")) {
            if (!ext.weak) return fail(kcfg(ext) + "unrecognized virtual extern");
        } else if (starts_with(ext.name, "CONFIG_")) {
            need_config = true;
        } else {
            return fail("unrecognized extern " + quote(ext.name));
        }
    }
    if (need_config && options.host_defaults) {
        if (const auto text = host::kernel_config()) {
            auto config = parse_kconfig(*text);
            if (!config)
                return Error{"host kernel config: " + config.error().message, std::nullopt};
            for (auto& ext : externs.list) {
                if (ext.type != ExternType::kconfig || ext.is_set) continue;
                const auto it = config->find(ext.name);
                if (it == config->end()) continue;
                if (auto err = set_value(ext, data.data() + ext.data_off, it->second)) return err;
            }
        }
    }
    for (const auto& ext : externs.list) {
        if (ext.is_set || ext.weak) continue; // unset weak externs read as zero
        if (ext.type == ExternType::kconfig)
            return fail("extern " + quote(ext.name) + " (strong): not resolved");
        if (ext.is_func)
            return fail("kfunc " + quote(ext.name) +
                        " is not supported (this VM has no kernel functions; declare it __weak "
                        "and test it with bpf_ksym_exists() to run without it)");
        return fail("extern (ksym) " + quote(ext.name) +
                    " (strong): not resolved (this VM has no kernel symbols)");
    }

    if (map_size == 0) return std::nullopt;
    // bpf_object__init_kconfig_map: a read-only single-element array, like .rodata.
    MapSpec spec;
    spec.def.type = MapType::array;
    spec.def.key_size = 4;
    spec.def.value_size = map_size;
    spec.def.max_entries = 1;
    // Its variables are global (not static), so libbpf makes it mmap()able.
    spec.def.map_flags = BPF_F_RDONLY_PROG | BPF_F_MMAPABLE;
    spec.def.name = internal_map_name(object_name, ".kconfig");
    spec.section = ".kconfig";
    spec.global_data = true;
    spec.initial_value = std::move(data);
    if (btf && externs.kconfig_datasec) spec.btf_value_type_id = *externs.kconfig_datasec;
    externs.kconfig_map = static_cast<uint32_t>(maps.specs.size());
    maps.specs.push_back(std::move(spec));
    maps.origins.push_back({0, 0, map_size, 0});
    return std::nullopt;
}

} // namespace ebpf::loader
