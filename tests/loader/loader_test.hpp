// Shared by the loader tests: the compiled test objects (tests/loader/progs/*.c, built by
// progs.cmake into EBPF_LOADER_PROGS_DIR) and lookups into a loaded Object.
#pragma once

#include "vm/loader/object.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#ifndef EBPF_LOADER_PROGS_DIR
#error "define EBPF_LOADER_PROGS_DIR as the directory of the compiled tests/loader/progs objects"
#endif

namespace ebpf::loader_test {

inline std::string object_path(const std::string& name) {
    return std::string(EBPF_LOADER_PROGS_DIR) + "/" + name + ".o";
}

inline std::vector<uint8_t> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    INFO("reading " << path);
    REQUIRE(in);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline std::vector<uint8_t> object_bytes(const std::string& name) {
    return read_file(object_path(name));
}

inline Object load(const std::string& name) {
    const auto bytes = object_bytes(name);
    auto obj = load_elf(bytes, object_path(name));
    INFO((obj ? std::string() : obj.error().to_string()));
    REQUIRE(obj);
    return std::move(*obj);
}

inline const ProgramSpec& program(const Object& obj, std::string_view name) {
    const auto it = std::find_if(obj.programs.begin(), obj.programs.end(),
                                 [&](const ProgramSpec& p) { return p.name == name; });
    INFO("program " << name);
    REQUIRE(it != obj.programs.end());
    return *it;
}

inline const MapSpec& map(const Object& obj, std::string_view name) {
    const auto it = std::find_if(obj.maps.begin(), obj.maps.end(),
                                 [&](const MapSpec& m) { return m.def.name == name; });
    INFO("map " << name);
    REQUIRE(it != obj.maps.end());
    return *it;
}

// A relocated lddw: the map it names and, for global data, the offset into the value.
struct MapRef {
    size_t insn;
    std::string map;
    uint8_t src;
    int32_t offset;

    bool operator==(const MapRef&) const = default;
};

inline std::vector<MapRef> map_refs(const Object& obj, const ProgramSpec& prog) {
    std::vector<MapRef> refs;
    for (size_t i = 0; i + 1 < prog.insns.size(); i++) {
        const Insn& insn = prog.insns[i];
        if (insn.opcode != BPF_LDDW) continue;
        if (insn.src == BPF_PSEUDO_MAP_IDX || insn.src == BPF_PSEUDO_MAP_IDX_VALUE) {
            REQUIRE(static_cast<size_t>(insn.imm) < obj.maps.size());
            refs.push_back({i, obj.maps[insn.imm].def.name, insn.src,
                            insn.src == BPF_PSEUDO_MAP_IDX_VALUE ? prog.insns[i + 1].imm : 0});
        }
        i++;
    }
    return refs;
}

// Where a local call or a callback's lddw at `insn` lands.
inline size_t target_of(const ProgramSpec& prog, size_t insn) {
    return insn + prog.insns[insn].imm + 1;
}

// The function func_info places at `insn`, or "" when none starts there.
inline std::string function_at(const ProgramSpec& prog, size_t insn) {
    for (const auto& f : prog.func_info)
        if (f.insn == insn) return f.name;
    return "";
}

} // namespace ebpf::loader_test
