#include "cli/kernel_cases.hpp"

#include "cli/io.hpp"
#include "jit/jit.hpp"
#include "maps/map_in_map.hpp"
#include "maps/prog_array.hpp"
#include "vm/isa/assembler.hpp"
#include "vm/progtypes/prog_type_info.hpp"
#include "vm/progtypes/test_run.hpp"

#include <nlohmann/json.hpp>
#include <zlib.h>

#include <cstring>
#include <fstream>

namespace ebpf::cli {
namespace {

std::optional<ProgType> prog_type_named(const std::string& name) {
    static const std::map<std::string, ProgType> names{
        {"socket_filter", ProgType::socket_filter},   {"kprobe", ProgType::kprobe},
        {"sched_cls", ProgType::sched_cls},           {"sched_act", ProgType::sched_act},
        {"tracepoint", ProgType::tracepoint},         {"xdp", ProgType::xdp},
        {"perf_event", ProgType::perf_event},         {"cgroup_skb", ProgType::cgroup_skb},
        {"raw_tracepoint", ProgType::raw_tracepoint},
    };
    auto it = names.find(name);
    if (it == names.end()) return std::nullopt;
    return it->second;
}

Result<std::vector<uint8_t>> gunzip_file(const std::filesystem::path& path) {
    gzFile f = gzopen(path.string().c_str(), "rb");
    if (!f) return Error{path.string() + ": cannot open", {}};
    std::vector<uint8_t> out;
    uint8_t buf[65536];
    int n;
    while ((n = gzread(f, buf, sizeof buf)) > 0)
        out.insert(out.end(), buf, buf + n);
    const bool bad = n < 0;
    gzclose(f);
    if (bad) return Error{path.string() + ": corrupt gzip data", {}};
    return out;
}

MapDef def(MapType type, uint32_t key, uint32_t value, uint32_t max, uint32_t flags,
           const char* name) {
    MapDef d;
    d.type = type;
    d.key_size = key;
    d.value_size = value;
    d.max_entries = max;
    d.map_flags = flags;
    d.name = name;
    return d;
}

} // namespace

std::string kernel_error_line(const std::string& log_tail) {
    std::vector<std::string> lines;
    size_t start = 0;
    while (start <= log_tail.size()) {
        const size_t end = log_tail.find('\n', start);
        std::string line =
            log_tail.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (!line.empty()) lines.push_back(line);
        if (end == std::string::npos) break;
        start = end + 1;
    }
    for (size_t i = 0; i < lines.size(); ++i)
        if (lines[i].rfind("verification time", 0) == 0) return i ? lines[i - 1] : "";
    return lines.empty() ? "" : lines.back();
}

Result<std::vector<KernelCase>> load_kernel_cases(const std::filesystem::path& jsonl) {
    std::ifstream in(jsonl);
    if (!in) return Error{jsonl.string() + ": cannot open", {}};
    std::vector<KernelCase> cases;
    std::string line;
    size_t lineno = 0;
    while (std::getline(in, line)) {
        ++lineno;
        if (line.empty()) continue;
        const auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded())
            return Error{jsonl.string() + ":" + std::to_string(lineno) + ": bad JSON", {}};
        KernelCase c;
        c.id = j.value("id", "");
        c.descr = j.value("descr", "");
        c.prog_type_name = j.value("prog_type", "");
        c.prog_type = prog_type_named(c.prog_type_name);
        c.in_scope = j.value("in_scope", false);
        c.test_flags = j.value("test_flags", 0u);
        if (j.contains("insns") && j["insns"].is_array()) {
            for (const auto& w : j["insns"]) {
                auto bytes = parse_hex(w.get<std::string>());
                if (!bytes || bytes->size() != 8)
                    return Error{c.id + ": bad instruction " + w.dump(), {}};
                Insn insn;
                std::memcpy(&insn, bytes->data(), 8);
                c.insns.push_back(insn);
            }
        } else if (j.contains("insns_file") && j["insns_file"].is_string()) {
            auto bytes = gunzip_file(jsonl.parent_path() / j["insns_file"].get<std::string>());
            if (!bytes) return bytes.error();
            auto insns = insns_from_bytes(*bytes);
            if (!insns) return Error{c.id + ": " + insns.error().message, {}};
            c.insns = std::move(*insns);
        }
        if (j.contains("fixups") && j["fixups"].is_object())
            for (const auto& [kind, idx] : j["fixups"].items())
                c.fixups[kind] = idx.get<std::vector<uint32_t>>();
        if (j.contains("data") && j["data"].is_string()) {
            auto data = parse_hex(j["data"].get<std::string>());
            if (data) c.data = std::move(*data);
        }
        const auto& k = j["kernel"];
        c.kernel.verdict = k.value("verdict", "");
        if (c.kernel.verdict == "reject")
            c.kernel.message = kernel_error_line(k.value("log_tail", ""));
        if (k.contains("insns_processed") && k["insns_processed"].is_number())
            c.kernel.insns_processed = k["insns_processed"].get<uint64_t>();
        if (k.contains("retval") && k["retval"].is_number())
            c.kernel.retval = k["retval"].get<uint64_t>();
        c.kernel.retval_stable = k.value("retval_stable", true);
        cases.push_back(std::move(c));
    }
    return cases;
}

Result<CaseMaps> create_case_maps(KernelCase& c, uint32_t ncpus) {
    CaseMaps out;
    MapOptions opts;
    opts.ncpus = ncpus;
    for (const auto& [kind, indices] : c.fixups) {
        Result<std::shared_ptr<Map>> map = Error{"unknown fixup kind " + kind, {}};
        if (kind == "map_hash_8b")
            map = create_map(def(MapType::hash, 8, 8, 1, BPF_F_NO_PREALLOC, "map_hash_8b"), opts);
        else if (kind == "map_hash_16b")
            map = create_map(def(MapType::hash, 8, 16, 1, BPF_F_NO_PREALLOC, "map_hash_16b"), opts);
        else if (kind == "map_hash_48b")
            map = create_map(def(MapType::hash, 8, 48, 1, BPF_F_NO_PREALLOC, "map_hash_48b"), opts);
        else if (kind == "map_array_48b" || kind == "map_array_ro" || kind == "map_array_wo") {
            const uint32_t flags = kind == "map_array_ro"   ? BPF_F_RDONLY_PROG
                                   : kind == "map_array_wo" ? BPF_F_WRONLY_PROG
                                                            : 0;
            map = create_map(def(MapType::array, 4, 48, 1, flags, kind.c_str()), opts);
            if (map) {
                // test_val element 0: index = 28, foo[6] = 0xabcdef12.
                uint8_t value[48] = {};
                const uint32_t index = 28, foo6 = 0xabcdef12;
                std::memcpy(value, &index, 4);
                std::memcpy(value + 4 + 6 * 4, &foo6, 4);
                const uint32_t key = 0;
                (*map)->sys_update(&key, value, BPF_ANY);
            }
        } else if (kind == "map_array_small")
            map = create_map(def(MapType::array, 4, 1, 1, 0, "map_array_small"), opts);
        else if (kind == "prog1")
            map = create_map(def(MapType::prog_array, 4, 4, 4, 0, "prog1"), opts);
        else if (kind == "prog2")
            map = create_map(def(MapType::prog_array, 4, 4, 8, 0, "prog2"), opts);
        else if (kind == "map_in_map")
            map = create_map_in_map(def(MapType::array_of_maps, 4, 4, 1, 0, "map_in_map"),
                                    def(MapType::array, 4, 4, 1, 0, "inner"), opts);
        else if (kind == "map_ringbuf")
            map = create_map(def(MapType::ringbuf, 0, 0, 4096, 0, "map_ringbuf"), opts);
        else if (kind == "map_event_output")
            map = create_map(def(MapType::perf_event_array, 4, 4, 1, 0, "map_event_output"), opts);
        else if (kind == "map_spin_lock") {
            MapDef d = def(MapType::array, 4, 8, 1, 0, "map_spin_lock");
            d.spin_lock_off = 4;
            map = create_map(d, opts);
        } else if (kind == "map_timer") {
            MapDef d = def(MapType::array, 4, 16, 1, 0, "map_timer");
            d.timer_off = 0;
            map = create_map(d, opts);
        }
        if (!map) return Error{c.id + ": fixup " + kind + ": " + map.error().message, {}};
        const size_t index = out.maps.size();
        out.maps.push_back(*map);
        out.index_of_kind[kind] = index;
        for (uint32_t at : indices) {
            if (at >= c.insns.size())
                return Error{c.id + ": fixup index " + std::to_string(at) + " past the program",
                             {}};
            c.insns[at].imm = static_cast<int32_t>(index);
        }
    }
    return out;
}

} // namespace ebpf::cli

namespace ebpf::cli {
namespace {

// The selftest harness's tail-call targets: prog1 = {0: 42, 1: tail-call itself then 41,
// 2: 24}, prog2 the same at {7, 1, 2}.
Status fill_prog_array(Map& map, size_t map_index, const Vm& vm,
                       std::vector<std::unique_ptr<Program>>& keep) {
    auto& array = static_cast<ProgArrayMap&>(map);
    const bool prog2 = map.def().max_entries == 8;
    const std::string self = "r2 = map[idx:" + std::to_string(map_index) +
                             "]\nr3 = 1\ncall bpf_tail_call#12\nr0 = 41\nexit";
    const std::pair<uint32_t, std::string> slots[] = {
        {prog2 ? 7u : 0u, "r0 = 42\nexit"}, {1u, self}, {2u, "r0 = 24\nexit"}};
    for (const auto& [slot, text] : slots) {
        auto insns = assemble(text);
        if (!insns) return insns.error();
        std::vector<Map*> maps(map_index + 1, nullptr);
        maps[map_index] = &map;
        auto prog = Program::load(*insns, vm.helpers(), maps);
        if (!prog) return prog.error();
        keep.push_back(std::make_unique<Program>(std::move(*prog)));
        array.set(slot, keep.back().get());
    }
    return std::nullopt;
}

} // namespace

Result<uint64_t> run_case(const KernelCase& c, CaseMaps& maps, Mode mode,
                          const VerifierResult& verdict, CaseEngine engine) {
    static const Vm vm;
    const ProgTypeInfo* info = c.prog_type ? prog_type_info(*c.prog_type) : nullptr;
    if (!info) return Error{"program type " + c.prog_type_name + " is not described", {}};
    std::vector<std::unique_ptr<Program>> tail_targets;
    for (const auto& [kind, index] : maps.index_of_kind)
        if (kind == "prog1" || kind == "prog2")
            if (auto err = fill_prog_array(*maps.maps[index], index, vm, tail_targets)) return *err;
    const std::vector<Insn> insns = sanitize_dead_code(c.insns, verdict);
    auto rewritten = convert_ctx_accesses(insns, *info, [&](size_t i) {
        return i < verdict.aux.size() && verdict.aux[i].ptr_type == verifier::RegType::ptr_to_ctx;
    });
    if (!rewritten) return rewritten.error();
    std::vector<Map*> raw;
    for (auto& m : maps.maps)
        raw.push_back(m.get());
    auto prog = Program::load(*rewritten, vm.helpers(), raw);
    if (!prog) return prog.error();
    TestRunInput input;
    input.data = c.data;
    auto ctx = make_test_run_context(*c.prog_type, input);
    if (!ctx) return ctx.error();
    RunState state;
    state.maps = raw;
    if (auto err = (*ctx)->attach(state)) return *err;
    RunArgs args;
    args.r1 = reinterpret_cast<uint64_t>((*ctx)->ctx());
    args.mode = mode;
    if (engine == CaseEngine::jit) {
        auto jitted = jit_compile(*prog);
        if (!jitted) return jitted.error();
        auto r = jitted->run(args, state);
        if (!r) return r.error();
        return r->r0;
    }
    auto r = vm.run(*prog, args, state);
    if (!r) return r.error();
    return r->r0;
}

} // namespace ebpf::cli
