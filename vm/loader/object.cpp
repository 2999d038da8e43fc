#include "vm/loader/object.hpp"

#include "vm/loader/btf.hpp"
#include "vm/loader/elf.hpp"
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

Result<Object> load(std::span<const uint8_t> bytes, const std::string& object_name) {
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
    if (auto err = loader::relocate(*funcs, *elf, *layout, *maps)) return *err;
    auto programs = loader::link_programs(*funcs, *layout, btf ? &*btf : nullptr,
                                          btf_ext ? &*btf_ext : nullptr);
    if (!programs) return programs.error();
    obj.maps = std::move(maps->specs);
    obj.programs = std::move(*programs);
    return obj;
}

} // namespace

Result<Object> load_elf(std::span<const uint8_t> bytes, const std::string& object_name) {
    // Parsing bounds every allocation by the file's size; this only turns an allocation failure
    // on a huge but well-formed object into an error.
    try {
        return load(bytes, object_name);
    } catch (const std::exception& e) {
        return Error{std::string("loading object: ") + e.what(), std::nullopt};
    }
}

} // namespace ebpf
