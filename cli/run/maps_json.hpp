// Maps as JSON, both ways: --map-init's preload file, and the contents shown after a run.
//
// Keys and values are hex bytes in memory order. A map's contents are {"type", "entries"} with
// entries in the preload forms, sorted by key hex: {"key", "value"}, {"key", "values"} for
// per-CPU maps (one value per CPU), {"key", "prog"} for prog arrays and {"key", "inner"} for
// map-in-maps (empty slots left out). Ring buffers are {"type": "ringbuf", "records": [...]}
// (submitted records, oldest first), queues and stacks {"type", "elements": [...]} in pop order.
// Kinds whose contents cannot be listed (perf event arrays: their records are the run's output;
// bloom filters) give {"type"} alone.
#pragma once

#include "cli/run/failure.hpp"
#include "vm/loaded_object.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace ebpf::cli::run {

// A --map-init file, read and checked for shape (an object of arrays of entry objects).
struct MapInit {
    std::string path;
    nlohmann::ordered_json doc;
};
OrFailure<MapInit> read_map_init(const std::string& path);

// Applies the entries in two steps, as libbpf's skeletons do: values and inner maps once the
// maps exist, before the verifier reads .rodata as constants; prog-array slots once the programs
// are loaded. An unknown map or an entry the map refuses is an Exit::usage failure naming the
// map and the entry.
Stop apply_map_data(const MapInit& init, const LoadedObject& object);
Stop apply_map_progs(const MapInit& init, const LoadedObject& object);

// One map's contents, as above.
nlohmann::ordered_json map_json(const Map& map, const LoadedObject& object);

// {NAME: contents} for every map of the object (libbpf's names, global data included).
nlohmann::ordered_json all_maps_json(const LoadedObject& object);

// The maps whose contents differ between two all_maps_json() snapshots.
nlohmann::ordered_json changed_maps(const nlohmann::ordered_json& before,
                                    const nlohmann::ordered_json& after);

} // namespace ebpf::cli::run
