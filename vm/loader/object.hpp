// What the ELF loader reads out of an object built with `clang -O2 -g -target bpf`: its maps
// (BTF-defined `.maps`, the legacy `maps` section, and the global-data sections as
// single-element arrays), its programs with their `.text` subprograms linked in, and their
// BTF information. Nothing here is created yet: the VM turns a MapSpec into a Map and a
// ProgramSpec into a Program.
#pragma once

#include "maps/map.hpp"
#include "vm/isa/insn.hpp"
#include "vm/isa/result.hpp"
#include "vm/progtypes/prog_type.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ebpf {

namespace btf {
class Btf;
}

struct MapSpec {
    MapDef def; // def.name is the name libbpf gives the map (for global data: "<obj>.bss", ...)
    std::string section; // ".maps", "maps", ".bss", ".data", ".rodata", ".rodata.str1.1", ...
    bool global_data = false;
    std::vector<uint8_t> initial_value; // global data: the section's bytes (zeros for .bss)
    std::optional<MapDef> inner;        // map-in-maps: the inner map's definition
    // `__array(values, ...)` static initialisation: slot index -> program name (prog arrays) or
    // map name (map-in-maps).
    std::vector<std::pair<uint32_t, std::string>> initial_slots;
    uint64_t map_extra = 0; // `__uint(map_extra, ...)`: a bloom filter's number of hashes
    uint32_t btf_key_type_id = 0;
    uint32_t btf_value_type_id = 0;
};

// Kernel BTF.ext records, rebased on the program's own instruction indices.
struct FuncInfo {
    uint32_t insn = 0;
    uint32_t type_id = 0;
    std::string name;
};
struct LineInfo {
    uint32_t insn = 0;
    std::string file;
    std::string line; // the source line's text
    uint32_t line_number = 0;
    uint32_t column = 0;
};

// An instruction the loader replaced with an invalid call, as libbpf does: `call 0xbad2310` for
// a CO-RE relocation with no target, `call 2002000000 + n` for a call to an unresolved weak
// kfunc. The verifier refuses it only where it is reachable.
struct PoisonedInsn {
    uint32_t insn = 0;
    std::string reason;
};

struct ProgramSpec {
    std::string name;    // the function's symbol name
    std::string section; // "xdp", "tc", "kprobe/do_unlinkat", ...
    ProgType type = ProgType::unspec;
    // Linked instructions: the program, then each `.text` subprogram it calls (transitively),
    // with local call offsets fixed up. Map references are lddw with src = BPF_PSEUDO_MAP_IDX
    // and imm = index into Object::maps; global-data references are lddw with
    // src = BPF_PSEUDO_MAP_IDX_VALUE, imm = map index and the second slot's imm = offset.
    std::vector<Insn> insns;
    std::vector<FuncInfo> func_info;
    std::vector<LineInfo> line_info;
    std::vector<PoisonedInsn> poisoned;
};

struct Object {
    std::string name; // the object name libbpf uses: file name without directory and ".o"
    std::string license;
    uint32_t kernel_version = 0;
    std::vector<MapSpec> maps;
    std::vector<ProgramSpec> programs;
};

// Values of `__kconfig` externs as a kernel .config spells them: "CONFIG_BPF_SYSCALL" -> "y",
// "CONFIG_HZ" -> "250", "CONFIG_DEFAULT_HOSTNAME" -> "\"(none)\"".
using Kconfig = std::map<std::string, std::string, std::less<>>;

struct LoadOptions {
    // The BTF that CO-RE relocations resolve against (libbpf's btf_custom_path). When null: the
    // running kernel's /sys/kernel/btf/vmlinux if host_defaults and it exists, else the object's
    // own BTF, against which every relocation keeps its compiled value.
    std::shared_ptr<const btf::Btf> target_btf;
    // Kconfig extern values, before the host's. Also libbpf's virtual externs, which default to
    // LINUX_KERNEL_VERSION: the host kernel's (uname), LINUX_HAS_BPF_COOKIE: 0 (this VM has no
    // bpf_get_attach_cookie), LINUX_HAS_SYSCALL_WRAPPER: 1.
    Kconfig kconfig;
    // Whether the running kernel's BTF, .config and version may be read (see vm/loader/host.hpp).
    // Off, loading depends on the object and these options only.
    bool host_defaults = true;
};

// Parses an ELF object. Every byte is treated as hostile: a malformed file gives an error that
// names the section (or offset) at fault, never a crash or an out-of-bounds read.
Result<Object> load_elf(std::span<const uint8_t> bytes, const std::string& object_name,
                        const LoadOptions& options = {});

// A target BTF for LoadOptions: raw BTF (/sys/kernel/btf/vmlinux) or an ELF file with a .BTF
// section, as libbpf's btf__parse takes either.
Result<std::shared_ptr<const btf::Btf>> parse_target_btf(std::span<const uint8_t> bytes);

// `CONFIG_X=value` lines of a kernel .config; other lines ("# CONFIG_Y is not set") are
// skipped and the first definition wins, as libbpf reads them.
Result<Kconfig> parse_kconfig(std::string_view text);

// libbpf's section-name conventions: "xdp" -> xdp, "tc"/"classifier" -> sched_cls,
// "socket" -> socket_filter, "kprobe/" -> kprobe, ... nullopt for sections that are not programs
// or not known.
std::optional<ProgType> prog_type_from_section(const std::string& section);

} // namespace ebpf
