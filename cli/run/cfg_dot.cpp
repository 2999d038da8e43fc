#include "cli/run/cfg_dot.hpp"

#include "cli/run/listing.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace ebpf::cli::run {
namespace {

bool is_jmp_class(uint8_t opcode) {
    return bpf_class(opcode) == BPF_JMP || bpf_class(opcode) == BPF_JMP32;
}
bool is_exit(const Insn& insn) {
    return insn.opcode == (BPF_JMP | BPF_EXIT);
}
bool is_call(const Insn& insn) {
    return is_jmp_class(insn.opcode) && bpf_op(insn.opcode) == BPF_CALL;
}
// A jump that changes the flow: goto or a conditional jump (calls return to the next insn).
bool is_branch(const Insn& insn) {
    return is_jmp_class(insn.opcode) && !is_call(insn) && !is_exit(insn);
}
bool is_goto(const Insn& insn) {
    return is_branch(insn) && bpf_op(insn.opcode) == BPF_JA;
}
// The target of a branch; gotol (JMP32 JA) keeps its offset in imm.
// Signed: a bad offset may point before the program.
int64_t branch_target(const Insn& insn, size_t i) {
    const int64_t off = insn.opcode == (BPF_JMP32 | BPF_JA) ? insn.imm : insn.off;
    return static_cast<int64_t>(i) + off + 1;
}
size_t next_insn(Insns insns, size_t i) {
    return i + (insns[i].opcode == BPF_LDDW ? 2 : 1);
}

// Text for a record label: its special characters escaped, lines left-justified.
std::string escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (std::string_view("\\\"{}|<>").find(c) != std::string_view::npos) out += '\\';
        out += c;
    }
    return out + "\\l";
}

struct Edge {
    std::string from, to, style;
};

} // namespace

std::string cfg_dot(Insns insns, const std::vector<FuncInfo>& funcs,
                    const std::vector<LineInfo>& lines) {
    const auto n = static_cast<int64_t>(insns.size());
    const auto in_range = [n](int64_t t) { return t >= 0 && t < n; };

    // Subprograms start at 0 and at every local call's and callback's target.
    std::set<size_t> subprogs{0};
    for (size_t i = 0; i < insns.size(); i = next_insn(insns, i)) {
        const Insn& insn = insns[i];
        const bool local_call = is_call(insn) && insn.src == BPF_PSEUDO_CALL;
        const bool callback = insn.opcode == BPF_LDDW && insn.src == BPF_PSEUDO_FUNC;
        if ((local_call || callback) && in_range(static_cast<int64_t>(i) + insn.imm + 1))
            subprogs.insert(static_cast<size_t>(static_cast<int64_t>(i) + insn.imm + 1));
    }
    // Blocks start at subprograms, branch targets and after branches and exits.
    std::set<size_t> leaders = subprogs;
    for (size_t i = 0; i < insns.size(); i = next_insn(insns, i)) {
        const Insn& insn = insns[i];
        if (is_branch(insn) && in_range(branch_target(insn, i)))
            leaders.insert(static_cast<size_t>(branch_target(insn, i)));
        if ((is_branch(insn) || is_exit(insn)) && next_insn(insns, i) < insns.size())
            leaders.insert(next_insn(insns, i));
    }

    std::map<uint32_t, std::string> func_name;
    for (const auto& f : funcs)
        func_name[f.insn] = f.name;
    std::map<uint32_t, const LineInfo*> line_at;
    for (const auto& l : lines)
        line_at[l.insn] = &l;

    const auto sub_of = [&](size_t i) { return *std::prev(subprogs.upper_bound(i)); };
    const auto node = [&](auto start_insn) {
        const auto start = static_cast<size_t>(start_insn);
        return "fn_" + std::to_string(sub_of(start)) + "_bb_" + std::to_string(start);
    };

    std::string out = "digraph \"CFG\" {\n\tnode [fontname=\"monospace\"];\n";
    std::vector<Edge> edges;
    for (auto sub = subprogs.begin(); sub != subprogs.end(); ++sub) {
        const size_t begin = *sub;
        const size_t end = std::next(sub) == subprogs.end() ? insns.size() : *std::next(sub);
        const std::string fn = "fn_" + std::to_string(begin);
        std::string label = "subprog " + std::to_string(begin);
        if (auto f = func_name.find(static_cast<uint32_t>(begin)); f != func_name.end())
            label += ": " + f->second;
        out += "\tsubgraph \"cluster_" + std::to_string(begin) + "\" {\n\t\tstyle=\"dashed\";\n" +
               "\t\tlabel=\"" + label + "\";\n";
        out += "\t\t" + fn + "_entry [shape=Mdiamond label=\"ENTRY\"];\n";
        out += "\t\t" + fn + "_exit [shape=Msquare label=\"EXIT\"];\n";
        edges.push_back({fn + "_entry", node(begin), ""});

        for (auto b = leaders.lower_bound(begin); b != leaders.end() && *b < end; ++b) {
            const size_t bb_end =
                std::min(std::next(b) == leaders.end() ? end : *std::next(b), end);
            std::string text;
            size_t last = *b;
            for (size_t i = *b; i < bb_end; i = next_insn(insns, i)) {
                if (auto l = line_at.find(static_cast<uint32_t>(i));
                    l != line_at.end() && l->second->line_number != 0)
                    text += escape(source_comment(*l->second));
                text += escape(insn_line(insns, i));
                last = i;
            }
            out += "\t\t" + node(*b) + " [shape=record label=\"{" + text + "}\"];\n";

            // Where the block goes: its last instruction decides.
            const Insn& insn = insns[last];
            const size_t fall = next_insn(insns, last);
            if (is_exit(insn)) {
                edges.push_back({node(*b), fn + "_exit", ""});
            } else if (is_goto(insn)) {
                if (in_range(branch_target(insn, last)))
                    edges.push_back({node(*b), node(branch_target(insn, last)), ""});
            } else if (is_branch(insn)) {
                if (in_range(branch_target(insn, last)))
                    edges.push_back({node(*b), node(branch_target(insn, last)),
                                     "color=\"green\" label=\"true\""});
                if (fall < end)
                    edges.push_back({node(*b), node(fall), "color=\"red\" label=\"false\""});
            } else if (fall < end) {
                edges.push_back({node(*b), node(fall), ""});
            }
        }
        out += "\t}\n";
    }
    for (const auto& e : edges)
        out +=
            "\t" + e.from + " -> " + e.to + (e.style.empty() ? "" : " [" + e.style + "]") + ";\n";
    return out + "}\n";
}

} // namespace ebpf::cli::run
