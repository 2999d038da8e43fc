#include "cli/run/report.hpp"

#include "cli/io.hpp"
#include "vm/progtypes/prog_type_info.hpp"

#include <cstdio>
#include <sstream>

namespace ebpf::cli::run {
namespace {

using json = nlohmann::ordered_json;

std::string format(const char* fmt, auto... args) {
    char buf[160];
    std::snprintf(buf, sizeof buf, fmt, args...);
    return buf;
}

std::string engine_name(EngineKind kind) {
    return kind == EngineKind::jit ? "jit" : "interp";
}

std::string hex_row(const std::vector<uint8_t>& bytes, size_t at) {
    std::string row;
    for (size_t i = at; i < std::min(at + 16, bytes.size()); ++i)
        row += format(i == at ? "%02x" : " %02x", bytes[i]);
    return row;
}

// The 16-byte rows that differ, old ("-") above new ("+").
std::string packet_diff(const std::vector<uint8_t>& in, const std::vector<uint8_t>& out) {
    std::string text;
    for (size_t at = 0; at < std::max(in.size(), out.size()); at += 16) {
        const std::string a = hex_row(in, at), b = hex_row(out, at);
        if (a == b) continue;
        if (!a.empty()) text += format("  %04zx - ", at) + a + "\n";
        if (!b.empty()) text += format("  %04zx + ", at) + b + "\n";
    }
    return text;
}

std::string r0_text(const Report& r) {
    std::string text = std::to_string(r.outcome.r0);
    if (r.outcome.r0 > 9) text += format(" (%#llx)", static_cast<unsigned long long>(r.outcome.r0));
    const std::string meaning = r0_meaning(r.target->type_info(), r.outcome.r0);
    return meaning.empty() ? text : text + "  " + meaning;
}

// "devmap tx_ports key 1", "ifindex 3 ingress", with the flags the kernel keeps.
std::string redirect_text(const RedirectInfo& to) {
    constexpr uint64_t BPF_F_INGRESS = 1, BPF_F_BROADCAST = 1 << 3, BPF_F_EXCLUDE_INGRESS = 1 << 4;
    std::string text;
    if (to.map) {
        text = std::string(map_type_name(to.map->type())) + " " + to.map->def().name + " key " +
               std::to_string(to.ifindex);
        if (to.flags & BPF_F_BROADCAST) text += " broadcast";
        if (to.flags & BPF_F_EXCLUDE_INGRESS) text += " excluding ingress";
    } else {
        text = "ifindex " + std::to_string(to.ifindex);
        if (to.flags & BPF_F_INGRESS) text += " ingress";
    }
    return text;
}

json redirect_json(const RedirectInfo& to) {
    if (!to.map) return {{"ifindex", to.ifindex}, {"flags", to.flags}};
    return {{"map", to.map->def().name},
            {"map_type", map_type_name(to.map->type())},
            {"key", to.ifindex},
            {"flags", to.flags}};
}

std::string time_text(const Report& r) {
    if (r.pcap) return format("%.0f ns per packet (median)", r.pcap->median_ns);
    if (!r.timing) return std::to_string(r.outcome.ns) + " ns (one cold run; --repeat N measures)";
    const Timing& t = *r.timing;
    std::string text = format("%.1f ns per run (median of %llu; p10 %.1f, p90 %.1f)", t.median_ns,
                              static_cast<unsigned long long>(t.runs), t.p10_ns, t.p90_ns);
    if (t.insns && *t.insns)
        text += format(", %.2f ns per insn (%llu insns)", t.median_ns / double(*t.insns),
                       static_cast<unsigned long long>(*t.insns));
    return text;
}

// One map's contents as indented lines.
std::string map_lines(const std::string& name, const json& m) {
    std::string out = "  " + name + " (" + m["type"].get<std::string>() + ")\n";
    const auto list = [&](const char* key, const char* label) {
        if (!m.contains(key)) return;
        if (m[key].empty()) out += "    (empty)\n";
        for (const auto& item : m[key])
            out += std::string("    ") + label + " " + item.get<std::string>() + "\n";
    };
    list("records", "record");
    list("elements", "element");
    if (!m.contains("entries")) return out;
    if (m["entries"].empty()) out += "    (empty)\n";
    for (const auto& e : m["entries"]) {
        out += "    " + e["key"].get<std::string>() + ": ";
        if (e.contains("value")) out += e["value"].get<std::string>();
        if (e.contains("prog")) out += "prog " + e["prog"].get<std::string>();
        if (e.contains("inner")) out += "inner " + e["inner"].get<std::string>();
        if (e.contains("values")) {
            out += "values";
            for (const auto& v : e["values"])
                out += " " + v.get<std::string>();
        }
        out += "\n";
    }
    return out;
}

json verifier_json(const Report& r) {
    const LoadedProgram* p = r.target->prog;
    if (!p || !r.options->verify) return nullptr;
    json v{{"verdict", p->verdict.accepted ? "accept" : "reject"},
           {"message", p->verdict.error},
           {"insns_processed", p->verdict.insns_processed}};
    if (r.options->log_level) v["log"] = p->verdict.log;
    return v;
}

} // namespace

std::string r0_meaning(const ProgTypeInfo* info, uint64_t r0) {
    if (!info) return "";
    if (const char* name = return_code_name(*info, r0)) return name;
    switch (info->type) {
    case ProgType::socket_filter:
        if (static_cast<uint32_t>(r0) == 0) return "drop";
        return "keep " + std::to_string(static_cast<uint32_t>(r0)) + " bytes";
    case ProgType::cgroup_skb: return r0 & 1 ? "allow" : "drop";
    default: return "";
    }
}

std::string human_report(const Report& r) {
    const Target& t = *r.target;
    std::ostringstream out;
    if (t.prog) {
        out << "program   " << t.prog->name;
        if (!t.prog->section.empty()) out << "  section " << t.prog->section;
        out << "  type " << t.type_info()->name << "\n";
        if (!r.options->verify) {
            out << "verifier  skipped (--no-verify)\n";
        } else if (t.prog->verdict.accepted) {
            out << "verifier  accept, " << t.prog->verdict.insns_processed << " insns processed\n";
        } else {
            out << "verifier  reject: " << t.prog->verdict.error << "\n";
        }
    } else {
        out << "program   " << t.object_name << "  raw bytecode, no type (unverified)\n";
    }
    if (!r.ran) return out.str();

    out << "engine    " << engine_name(r.engine)
        << (r.mode == Mode::checked ? " (checked mode)" : "") << "\n";
    if (r.pcap) {
        out << "packets   " << r.pcap->packets << ", " << r.pcap->passed << " passed\n";
        for (const auto& [verdict, count] : r.pcap->verdicts)
            out << format("  %-28s %llu\n", verdict.c_str(),
                          static_cast<unsigned long long>(count));
    } else {
        out << "r0        " << r0_text(r) << "\n";
        if (r.outcome.redirect) out << "redirect  " << redirect_text(*r.outcome.redirect) << "\n";
        for (const SkbClone& c : r.outcome.clones)
            out << "clone     to ifindex " << c.ifindex << (c.flags & 1 ? " ingress" : " egress")
                << ", " << c.packet.size() << " bytes\n";
        if (r.outcome.insns) out << "insns     " << *r.outcome.insns << " executed\n";
    }
    if (r.packet_in && r.packet_out) {
        if (*r.packet_in == *r.packet_out) {
            out << "packet    unchanged, " << r.packet_out->size() << " bytes\n";
        } else {
            out << "packet    changed, " << r.packet_in->size() << " -> " << r.packet_out->size()
                << " bytes\n"
                << packet_diff(*r.packet_in, *r.packet_out);
        }
    }
    if (r.ctx_in && r.ctx_out) {
        if (*r.ctx_in == *r.ctx_out)
            out << "ctx       unchanged, " << r.ctx_out->size() << " bytes\n";
        else
            out << "ctx       changed\n" << packet_diff(*r.ctx_in, *r.ctx_out);
    }
    out << "time      " << time_text(r) << "\n";
    if (!r.trace_printk.empty()) {
        out << "trace_printk:\n";
        for (const auto& line : r.trace_printk)
            out << "  " << line << "\n";
        if (r.trace_dropped) out << "  (" << r.trace_dropped << " more lines)\n";
    }
    if (!r.perf_events.empty()) {
        out << "perf_event_output:\n";
        for (const auto& rec : r.perf_events)
            out << "  " << to_hex(rec.data(), rec.size()) << "\n";
    }
    if (!r.maps.empty()) {
        out << (r.options->dump_maps ? "maps:\n" : "maps changed:\n");
        for (const auto& [name, m] : r.maps.items())
            out << map_lines(name, m);
    }
    return out.str();
}

json json_report(const Report& r) {
    const Target& t = *r.target;
    json j;
    j["program"] = t.prog ? t.prog->name : t.object_name;
    j["section"] = t.prog && !t.prog->section.empty() ? json(t.prog->section) : json();
    j["type"] = t.prog ? json(t.type_info()->name) : json();
    j["engine"] = engine_name(r.engine);
    j["verifier"] = verifier_json(r);
    const bool single = r.ran && !r.pcap;
    j["r0"] = single ? json(r.outcome.r0) : json();
    j["packet_out"] =
        single && r.packet_out ? json(to_hex(r.packet_out->data(), r.packet_out->size())) : json();
    if (r.ctx_out)
        j["ctx_out"] = single ? json(to_hex(r.ctx_out->data(), r.ctx_out->size())) : json();
    j["redirect"] = single && r.outcome.redirect ? redirect_json(*r.outcome.redirect) : json();
    if (single && !r.outcome.clones.empty()) {
        json clones = json::array();
        for (const SkbClone& c : r.outcome.clones)
            clones.push_back({{"ifindex", c.ifindex},
                              {"flags", c.flags},
                              {"packet", to_hex(c.packet.data(), c.packet.size())}});
        j["clones"] = clones;
    }
    j["maps"] = r.maps;
    json perf = json::array();
    for (const auto& rec : r.perf_events)
        perf.push_back(to_hex(rec.data(), rec.size()));
    j["output"] = {{"trace_printk", r.trace_printk}, {"perf_event", perf}};
    if (!r.ran)
        j["time_ns_per_run"] = nullptr;
    else if (r.pcap)
        j["time_ns_per_run"] = r.pcap->median_ns;
    else if (r.timing)
        j["time_ns_per_run"] = r.timing->median_ns;
    else
        j["time_ns_per_run"] = r.outcome.ns;
    if (r.timing) {
        const Timing& t = *r.timing;
        j["repeat"] = {
            {"runs", t.runs},
            {"median_ns", t.median_ns},
            {"p10_ns", t.p10_ns},
            {"p90_ns", t.p90_ns},
            {"insns", t.insns ? json(*t.insns) : json()},
            {"ns_per_insn", t.insns && *t.insns ? json(t.median_ns / double(*t.insns)) : json()}};
    }
    if (r.pcap) {
        j["pcap"] = {{"packets", r.pcap->packets},
                     {"passed", r.pcap->passed},
                     {"verdicts", r.pcap->verdicts}};
    }
    return j;
}

} // namespace ebpf::cli::run
