#include "cli/run/listing.hpp"

#include "helpers/registry.hpp"
#include "vm/isa/disasm.hpp"

#include <cstdio>
#include <map>

namespace ebpf::cli::run {
namespace {

size_t next_insn(Insns insns, size_t i) {
    return i + (insns[i].opcode == BPF_LDDW ? 2 : 1);
}

std::string format(const char* fmt, auto... args) {
    char buf[256];
    std::snprintf(buf, sizeof buf, fmt, args...);
    return buf;
}

} // namespace

std::string source_comment(const LineInfo& line) {
    const size_t text = line.line.find_first_not_of(" \t");
    return "; " + (text == std::string::npos ? "" : line.line.substr(text)) + " @ " +
           line.file.substr(line.file.find_last_of('/') + 1) + ":" +
           std::to_string(line.line_number);
}

std::string insn_line(Insns insns, size_t index) {
    DisasmOptions opts;
    opts.helper_name = kernel_helper_name;
    return format("%zu: (%02x) ", index, insns[index].opcode) + disasm_insn(insns, index, opts);
}

std::string disasm_listing(Insns insns, const std::vector<FuncInfo>& funcs,
                           const std::vector<LineInfo>& lines) {
    std::map<uint32_t, const FuncInfo*> func_at;
    for (const auto& f : funcs)
        func_at[f.insn] = &f;
    std::map<uint32_t, const LineInfo*> line_at;
    for (const auto& l : lines)
        line_at[l.insn] = &l;

    std::string out;
    const LineInfo* shown = nullptr;
    for (size_t i = 0; i < insns.size(); i = next_insn(insns, i)) {
        if (auto f = func_at.find(static_cast<uint32_t>(i)); f != func_at.end())
            out += (i ? "\n" : "") + f->second->name + ":\n";
        if (auto l = line_at.find(static_cast<uint32_t>(i)); l != line_at.end()) {
            const LineInfo& li = *l->second;
            // Line 0 marks code the compiler made up; a line goes on until another one starts.
            const bool same =
                shown && shown->line_number == li.line_number && shown->file == li.file;
            if (li.line_number != 0 && !same) out += source_comment(li) + "\n";
            shown = &li;
        }
        out += insn_line(insns, i) + "\n";
    }
    return out;
}

} // namespace ebpf::cli::run
