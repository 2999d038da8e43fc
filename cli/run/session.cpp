#include "cli/run/session.hpp"

#include "cli/run/cfg_dot.hpp"
#include "cli/run/engine.hpp"
#include "cli/run/input.hpp"
#include "cli/run/listing.hpp"
#include "cli/run/maps_json.hpp"
#include "cli/run/pcap.hpp"
#include "cli/run/report.hpp"
#include "jit/listing.hpp"
#include "maps/perf_event_array.hpp"

#include <algorithm>
#include <fstream>
#include <iostream>

namespace ebpf::cli::run {
namespace {

int fail(const Failure& f) {
    if (!f.message.empty()) std::cerr << "ebpf-run: " << f.message << "\n";
    return static_cast<int>(f.code);
}

// The records bpf_perf_event_output sent, taken out of every perf event array.
void collect_perf_events(const Target& t, Report& r) {
    if (!t.object) return;
    for (const auto& m : t.object->maps()) {
        if (!m || m->type() != MapType::perf_event_array) continue;
        auto& perf = static_cast<PerfEventArrayMap&>(*m);
        for (uint32_t cpu = 0; cpu < m->ncpus(); ++cpu)
            for (auto& rec : perf.consume(cpu))
                r.perf_events.push_back(std::move(rec));
    }
}

Stop write_cfg(const Options& o, const Target& t) {
    std::ofstream out(o.cfg);
    const std::vector<FuncInfo> no_funcs;
    const std::vector<LineInfo> no_lines;
    out << cfg_dot(t.insns(), t.prog ? t.prog->func_info : no_funcs,
                   t.prog ? t.prog->line_info : no_lines);
    if (!out) return Failure{Exit::usage, "--cfg " + o.cfg + ": cannot write the file"};
    return std::nullopt;
}

// Where a single run's context comes from, for messages.
std::string input_name(const Options& o) {
    if (!o.ctx.empty()) return "--ctx " + o.ctx;
    if (!o.regs.empty()) return "--regs";
    return "the zeroed context";
}

// One run, or --repeat runs, on the input of the options.
Stop run_single(const Options& o, const Target& t, const Engine& e, RunEnv& env, Report& r) {
    auto input = read_input(o, t);
    if (auto* f = std::get_if<Failure>(&input)) return *f;
    auto& bytes = std::get<std::vector<uint8_t>>(input);
    auto read_in = read_ctx_in(o, t);
    if (auto* f = std::get_if<Failure>(&read_in)) return *f;
    const auto& ctx_in = std::get<std::optional<std::vector<uint8_t>>>(read_in);
    const auto context = [&]() -> OrFailure<std::unique_ptr<RunContext>> {
        if (!t.prog) return std::unique_ptr<RunContext>(new MemoryContext(bytes));
        auto ctx = make_context(t, bytes, ctx_in);
        if (auto* f = std::get_if<Failure>(&ctx)) f->message = input_name(o) + ": " + f->message;
        return ctx;
    };
    auto made = context();
    if (auto* f = std::get_if<Failure>(&made)) return *f;
    auto& ctx = *std::get<std::unique_ptr<RunContext>>(made);

    std::optional<uint64_t> counted;
    if (o.repeat && e.mode == Mode::fast) {
        // Fast runs count nothing: one checked run first gives ns per instruction its divisor.
        auto fresh = context();
        if (auto* f = std::get_if<Failure>(&fresh)) return *f;
        auto count = run_once(t, e, o, *std::get<std::unique_ptr<RunContext>>(fresh), env, true);
        if (auto* f = std::get_if<Failure>(&count)) return *f;
        counted = std::get<RunOutcome>(count).insns;
    }
    if (o.repeat) {
        auto timing = run_repeated(t, e, o, ctx, env, r.outcome);
        if (auto* f = std::get_if<Failure>(&timing)) return *f;
        r.timing = std::get<Timing>(timing);
        if (counted) r.timing->insns = counted;
    } else {
        auto once = run_once(t, e, o, ctx, env);
        if (auto* f = std::get_if<Failure>(&once)) return *f;
        r.outcome = std::get<RunOutcome>(once);
    }
    if (t.prog && takes_packet(t.prog->type)) {
        r.packet_in = unchanged_packet(t.prog->type, std::move(bytes));
        r.packet_out = ctx.data_out();
        if (ctx_in) {
            r.ctx_in = *ctx_in;
            r.ctx_out = ctx.ctx_out();
        }
    }
    collect_perf_events(t, r);
    return std::nullopt;
}

// --pcap: one run per packet, a histogram of verdicts, the passed packets to --pcap-out.
Stop run_pcap(const Options& o, const Target& t, const Engine& e, RunEnv& env, Report& r) {
    auto read_in = read_ctx_in(o, t);
    if (auto* f = std::get_if<Failure>(&read_in)) return *f;
    const auto& ctx_in = std::get<std::optional<std::vector<uint8_t>>>(read_in);
    if (auto input = read_input(o, t); std::holds_alternative<Failure>(input))
        return std::get<Failure>(input);
    auto reader = PcapReader::open(o.pcap);
    if (auto* f = std::get_if<Failure>(&reader)) return *f;
    std::optional<PcapWriter> writer;
    if (!o.pcap_out.empty()) {
        auto w = PcapWriter::open(o.pcap_out);
        if (auto* f = std::get_if<Failure>(&w)) return *f;
        writer.emplace(std::move(std::get<PcapWriter>(w)));
    }
    PcapSummary summary;
    std::vector<uint64_t> ns;
    for (;;) {
        auto next = std::get<PcapReader>(reader).next();
        if (auto* f = std::get_if<Failure>(&next)) return *f;
        auto& packet = std::get<std::optional<Packet>>(next);
        if (!packet) break;
        const std::string where = "packet " + std::to_string(++summary.packets);
        auto ctx = make_context(t, packet->bytes, ctx_in);
        if (auto* f = std::get_if<Failure>(&ctx)) {
            // The kernel's test run refuses it ("EINVAL: ..."): counted, not run.
            summary.verdicts["not run: " + f->message.substr(0, f->message.find(':'))]++;
            continue;
        }
        auto& context = *std::get<std::unique_ptr<RunContext>>(ctx);
        auto run = run_once(t, e, o, context, env);
        if (auto* f = std::get_if<Failure>(&run)) {
            f->message = o.pcap + ": " + where + ": " + f->message;
            return *f;
        }
        const RunOutcome& outcome = std::get<RunOutcome>(run);
        ns.push_back(outcome.ns);
        const std::string meaning = r0_meaning(t.type_info(), outcome.r0);
        summary.verdicts[meaning.empty() ? "r0 = " + std::to_string(outcome.r0) : meaning]++;
        // Programs that do not see the Ethernet header cannot change the packet: theirs is kept.
        if (sees_l2(t.prog->type)) packet->bytes = context.data_out();
        if (auto keep = passed_bytes(t.prog->type, outcome.r0, packet->bytes.size())) {
            ++summary.passed;
            packet->bytes.resize(*keep);
            if (writer) writer->write(*packet);
        }
        env.trim_trace();
        collect_perf_events(t, r);
    }
    if (!ns.empty()) {
        std::nth_element(ns.begin(), ns.begin() + ns.size() / 2, ns.end());
        summary.median_ns = static_cast<double>(ns[ns.size() / 2]);
    }
    r.pcap = std::move(summary);
    return std::nullopt;
}

int print(const Report& r, Exit code) {
    if (r.options->json)
        std::cout << json_report(r).dump(2) << "\n";
    else
        std::cout << human_report(r);
    return static_cast<int>(code);
}

int run_session(const Options& o) {
    if (o.json && (o.disasm || o.dump_jit))
        return fail({Exit::usage, "--disasm and --dump-jit print text: drop --json"});
    std::optional<MapInit> init;
    if (!o.map_init.empty()) {
        auto read = read_map_init(o.map_init);
        if (auto* f = std::get_if<Failure>(&read)) return fail(*f);
        init = std::move(std::get<MapInit>(read));
    }
    Vm vm;
    auto loaded = load_target(o, vm, init ? &*init : nullptr);
    if (auto* f = std::get_if<Failure>(&loaded)) return fail(*f);
    const Target& t = std::get<Target>(loaded);
    if (o.list) {
        if (o.json)
            std::cout << list_json(t).dump(2) << "\n";
        else
            std::cout << list_text(t);
        return static_cast<int>(Exit::ran);
    }

    Report r;
    r.target = &t;
    r.options = &o;
    if (o.log_level && !o.json) std::cout << t.prog->verdict.log;
    if (o.disasm)
        std::cout << disasm_listing(t.insns(), t.prog ? t.prog->func_info : std::vector<FuncInfo>{},
                                    t.prog ? t.prog->line_info : std::vector<LineInfo>{})
                  << "\n";
    if (!o.cfg.empty())
        if (auto stop = write_cfg(o, t)) return fail(*stop);
    if (t.prog && o.verify && !t.prog->verdict.accepted) {
        print(r, Exit::rejected);
        return fail({Exit::rejected,
                     "the verifier rejected " + t.prog->name + ": " + t.prog->verdict.error});
    }
    if (o.verify_only) return print(r, Exit::ran);

    auto engine = prepare_engine(o, t);
    if (auto* f = std::get_if<Failure>(&engine)) return fail(*f);
    const Engine& e = std::get<Engine>(engine);
    if (o.dump_jit) {
        auto listing = jit_listing(*t.prog->program, *e.jit);
        if (!listing) return fail({Exit::usage, "--dump-jit: " + listing.error().to_string()});
        std::cout << *listing << "\n";
    }
    if (init)
        if (auto stop = apply_map_progs(*init, *t.object)) return fail(*stop);

    r.engine = e.kind;
    r.mode = e.mode;
    const nlohmann::ordered_json before =
        t.object ? all_maps_json(*t.object) : nlohmann::ordered_json::object();
    RunEnv env;
    env.task.task_struct = o.task_struct;
    const std::tuple<const std::vector<Options::MemoryFile>*, std::vector<MemoryImage>*,
                     const char*>
        memories[] = {{&o.kmem, &env.kernel_memory, "--kmem"},
                      {&o.umem, &env.user_memory, "--umem"}};
    env.memory_bytes.reserve(o.kmem.size() + o.umem.size()); // the images point into it
    for (auto [files, images, name] : memories) {
        for (const auto& f : *files) {
            auto bytes = read_bytes(name, f.file);
            if (auto* failure = std::get_if<Failure>(&bytes)) return fail(*failure);
            env.memory_bytes.push_back(std::move(std::get<std::vector<uint8_t>>(bytes)));
            images->push_back({f.addr, env.memory_bytes.back()});
        }
    }
    if (auto stop = o.pcap.empty() ? run_single(o, t, e, env, r) : run_pcap(o, t, e, env, r))
        return fail(*stop);
    r.ran = true;
    // A line's own newline ends it on the kernel's trace pipe; here the list does.
    for (auto& line : env.trace_pipe)
        if (!line.empty() && line.back() == '\n') line.pop_back();
    r.trace_printk = std::move(env.trace_pipe);
    r.trace_dropped = env.trace_dropped;
    if (t.object) {
        const nlohmann::ordered_json after = all_maps_json(*t.object);
        r.maps = o.dump_maps ? after : changed_maps(before, after);
    }
    return print(r, Exit::ran);
}

} // namespace

int ebpf_run(int argc, const char* const* argv) {
    auto parsed = parse_options(argc, argv);
    if (auto* f = std::get_if<Failure>(&parsed)) return fail(*f);
    return run_session(std::get<Options>(parsed));
}

} // namespace ebpf::cli::run
