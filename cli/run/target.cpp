#include "cli/run/target.hpp"

#include "cli/io.hpp"
#include "vm/loader/host.hpp"
#include "vm/loader/object.hpp"
#include "vm/progtypes/prog_type_info.hpp"

#include <filesystem>
#include <sstream>

namespace ebpf::cli::run {
namespace {

constexpr const char* runnable_type_names =
    "xdp, sched_cls (tc), sched_act, socket_filter (socket), cgroup_skb, kprobe, tracepoint, "
    "raw_tracepoint, perf_event";

bool is_elf(const std::vector<uint8_t>& bytes) {
    return bytes.size() >= 4 && bytes[0] == 0x7f && bytes[1] == 'E' && bytes[2] == 'L' &&
           bytes[3] == 'F';
}

// libbpf names an object after its file: no directory, no ".o".
std::string object_name_of(const std::string& path) {
    std::filesystem::path p(path);
    std::string name = p.filename().string();
    if (p.extension() == ".o") name = p.stem().string();
    return name;
}

std::string names_of(const std::deque<LoadedProgram>& programs, bool sections) {
    std::string out;
    for (const auto& p : programs) {
        if (!out.empty()) out += ", ";
        out += sections ? p.section : p.name;
    }
    return out.empty() ? "none" : out;
}

OrFailure<const LoadedProgram*> pick_program(const LoadedObject& obj, const Options& o,
                                             const std::string& path) {
    const auto& programs = obj.programs();
    if (programs.empty()) return Failure{Exit::load_failed, path + ": holds no programs"};
    const auto runnable = [&](const LoadedProgram* p) -> OrFailure<const LoadedProgram*> {
        if (p->unsupported.empty()) return p;
        return Failure{Exit::load_failed, path + ": program '" + p->name + "': " + p->unsupported};
    };
    if (!o.program.empty()) {
        if (const LoadedProgram* p = obj.program(o.program)) return runnable(p);
        return Failure{Exit::usage, "no program '" + o.program + "' in " + path +
                                        " (programs: " + names_of(programs, false) + ")"};
    }
    if (!o.section.empty()) {
        for (const auto& p : programs)
            if (p.section == o.section) return runnable(&p);
        return Failure{Exit::usage, "no section '" + o.section + "' in " + path +
                                        " (sections: " + names_of(programs, true) + ")"};
    }
    // The first program this VM can take, as an object often carries variants for other hooks.
    for (const auto& p : programs)
        if (p.unsupported.empty()) return &p;
    return runnable(&programs.front());
}

std::string verdict_text(const LoadedProgram& p) {
    if (!p.unsupported.empty()) return "not loaded: " + p.unsupported;
    if (p.verdict.accepted) return "accepted";
    return "rejected: " + p.verdict.error;
}

} // namespace

Insns Target::insns() const {
    if (prog) return prog->insns;
    return untyped->insns();
}

const ProgTypeInfo* Target::type_info() const {
    return prog ? prog_type_info(prog->type) : nullptr;
}

std::optional<ProgType> runnable_type(const std::string& name) {
    if (auto type = prog_type_by_name(name)) return type;
    if (auto type = prog_type_from_section(name); type && prog_type_info(*type)) return type;
    return std::nullopt;
}

OrFailure<Target> load_target(const Options& o, const Vm& vm, const MapInit* init) {
    ObjectOptions opts;
    // A refused --map-init entry stops the load; it is the options' fault, not the object's.
    Stop init_failure;
    if (init)
        opts.maps_created = [&](const LoadedObject& obj) -> Status {
            init_failure = apply_map_data(*init, obj);
            if (init_failure) return Error{init_failure->message, std::nullopt};
            return std::nullopt;
        };
    opts.ncpus = o.cpus;
    opts.verify = o.verify;
    opts.log_level = o.log_level;
    if (o.type) {
        opts.type = runnable_type(*o.type);
        if (!opts.type)
            return Failure{Exit::usage, "unknown program type '" + *o.type +
                                            "' (known: " + runnable_type_names + ")"};
    }

    if (!o.btf.empty()) {
        auto btf_bytes = read_file(o.btf);
        if (!btf_bytes) return Failure{Exit::usage, btf_bytes.error().to_string()};
        auto btf = parse_target_btf(*btf_bytes);
        if (!btf) return Failure{Exit::usage, o.btf + ": " + btf.error().to_string()};
        opts.load.target_btf = *btf;
    }
    if (!o.kconfig.empty()) {
        auto text = loader::host::read_config_file(o.kconfig);
        if (!text) return Failure{Exit::usage, text.error().to_string()};
        auto kconfig = parse_kconfig(*text);
        if (!kconfig) return Failure{Exit::usage, o.kconfig + ": " + kconfig.error().to_string()};
        opts.load.kconfig = std::move(*kconfig);
    }

    auto bytes = read_file(o.object);
    if (!bytes) return Failure{Exit::load_failed, bytes.error().to_string()};
    Target t;
    t.object_name = object_name_of(o.object);
    const bool raw = o.raw || std::filesystem::path(o.object).extension() == ".bin";

    if (!raw) {
        if (!is_elf(*bytes))
            return Failure{Exit::load_failed,
                           o.object + ": not an ELF object (raw bytecode needs --raw or a .bin "
                                      "name)"};
        auto obj = LoadedObject::open(*bytes, t.object_name, vm, opts);
        if (init_failure) return *init_failure;
        if (!obj) return Failure{Exit::load_failed, o.object + ": " + obj.error().to_string()};
        t.object.emplace(std::move(*obj));
    } else {
        auto insns = insns_from_bytes(*bytes);
        if (!insns) return Failure{Exit::load_failed, o.object + ": " + insns.error().to_string()};
        if (opts.type) {
            auto obj = LoadedObject::from_insns(std::move(*insns), t.object_name, vm, opts);
            if (init_failure) return *init_failure;
            if (!obj) return Failure{Exit::load_failed, o.object + ": " + obj.error().to_string()};
            t.object.emplace(std::move(*obj));
        } else {
            if (o.log_level || o.verify_only)
                return Failure{Exit::usage, "raw bytecode without --type is not verified: give "
                                            "it a --type"};
            if (init) return Failure{Exit::usage, "raw bytecode has no maps for --map-init"};
            auto prog = vm.load(*insns);
            if (!prog)
                return Failure{Exit::load_failed, o.object + ": " + prog.error().to_string()};
            t.untyped.emplace(std::move(*prog));
            return t;
        }
    }
    if (o.list) return t;
    auto picked = pick_program(*t.object, o, o.object);
    if (auto* f = std::get_if<Failure>(&picked)) return *f;
    t.prog = std::get<const LoadedProgram*>(picked);
    return t;
}

std::string list_text(const Target& t) {
    std::ostringstream out;
    if (!t.object) {
        out << "raw bytecode, " << t.untyped->insns().size()
            << " instructions, no type (runs unverified on --mem)\n";
        return out.str();
    }
    out << "programs:\n";
    for (const auto& p : t.object->programs()) {
        const ProgTypeInfo* info = prog_type_info(p.type);
        out << "  " << p.name << "  section " << (p.section.empty() ? "-" : p.section) << "  type "
            << (info ? info->name : "?") << "  " << p.insns.size() << " insns  " << verdict_text(p)
            << "\n";
    }
    out << "maps:\n";
    if (t.object->maps().empty()) out << "  none\n";
    for (size_t i = 0; i < t.object->map_specs().size(); ++i) {
        const MapDef& d = t.object->map_specs()[i].def;
        out << "  " << d.name << "  " << map_type_name(d.type) << "  key " << d.key_size
            << "  value " << d.value_size << "  max_entries " << d.max_entries
            << (t.object->maps()[i] ? "" : "  not created: a kind this VM does not have") << "\n";
    }
    return out.str();
}

nlohmann::ordered_json list_json(const Target& t) {
    nlohmann::ordered_json programs = nlohmann::ordered_json::array(),
                           maps = nlohmann::ordered_json::array();
    if (!t.object) {
        programs.push_back({{"name", t.object_name},
                            {"section", nullptr},
                            {"type", nullptr},
                            {"insns", t.untyped->insns().size()}});
        return {{"programs", programs}, {"maps", maps}};
    }
    for (const auto& p : t.object->programs()) {
        const ProgTypeInfo* info = prog_type_info(p.type);
        programs.push_back(
            {{"name", p.name},
             {"section", p.section},
             {"type", info ? nlohmann::ordered_json(info->name) : nlohmann::ordered_json()},
             {"insns", p.insns.size()},
             {"verifier",
              p.unsupported.empty()
                  ? nlohmann::ordered_json{{"verdict", p.verdict.accepted ? "accept" : "reject"},
                                           {"message", p.verdict.error},
                                           {"insns_processed", p.verdict.insns_processed}}
                  : nlohmann::ordered_json()}});
        if (!p.unsupported.empty()) programs.back()["unsupported"] = p.unsupported;
    }
    for (size_t i = 0; i < t.object->map_specs().size(); ++i) {
        const MapDef& d = t.object->map_specs()[i].def;
        maps.push_back({{"name", d.name},
                        {"type", map_type_name(d.type)},
                        {"key_size", d.key_size},
                        {"value_size", d.value_size},
                        {"max_entries", d.max_entries}});
        if (!t.object->maps()[i]) maps.back()["created"] = false;
    }
    return {{"programs", programs}, {"maps", maps}};
}

} // namespace ebpf::cli::run
