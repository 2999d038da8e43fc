#include "vm/loader/object.hpp"

#include "vm/loader/btf.hpp"
#include "vm/loader/core_relo.hpp"
#include "vm/loader/elf.hpp"
#include "vm/loader/externs.hpp"
#include "vm/loader/host.hpp"
#include "vm/loader/linker.hpp"
#include "vm/loader/map_defs.hpp"
#include "vm/loader/sections.hpp"

#include <exception>
#include <unordered_map>

namespace ebpf {
namespace {

// bpf_object__new: the base name, cut to BPF_OBJ_NAME_LEN - 1 characters, then at its first dot.
std::string libbpf_object_name(const std::string& path) {
    const size_t slash = path.find_last_of("/\\");
    std::string name = path.substr(slash == std::string::npos ? 0 : slash + 1, 15);
    return name.substr(0, name.find('.'));
}

// The BTF CO-RE relocations resolve against; null for the object's own.
std::shared_ptr<const btf::Btf> target_btf(const LoadOptions& options) {
    if (options.target_btf) return options.target_btf;
    return options.host_defaults ? loader::host::kernel_btf() : nullptr;
}

Result<Object> load(std::span<const uint8_t> bytes, const std::string& object_name,
                    const LoadOptions& options) {
    auto elf = elf::File::parse(bytes);
    if (!elf) return elf.error();
    auto layout = loader::classify_sections(*elf);
    if (!layout) return layout.error();

    Object obj;
    obj.name = libbpf_object_name(object_name);
    if (layout->license) {
        // libbpf keeps at most 63 characters, up to the first NUL.
        const auto data = layout->license->data;
        const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
        obj.license = std::string(text.substr(0, std::min(text.find('\0'), size_t{63})));
    }
    if (layout->version) {
        const auto data = layout->version->data;
        if (data.size() != 4)
            return Error{"elf: invalid kernel version section 'version' of " +
                             std::to_string(data.size()) + " bytes",
                         std::nullopt};
        obj.kernel_version = uint32_t{data[0]} | uint32_t{data[1]} << 8 | uint32_t{data[2]} << 16 |
                             uint32_t{data[3]} << 24;
    }

    std::optional<btf::Btf> btf;
    std::optional<btf::BtfExt> btf_ext;
    if (layout->btf) {
        auto parsed = btf::Btf::parse(layout->btf->data);
        if (!parsed) return parsed.error();
        btf = std::move(*parsed);
    }
    // Extern layout fills the .kconfig DATASEC before the other DATASECs are fixed up.
    auto externs = loader::collect_externs(*elf, btf ? &*btf : nullptr);
    if (!externs) return externs.error();
    if (btf) {
        if (auto err = loader::fixup_datasecs(*btf, *elf)) return *err;
        if (layout->btf_ext) {
            auto ext = btf::BtfExt::parse(layout->btf_ext->data, *btf);
            if (!ext) return ext.error();
            btf_ext = std::move(*ext);
        }
    }

    auto funcs = loader::collect_functions(*elf, *layout);
    if (!funcs) return funcs.error();
    auto maps = loader::collect_maps(*elf, *layout, btf ? &*btf : nullptr, obj.name);
    if (!maps) return maps.error();
    if (auto err =
            loader::resolve_externs(*externs, options, btf ? &*btf : nullptr, obj.name, *maps))
        return *err;
    if (layout->maps_shndx) {
        // libbpf's bpf_object__find_program_by_name takes the first entry program of a name.
        std::unordered_map<std::string_view, const loader::Function*> entries;
        for (const auto& f : *funcs)
            if (!f.subprog) entries.emplace(f.name, &f);
        auto is_entry = [&](const elf::Symbol& sym) {
            const auto it = entries.find(sym.name);
            return it != entries.end() && it->second->sec_idx == sym.shndx &&
                   it->second->sec_insn_off * sizeof(Insn) == sym.value;
        };
        if (auto err = loader::collect_map_relos(*maps, *elf, *layout, *btf, is_entry)) return *err;
    }
    if (btf_ext && !btf_ext->core_relos.empty()) {
        const auto target = target_btf(options);
        if (auto err = loader::apply_core_relos(*funcs, *btf, *btf_ext, target.get())) return *err;
    }
    if (auto err = loader::relocate(*funcs, *elf, *layout, *maps, *externs)) return *err;
    auto programs = loader::link_programs(*funcs, *layout, btf ? &*btf : nullptr,
                                          btf_ext ? &*btf_ext : nullptr);
    if (!programs) return programs.error();
    obj.maps = std::move(maps->specs);
    obj.programs = std::move(*programs);
    return obj;
}

} // namespace

Result<Object> load_elf(std::span<const uint8_t> bytes, const std::string& object_name,
                        const LoadOptions& options) {
    // Parsing bounds every allocation by the file's size; this only turns an allocation failure
    // on a huge but well-formed object into an error.
    try {
        return load(bytes, object_name, options);
    } catch (const std::exception& e) {
        return Error{std::string("loading object: ") + e.what(), std::nullopt};
    }
}

Result<std::shared_ptr<const btf::Btf>> parse_target_btf(std::span<const uint8_t> bytes) {
    try {
        std::span<const uint8_t> raw = bytes;
        if (bytes.size() >= 4 && bytes[0] == 0x7f && bytes[1] == 'E' && bytes[2] == 'L' &&
            bytes[3] == 'F') {
            auto elf = elf::File::parse(bytes);
            if (!elf) return elf.error();
            const elf::Section* sec = elf->find(".BTF");
            if (!sec) return Error{"target BTF: the ELF file has no .BTF section", std::nullopt};
            raw = sec->data;
        }
        auto btf = btf::Btf::parse(raw);
        if (!btf) return Error{"target " + btf.error().message, std::nullopt};
        return std::make_shared<const btf::Btf>(std::move(*btf));
    } catch (const std::exception& e) {
        return Error{std::string("target BTF: ") + e.what(), std::nullopt};
    }
}

Result<Kconfig> parse_kconfig(std::string_view text) {
    Kconfig config;
    while (!text.empty()) {
        const size_t eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.substr(0, 7) != "CONFIG_") continue;
        const size_t sep = line.find('=');
        if (sep == std::string_view::npos)
            return Error{"failed to parse '" + std::string(line) + "': no separator", std::nullopt};
        if (sep + 1 == line.size())
            return Error{"failed to parse '" + std::string(line) + "': no value", std::nullopt};
        config.emplace(std::string(line.substr(0, sep)), std::string(line.substr(sep + 1)));
    }
    return config;
}

} // namespace ebpf
