// What ebpf-run runs: an ELF object's program, or raw bytecode, loaded, verified and chosen by
// the command line.
#pragma once

#include "cli/run/failure.hpp"
#include "cli/run/maps_json.hpp"
#include "cli/run/options.hpp"
#include "vm/loaded_object.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace ebpf::cli::run {

struct Target {
    std::string object_name; // libbpf's: the file name without its directory and ".o"
    // An ELF object, or raw bytecode given a --type: maps created, programs verified.
    std::optional<LoadedObject> object;
    const LoadedProgram* prog = nullptr; // the chosen program, in object
    // Raw bytecode without a type: no context, no verifier, checked mode on --mem.
    std::optional<Program> untyped;

    bool verified() const { return prog && prog->verified; }
    // The instructions as given (before context rewriting).
    Insns insns() const;
    // The description of the program's type; null for untyped bytecode.
    const ProgTypeInfo* type_info() const;
};

// The program types ebpf-run can give an input to: by libbpf's type name ("sched_cls") or a
// section name that gives one ("tc", "socket").
std::optional<ProgType> runnable_type(const std::string& name);

// Reads and loads OBJECT as the options say, preloading the maps from `init` before the
// verifier runs, then picks the program (--program, --section, or the first one; none is picked
// for --list).
OrFailure<Target> load_target(const Options& options, const Vm& vm, const MapInit* init);

// --list: the programs and maps, as text or as JSON.
std::string list_text(const Target& target);
nlohmann::ordered_json list_json(const Target& target);

} // namespace ebpf::cli::run
