// Extern symbols, as libbpf's bpf_object__collect_externs and bpf_object__resolve_externs
// handle them. `__kconfig` externs (DATASEC .kconfig) are laid out in one read-only
// ".kconfig" global-data map, filled from the host's kernel configuration and libbpf's
// virtual LINUX_* values. `__ksym` externs (DATASEC .ksyms) name kernel variables and kfuncs,
// which this VM does not have: weak ones resolve to 0 (bpf_ksym_exists() is false, calls are
// poisoned as libbpf poisons unresolved weak kfunc calls), strong ones are an error naming them.
#pragma once

#include "vm/loader/btf.hpp"
#include "vm/loader/elf.hpp"
#include "vm/loader/map_defs.hpp"
#include "vm/loader/object.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace ebpf::loader {

// libbpf's unresolved kfunc call immediate: POISON_CALL_KFUNC_BASE + the extern's index.
inline constexpr int32_t POISON_CALL_KFUNC_BASE = 2002000000;

enum class ExternType { kconfig, ksym };
enum class KcfgType { boolean, character, tristate, integer, char_array };

struct Extern {
    std::string_view name;
    uint32_t sym_idx = 0;
    uint32_t btf_id = 0; // its VAR or FUNC
    bool weak = false;
    ExternType type = ExternType::ksym;
    // .kconfig
    KcfgType kcfg_type = KcfgType::integer;
    uint32_t size = 0, align = 0;
    bool is_signed = false;
    uint32_t data_off = 0; // in the .kconfig map
    bool is_set = false;
    // .ksyms
    bool is_func = false;
};

struct Externs {
    std::vector<Extern> list; // libbpf's order: kconfig by alignment, size, name; then ksyms
    std::optional<uint32_t> kconfig_map; // index in ObjectMaps once resolved
    std::optional<uint32_t> kconfig_datasec;

    std::optional<size_t> find_by_sym(uint32_t sym_idx) const;
};

// The object's externs (undefined global or weak symbols without a type), with their BTF;
// lays out .kconfig and fills its DATASEC's size and offsets, as libbpf does before
// fixup_datasecs.
Result<Externs> collect_externs(const elf::File& elf, btf::Btf* btf);

// Gives every kconfig extern its value (options first, then the host's configuration when
// options.host_defaults), refuses strong externs left unresolved, and appends the ".kconfig"
// map holding the values.
Status resolve_externs(Externs& externs, const LoadOptions& options, const btf::Btf* btf,
                       const std::string& object_name, ObjectMaps& maps);

} // namespace ebpf::loader
