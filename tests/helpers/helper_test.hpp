// What the helper tests share: programs from kernel-syntax text run in this VM, in both modes.
#pragma once

#include "maps/map.hpp"
#include "vm/isa/assembler.hpp"
#include "vm/vm.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

namespace helper_test {

inline const ebpf::Vm& vm() {
    static const ebpf::Vm instance;
    return instance;
}

// The program from text, its lddw map[idx:N] naming maps[N]; the test fails on an error.
inline ebpf::Program load(const std::string& text, std::vector<ebpf::Map*> maps = {}) {
    auto insns = ebpf::assemble(text);
    INFO(text);
    REQUIRE(insns);
    static std::vector<std::vector<ebpf::Map*>> keep; // Program keeps a span of them
    keep.push_back(std::move(maps));
    auto prog = ebpf::Program::load(*insns, vm().helpers(), keep.back());
    if (!prog) FAIL(prog.error().to_string());
    return std::move(*prog);
}

// Runs with R1 = r1; the run's error, or R0.
inline ebpf::Result<uint64_t> run(const ebpf::Program& prog, ebpf::RunState& state, ebpf::Mode mode,
                                  uint64_t r1 = 0) {
    ebpf::RunArgs args;
    args.r1 = r1;
    args.mode = mode;
    auto r = vm().run(prog, args, state);
    if (!r) return r.error();
    return r->r0;
}

inline std::shared_ptr<ebpf::Map> make_map(ebpf::MapType type, uint32_t key_size,
                                           uint32_t value_size, uint32_t max_entries,
                                           uint32_t ncpus = 1, uint32_t flags = 0) {
    ebpf::MapDef def;
    def.type = type;
    def.key_size = key_size;
    def.value_size = value_size;
    def.max_entries = max_entries;
    def.map_flags = flags;
    ebpf::MapOptions options;
    options.ncpus = ncpus;
    auto map = ebpf::create_map(def, options);
    if (!map) FAIL(map.error().message);
    return *map;
}

// A helper's negative errno as R0 holds it.
inline uint64_t neg(long err) {
    return static_cast<uint64_t>(-err);
}

constexpr ebpf::Mode both_modes[] = {ebpf::Mode::fast, ebpf::Mode::checked};

inline const char* mode_name(ebpf::Mode m) {
    return m == ebpf::Mode::fast ? "fast" : "checked";
}

} // namespace helper_test
