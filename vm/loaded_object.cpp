#include "vm/loaded_object.hpp"

#include "maps/map_in_map.hpp"
#include "maps/prog_array.hpp"
#include "vm/progtypes/prog_type_info.hpp"

namespace ebpf {
namespace {

Result<std::shared_ptr<Map>> create_spec_map(const MapSpec& spec, uint32_t ncpus) {
    MapOptions opts;
    opts.ncpus = ncpus;
    MapDef def = spec.def;
    // libbpf gives a perf event array without max_entries one slot per possible CPU.
    if (def.type == MapType::perf_event_array && def.max_entries == 0) def.max_entries = ncpus;
    auto map = spec.inner ? create_map_in_map(def, *spec.inner, opts) : create_map(def, opts);
    if (!map) return Error{"map '" + spec.def.name + "': " + map.error().message, {}};
    if (spec.global_data && !spec.initial_value.empty()) {
        const uint32_t key = 0;
        if (long err = (*map)->sys_update(&key, spec.initial_value.data(), BPF_ANY))
            return Error{"map '" + spec.def.name + "': initial value refused (" +
                             std::to_string(err) + ")",
                         {}};
    }
    return map;
}

// Verifies, rewrites context accesses and decodes one program.
Status prepare(LoadedProgram& lp, const std::vector<MapSpec>& specs, const std::vector<Map*>& maps,
               const Vm& vm, const ObjectOptions& options) {
    const ProgTypeInfo* info = prog_type_info(lp.type);
    if (!info) {
        lp.unsupported =
            lp.type == ProgType::unspec
                ? "section '" + lp.section + "' names no program type (give one)"
                : "the program type of section '" + lp.section + "' is not supported by this VM";
        return std::nullopt;
    }
    // A map of a kind this VM does not have.
    for (size_t i = 0; i + 1 < lp.insns.size(); ++i) {
        const Insn& insn = lp.insns[i];
        if (insn.opcode != BPF_LDDW) continue;
        const bool names_map =
            insn.src == BPF_PSEUDO_MAP_IDX || insn.src == BPF_PSEUDO_MAP_IDX_VALUE;
        const auto m = static_cast<size_t>(insn.imm);
        if (names_map && m < maps.size() && !maps[m] && m < specs.size()) {
            lp.unsupported = "insn " + std::to_string(i) + " uses map '" + specs[m].def.name +
                             "' (" + map_type_name(specs[m].def.type) +
                             "), a kind this VM does not have";
            return std::nullopt;
        }
        ++i;
    }
    VerifierOptions vopts;
    vopts.prog_type = lp.type;
    vopts.log_level = options.log_level;
    vopts.ncpus = options.ncpus;
    vopts.maps.assign(maps.begin(), maps.end());
    lp.verdict = verify(lp.insns, vopts);
    // A refusal at an instruction the loader poisoned says why it was poisoned.
    for (const auto& p : lp.poisoned)
        if (!lp.verdict.accepted && lp.verdict.error_insn == p.insn)
            lp.verdict.error += " (" + p.reason + ")";
    if (options.verify && !lp.verdict.accepted) return std::nullopt; // refused: no program to run
    lp.verified = options.verify;

    // The context accesses the verifier saw; an unverified program keeps its other accesses.
    const auto& aux = lp.verdict.aux;
    // Verified programs keep only what the verifier saw; unverified ones run as given.
    const std::vector<Insn> insns =
        lp.verified ? sanitize_dead_code(lp.insns, lp.verdict) : lp.insns;
    auto rewritten = convert_ctx_accesses(insns, *info, [&](size_t i) {
        return i < aux.size() && aux[i].ptr_type == verifier::RegType::ptr_to_ctx;
    });
    if (!rewritten) return Error{"program '" + lp.name + "': " + rewritten.error().to_string(), {}};
    // A helper the verifier knows but this VM does not implement leaves the program out.
    for (size_t i = 0; i < rewritten->size(); ++i) {
        const Insn& insn = (*rewritten)[i];
        if (insn.opcode == (BPF_JMP | BPF_CALL) && insn.src == 0 && !vm.helpers().find(insn.imm)) {
            lp.unsupported = "insn " + std::to_string(i) + " calls " +
                             kernel_helper_name(insn.imm) + "#" + std::to_string(insn.imm) +
                             ", which this VM does not implement";
            return std::nullopt;
        }
    }
    auto prog = Program::load(*rewritten, vm.helpers(), maps);
    if (!prog) return Error{"program '" + lp.name + "': " + prog.error().to_string(), {}};
    lp.program = std::move(*prog);
    return std::nullopt;
}

} // namespace

Result<LoadedObject> LoadedObject::open(std::span<const uint8_t> elf,
                                        const std::string& object_name, const Vm& vm,
                                        const ObjectOptions& options) {
    auto spec = load_elf(elf, object_name, options.load);
    if (!spec) return spec.error();
    LoadedObject obj;
    obj.vm_ = &vm;
    obj.ncpus_ = options.ncpus;
    obj.map_specs_ = std::move(spec->maps);
    for (const auto& ms : obj.map_specs_) {
        // A kind this VM does not have leaves a hole: the programs that use the map are left
        // out, the others run.
        if (!map_type_supported(ms.def.type) || (ms.inner && !map_type_supported(ms.inner->type))) {
            obj.maps_.push_back(nullptr);
            obj.map_ptrs_.push_back(nullptr);
            continue;
        }
        auto map = create_spec_map(ms, options.ncpus);
        if (!map) return map.error();
        obj.maps_.push_back(*map);
        obj.map_ptrs_.push_back(map->get());
        obj.live_maps_.push_back(map->get());
    }
    if (options.maps_created)
        if (auto err = options.maps_created(obj)) return *err;
    for (auto& ps : spec->programs) {
        LoadedProgram lp;
        lp.name = ps.name;
        lp.section = ps.section;
        lp.type = ps.type == ProgType::unspec && options.type ? *options.type : ps.type;
        lp.insns = std::move(ps.insns);
        lp.func_info = std::move(ps.func_info);
        lp.line_info = std::move(ps.line_info);
        lp.poisoned = std::move(ps.poisoned);
        obj.programs_.push_back(std::move(lp));
        if (auto err = prepare(obj.programs_.back(), obj.map_specs_, obj.map_ptrs_, vm, options))
            return *err;
    }
    // Static contents of prog arrays and map-in-maps, now that both exist.
    for (size_t i = 0; i < obj.map_specs_.size(); ++i) {
        if (!obj.maps_[i]) continue;
        for (const auto& [slot, target] : obj.map_specs_[i].initial_slots) {
            Map& map = *obj.maps_[i];
            if (map.type() == MapType::prog_array) {
                const LoadedProgram* p = obj.program(target);
                if (!p)
                    return Error{"map '" + map.def().name + "': no program '" + target +
                                     "' for slot " + std::to_string(slot),
                                 {}};
                if (!p->program) continue; // refused by the verifier: the slot stays empty
                if (long err = static_cast<ProgArrayMap&>(map).set(slot, &*p->program))
                    return Error{"map '" + map.def().name + "': slot " + std::to_string(slot) +
                                     " refused (" + std::to_string(err) + ")",
                                 {}};
            } else {
                auto inner = obj.map(target);
                if (!inner)
                    return Error{"map '" + map.def().name + "': no map '" + target + "' for slot " +
                                     std::to_string(slot),
                                 {}};
                if (long err = static_cast<MapInMap&>(map).set(&slot, inner))
                    return Error{"map '" + map.def().name + "': slot " + std::to_string(slot) +
                                     " refused (" + std::to_string(err) + ")",
                                 {}};
            }
        }
    }
    return obj;
}

Result<LoadedObject> LoadedObject::from_insns(std::vector<Insn> insns, const std::string& name,
                                              const Vm& vm, const ObjectOptions& options) {
    LoadedObject obj;
    obj.vm_ = &vm;
    obj.ncpus_ = options.ncpus;
    if (options.maps_created)
        if (auto err = options.maps_created(obj)) return *err;
    LoadedProgram lp;
    lp.name = name;
    lp.type = options.type.value_or(ProgType::unspec);
    lp.insns = std::move(insns);
    obj.programs_.push_back(std::move(lp));
    if (auto err = prepare(obj.programs_.back(), {}, obj.map_ptrs_, vm, options)) return *err;
    return obj;
}

std::shared_ptr<Map> LoadedObject::map(std::string_view name) const {
    for (size_t i = 0; i < maps_.size(); ++i)
        if (map_specs_[i].def.name == name) return maps_[i];
    return nullptr;
}

const LoadedProgram* LoadedObject::program(std::string_view name) const {
    for (const auto& p : programs_)
        if (p.name == name) return &p;
    return nullptr;
}

Result<RunResult> LoadedObject::run(const LoadedProgram& prog, RunContext& ctx,
                                    const RunOptions& options) const {
    if (!prog.unsupported.empty())
        return Error{"program '" + prog.name + "': " + prog.unsupported, {}};
    if (!prog.program)
        return Error{
            "program '" + prog.name + "' was refused by the verifier: " + prog.verdict.error, {}};
    // Per-CPU maps hold ncpus values, and the verifier bounds bpf_get_smp_processor_id() by it.
    if (options.cpu >= ncpus_)
        return Error{"CPU " + std::to_string(options.cpu) + " is not one of the object's " +
                         std::to_string(ncpus_) + " CPUs",
                     {}};
    RunState state;
    state.host = options.host;
    state.cpu = options.cpu;
    state.maps = live_maps_;
    state.trace_pipe = options.trace_pipe;
    state.task = options.task;
    state.kernel_callchain = options.kernel_callchain;
    state.user_callchain = options.user_callchain;
    state.clones = options.clones;
    state.kernel_memory = options.kernel_memory;
    state.user_memory = options.user_memory;
    if (auto err = ctx.attach(state)) return *err;
    RunArgs args;
    args.r1 = reinterpret_cast<uint64_t>(ctx.ctx());
    args.mode = prog.verified ? options.mode : Mode::checked;
    args.insn_budget = options.insn_budget;
    auto result = options.engine && args.mode == Mode::fast ? options.engine(args, state)
                                                            : vm_->run(*prog.program, args, state);
    if (options.redirect) *options.redirect = state.redirect;
    return result;
}

} // namespace ebpf
