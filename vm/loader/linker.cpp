#include "vm/loader/linker.hpp"

#include "vm/loader/diag.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>
#include <unordered_map>

namespace ebpf::loader {
namespace {

constexpr size_t INSN_SZ = sizeof(Insn);

std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

bool is_call(const Insn& insn) {
    return insn.opcode == (BPF_JMP | BPF_CALL);
}

// libbpf's insn_is_subprog_call.
bool is_subprog_call(const Insn& insn) {
    return is_call(insn) && insn.src == BPF_PSEUDO_CALL && insn.dst == 0 && insn.off == 0;
}

bool is_pseudo_func(const Insn& insn) {
    return insn.opcode == BPF_LDDW && insn.src == BPF_PSEUDO_FUNC;
}

// The section's name stands in for the empty name of an STT_SECTION symbol.
std::string_view symbol_name(const elf::File& elf, const elf::Symbol& sym) {
    if (sym.type() == elf::STT_SECTION && sym.name.empty())
        if (const elf::Section* sec = elf.section(sym.shndx)) return sec->name;
    return sym.name;
}

// libbpf's sym_is_subprog, also taking local functions.
bool is_subprog_symbol(const elf::Symbol& sym, const Layout& layout) {
    return layout.text_shndx && sym.shndx == layout.text_shndx &&
           (sym.type() == elf::STT_SECTION || sym.type() == elf::STT_FUNC);
}

// bpf_object__relocate_data for an extern: the kconfig map's value, or what an unresolved ksym
// becomes (every ksym here: this VM has no kernel symbols, and only weak ones get this far).
Status relocate_extern(Function& f, size_t local, const Externs& externs, size_t ext_idx) {
    const Extern& ext = externs.list[ext_idx];
    Insn& insn = f.insns[local];
    if (is_call(insn)) {
        insn = make_insn(BPF_JMP | BPF_CALL, 0, 0, 0,
                         POISON_CALL_KFUNC_BASE + static_cast<int32_t>(ext_idx));
        f.poisoned[local] = "call to kfunc '" + std::string(ext.name) +
                            "', which this VM does not have (bpf_ksym_exists() is false)";
        return std::nullopt;
    }
    if (local + 1 >= f.insns.size())
        return error_at(local, "prog " + quote(f.name) + ": extern " + quote(ext.name) +
                                   ": lddw is missing its second half");
    if (ext.type == ExternType::kconfig) {
        insn.src = BPF_PSEUDO_MAP_IDX_VALUE;
        insn.imm = static_cast<int32_t>(*externs.kconfig_map);
        f.insns[local + 1].imm = static_cast<int32_t>(ext.data_off);
    } else {
        insn.imm = 0;
        f.insns[local + 1].imm = 0;
    }
    return std::nullopt;
}

Status relocate_one(Function& f, size_t local, const elf::Symbol& sym, std::string_view sym_name,
                    const elf::File& elf, const Layout& layout, const ObjectMaps& maps,
                    const Externs& externs) {
    Insn& insn = f.insns[local];
    const std::string prog = "prog " + quote(f.name) + " in sec " + quote(f.sec_name) + ": ";
    const std::string where = prog + "relocation against " + quote(sym_name) + ": ";
    auto err = [&](std::string message) { return error_at(local, where + message); };
    if (!is_call(insn) && insn.opcode != BPF_LDDW)
        return err("not a call or lddw (code " + hex(insn.opcode) + ")");
    if (sym.shndx == elf::SHN_UNDEF) {
        const auto ext = externs.find_by_sym(sym.index);
        if (!ext)
            return error_at(local, prog + "extern relo failed to find extern for " +
                                       quote(sym_name) + " (" + std::to_string(sym.index) + ")");
        return relocate_extern(f, local, externs, *ext);
    }
    if (sym.shndx >= elf::SHN_LORESERVE)
        return err("symbol is in special section " + hex(sym.shndx) +
                   "; forgot to initialize global var?");
    const elf::Section* sym_sec = elf.section(sym.shndx);
    if (!sym_sec) return err("symbol points to invalid section #" + std::to_string(sym.shndx));
    if (sym.value > sym_sec->size)
        return err("symbol offset " + std::to_string(sym.value) + " is past the end of section " +
                   quote(sym_sec->name));

    if (is_call(insn)) {
        if (insn.src != BPF_PSEUDO_CALL) return err("incorrect bpf_call opcode");
        if (sym.shndx != layout.text_shndx)
            return err("call into section " + quote(sym_sec->name) + ", not .text");
        const int64_t target = static_cast<int64_t>(sym.value / INSN_SZ) + insn.imm + 1;
        if (sym.value % INSN_SZ || target < 0)
            return err("bad call target (offset " + std::to_string(sym.value) + ", imm " +
                       std::to_string(insn.imm) + ")");
        f.targets[local] = static_cast<size_t>(target);
        return std::nullopt;
    }

    if (local + 1 >= f.insns.size()) return err("lddw is missing its second half");
    if (is_subprog_symbol(sym, layout)) {
        // A callback's address (bpf_loop, bpf_for_each_map_elem): global functions have
        // st_value = offset and imm = 0; static ones the section symbol and imm = offset.
        const int64_t off = static_cast<int64_t>(sym.value) + insn.imm;
        if (sym.value % INSN_SZ || insn.imm % static_cast<int32_t>(INSN_SZ) || off < 0)
            return err("bad subprog address (offset " + std::to_string(sym.value) + "+" +
                       std::to_string(insn.imm) + ")");
        insn.src = BPF_PSEUDO_FUNC;
        f.targets[local] = static_cast<size_t>(off) / INSN_SZ;
        return std::nullopt;
    }
    if (sym.shndx == layout.maps_shndx || sym.shndx == layout.legacy_maps_shndx) {
        const auto idx = maps.find_def(sym.shndx, sym.value);
        if (!idx)
            return err("no map defined in section " + quote(sym_sec->name) + " at offset " +
                       std::to_string(sym.value));
        insn.src = BPF_PSEUDO_MAP_IDX;
        insn.imm = static_cast<int32_t>(*idx);
        return std::nullopt;
    }
    if (layout.is_data(sym.shndx)) {
        const auto idx = maps.find_data(sym.shndx);
        if (!idx) return err("no global data map for section " + quote(sym_sec->name));
        // libbpf: the second slot's imm = the existing imm (clang's addend) + st_value.
        const int64_t off =
            static_cast<int64_t>(insn.imm) + static_cast<int64_t>(std::min<uint64_t>(
                                                 sym.value, std::numeric_limits<uint32_t>::max()));
        if (off < 0 || static_cast<uint64_t>(off) >= maps.specs[*idx].def.value_size)
            return err("offset " + std::to_string(off) + " is outside " + quote(sym_sec->name) +
                       " (" + std::to_string(maps.specs[*idx].def.value_size) + " bytes)");
        insn.src = BPF_PSEUDO_MAP_IDX_VALUE;
        insn.imm = static_cast<int32_t>(*idx);
        f.insns[local + 1].imm = static_cast<int32_t>(off);
        return std::nullopt;
    }
    return err("section " + quote(sym_sec->name) + " holds neither maps nor global data");
}

struct Placed {
    const Function* func;
    size_t off; // of its first instruction in the linked program
};

// Records of one BTF.ext section, ordered by instruction.
template <typename Rec> struct SortedRecs {
    std::vector<std::pair<size_t, const Rec*>> recs; // (section insn index, record)
};

template <typename Rec>
Result<std::unordered_map<std::string_view, SortedRecs<Rec>>>
index_ext(const std::vector<btf::ExtSec<Rec>>& secs, const btf::Btf& btf, const char* what) {
    std::unordered_map<std::string_view, SortedRecs<Rec>> index;
    for (const auto& sec : secs) {
        const std::string_view name = *btf.str(sec.sec_name_off);
        // libbpf uses the first info section of a name.
        if (index.count(name)) continue;
        auto& sorted = index[name];
        for (const auto& rec : sec.recs) {
            if (rec.insn_off % INSN_SZ)
                return fail(std::string("BTF.ext: ") + what + " of sec " + quote(name) +
                            ": insn offset " + std::to_string(rec.insn_off) +
                            " is not a multiple of 8");
            sorted.recs.push_back({rec.insn_off / INSN_SZ, &rec});
        }
        std::stable_sort(sorted.recs.begin(), sorted.recs.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
    }
    return index;
}

// libbpf's adjust_prog_btf_ext_info over all placed functions: records are rebased on the linked
// program; when the entry function has none the program gets none, but a subprogram without
// any while the entry has some is an error.
template <typename Rec, typename Out, typename Convert>
Status rebase_ext(const std::vector<Placed>& placed,
                  const std::unordered_map<std::string_view, SortedRecs<Rec>>& index,
                  const char* what, std::vector<Out>& out, Convert convert) {
    for (const auto& p : placed) {
        const Function& f = *p.func;
        const auto sec = index.find(f.sec_name);
        size_t found = 0;
        if (sec != index.end()) {
            const auto& recs = sec->second.recs;
            auto it = std::lower_bound(recs.begin(), recs.end(), f.sec_insn_off,
                                       [](const auto& r, size_t v) { return r.first < v; });
            for (; it != recs.end() && it->first < f.sec_insn_off + f.insns.size(); ++it, found++) {
                auto rec = convert(*it->second, it->first - f.sec_insn_off + p.off);
                if (!rec) return rec.error();
                out.push_back(std::move(*rec));
            }
        }
        if (found) continue;
        if (&p == &placed.front()) return std::nullopt;
        return fail("prog " + quote(placed.front().func->name) + ": missing .BTF.ext " + what +
                    " for subprogram " + quote(f.name));
    }
    return std::nullopt;
}

// Appends to `prog` (holding `main`'s instructions) every .text subprogram it calls or takes
// the address of, transitively, each once, depth-first in the order libbpf's recursive
// bpf_object__reloc_code appends them, and points each call and callback lddw at its copy.
Result<std::vector<Placed>>
append_subprograms(ProgramSpec& prog, const Function& main,
                   const std::unordered_map<size_t, const Function*>& text_by_insn,
                   const Layout& layout) {
    std::vector<Placed> placed{{&main, 0}};
    std::unordered_map<const Function*, size_t> offset_of{{&main, 0}};
    struct Frame {
        size_t placed_idx;
        size_t next;
    };
    std::vector<Frame> stack{{0, 0}};
    while (!stack.empty()) {
        const size_t top = stack.size() - 1;
        const Placed p = placed[stack[top].placed_idx];
        const Function& f = *p.func;
        bool descended = false;
        while (!descended && stack[top].next < f.insns.size()) {
            const size_t local = stack[top].next++;
            const size_t at = p.off + local;
            const Insn insn = prog.insns[at];
            if (!is_subprog_call(insn) && !is_pseudo_func(insn)) continue;
            auto where = [&] {
                return "prog " + quote(prog.name) + ": " + quote(f.name) + " insn " +
                       std::to_string(local) + ": ";
            };
            size_t target;
            if (const auto t = f.targets.find(local); t != f.targets.end()) {
                target = t->second;
            } else if (is_subprog_call(insn) && f.sec_idx == layout.text_shndx &&
                       static_cast<int64_t>(f.sec_insn_off + local) + insn.imm + 1 >= 0) {
                // A static call within .text needs no relocation: imm is relative.
                target = static_cast<size_t>(static_cast<int64_t>(f.sec_insn_off + local) +
                                             insn.imm + 1);
            } else {
                return error_at(at, where() + "call or callback address has no relocation");
            }
            const auto sub = text_by_insn.find(target);
            if (sub == text_by_insn.end())
                return error_at(at, where() + "target .text insn " + std::to_string(target) +
                                        " is not the start of a function");
            const Function* callee = sub->second;
            auto [it, fresh] = offset_of.emplace(callee, prog.insns.size());
            if (fresh) {
                if (prog.insns.size() + callee->insns.size() > MAX_LINKED_INSNS)
                    return fail("prog " + quote(prog.name) + ": more than " +
                                std::to_string(MAX_LINKED_INSNS) + " instructions after linking");
                prog.insns.insert(prog.insns.end(), callee->insns.begin(), callee->insns.end());
                placed.push_back({callee, it->second});
                descended = true;
            }
            const int64_t rel = static_cast<int64_t>(it->second) - static_cast<int64_t>(at) - 1;
            prog.insns[at].imm = static_cast<int32_t>(rel);
            if (descended) stack.push_back({placed.size() - 1, 0});
        }
        if (!descended) stack.pop_back();
    }
    return placed;
}

} // namespace

std::optional<size_t> find_function(const std::vector<Function>& funcs, uint32_t sec_idx,
                                    size_t insn_idx) {
    auto it = std::upper_bound(funcs.begin(), funcs.end(), std::pair{sec_idx, insn_idx},
                               [](const std::pair<uint32_t, size_t>& key, const Function& f) {
                                   return key < std::pair{f.sec_idx, f.sec_insn_off};
                               });
    if (it == funcs.begin()) return std::nullopt;
    --it;
    if (it->sec_idx != sec_idx || insn_idx >= it->sec_insn_off + it->insns.size())
        return std::nullopt;
    return static_cast<size_t>(it - funcs.begin());
}

Result<std::vector<Function>> collect_functions(const elf::File& elf, const Layout& layout) {
    std::vector<Function> funcs;
    for (const auto& sym : elf.symbols()) {
        if (sym.type() != elf::STT_FUNC || sym.shndx >= layout.types.size() ||
            layout.types[sym.shndx] != SecType::program)
            continue;
        const elf::Section& sec = *elf.section(sym.shndx);
        const std::string where = "sec " + quote(sec.name) + ": program " + quote(sym.name);
        if (sym.size == 0 || sym.size % INSN_SZ || sym.value % INSN_SZ)
            return fail(where + " is corrupted (offset " + std::to_string(sym.value) + ", size " +
                        std::to_string(sym.size) + ")");
        if (sym.value > sec.data.size() || sym.size > sec.data.size() - sym.value)
            return fail(where + " at offset " + std::to_string(sym.value) +
                        " crosses the section boundary (" + std::to_string(sec.data.size()) +
                        " bytes)");
        if (sec.index != layout.text_shndx && sym.bind() == elf::STB_LOCAL)
            return fail(where + " is static and not supported");
        Function f;
        f.name = sym.name;
        f.sec_idx = sec.index;
        f.sec_name = sec.name;
        f.sec_insn_off = sym.value / INSN_SZ;
        f.insns.resize(sym.size / INSN_SZ);
        std::memcpy(f.insns.data(), sec.data.data() + sym.value, sym.size);
        funcs.push_back(std::move(f));
    }
    std::sort(funcs.begin(), funcs.end(), [](const Function& a, const Function& b) {
        return std::pair{a.sec_idx, a.sec_insn_off} < std::pair{b.sec_idx, b.sec_insn_off};
    });
    for (size_t i = 1; i < funcs.size(); i++) {
        const Function& a = funcs[i - 1];
        const Function& b = funcs[i];
        if (a.sec_idx == b.sec_idx && b.sec_insn_off < a.sec_insn_off + a.insns.size())
            return fail("sec " + quote(a.sec_name) + ": programs " + quote(a.name) + " and " +
                        quote(b.name) + " overlap");
    }
    // libbpf v1.1's prog_is_subprog: .text functions are subprograms unless one is all there is.
    for (auto& f : funcs)
        f.subprog = f.sec_idx == layout.text_shndx && funcs.size() > 1;
    return funcs;
}

Status relocate(std::vector<Function>& funcs, const elf::File& elf, const Layout& layout,
                const ObjectMaps& maps, const Externs& externs) {
    std::set<std::pair<size_t, size_t>> relocated; // (function, insn)
    for (const auto& rel_sec : elf.sections()) {
        if (layout.types[rel_sec.index] != SecType::relo || rel_sec.info == layout.maps_shndx)
            continue;
        const elf::Section& sec = *elf.section(rel_sec.info);
        auto rels = elf.relocations(rel_sec);
        if (!rels) return rels.error();
        for (size_t i = 0; i < rels->size(); i++) {
            const elf::Rel& rel = (*rels)[i];
            if (rel.offset % INSN_SZ || rel.offset >= sec.data.size())
                return fail("sec " + quote(rel_sec.name) + ": relocation #" + std::to_string(i) +
                            ": invalid offset " + hex(rel.offset));
            const size_t insn_idx = rel.offset / INSN_SZ;
            // Code outside any function (an overridden weak function, as libbpf says) is skipped.
            const auto fi = find_function(funcs, sec.index, insn_idx);
            if (!fi) continue;
            Function& f = funcs[*fi];
            const size_t local = insn_idx - f.sec_insn_off;
            if (!relocated.insert({*fi, local}).second)
                return error_at(local, "prog " + quote(f.name) + " in sec " + quote(f.sec_name) +
                                           ": more than one relocation");
            const elf::Symbol& sym = elf.symbols()[rel.sym];
            if (auto err =
                    relocate_one(f, local, sym, symbol_name(elf, sym), elf, layout, maps, externs))
                return err;
        }
    }
    return std::nullopt;
}

Result<std::vector<ProgramSpec>> link_programs(const std::vector<Function>& funcs,
                                               const Layout& layout, const btf::Btf* btf,
                                               const btf::BtfExt* btf_ext) {
    using FuncIndex = std::unordered_map<std::string_view, SortedRecs<btf::FuncInfoRec>>;
    using LineIndex = std::unordered_map<std::string_view, SortedRecs<btf::LineInfoRec>>;
    FuncIndex func_index;
    LineIndex line_index;
    if (btf && btf_ext) {
        auto fi = index_ext(btf_ext->func_info, *btf, "func_info");
        if (!fi) return fi.error();
        func_index = std::move(*fi);
        auto li = index_ext(btf_ext->line_info, *btf, "line_info");
        if (!li) return li.error();
        line_index = std::move(*li);
    }
    std::unordered_map<size_t, const Function*> text_by_insn;
    for (const auto& f : funcs)
        if (f.sec_idx == layout.text_shndx) text_by_insn.emplace(f.sec_insn_off, &f);

    std::vector<ProgramSpec> programs;
    size_t total_insns = 0, info_bytes = 0;
    for (const auto& main : funcs) {
        if (main.subprog) continue;
        ProgramSpec prog;
        prog.name = std::string(main.name);
        prog.section = std::string(main.sec_name);
        // SEC("?xdp") is SEC("xdp") that libbpf does not load by default.
        if (!prog.section.empty() && prog.section[0] == '?') prog.section.erase(0, 1);
        prog.type = prog_type_from_section(prog.section).value_or(ProgType::unspec);
        prog.insns = main.insns;

        auto placed = append_subprograms(prog, main, text_by_insn, layout);
        if (!placed) return placed.error();
        total_insns += prog.insns.size();
        if (total_insns > MAX_OBJECT_INSNS)
            return fail("object: more than " + std::to_string(MAX_OBJECT_INSNS) +
                        " instructions after linking all programs");

        auto charge = [&](size_t n) -> Status {
            info_bytes += n;
            if (info_bytes > MAX_INFO_BYTES)
                return fail("BTF.ext: func and line info of the linked programs is over " +
                            std::to_string(MAX_INFO_BYTES) + " bytes");
            return std::nullopt;
        };
        auto to_func = [&](const btf::FuncInfoRec& r, size_t insn) -> Result<FuncInfo> {
            if (r.type_id >= btf->type_count() || btf->type(r.type_id).kind != btf::BTF_KIND_FUNC)
                return fail("BTF.ext: func_info of prog " + quote(prog.name) + " at insn " +
                            std::to_string(insn) + ": type [" + std::to_string(r.type_id) +
                            "] is not a FUNC");
            const std::string_view name = btf->name(btf->type(r.type_id));
            if (auto err = charge(sizeof(FuncInfo) + name.size())) return *err;
            return FuncInfo{static_cast<uint32_t>(insn), r.type_id, std::string(name)};
        };
        auto to_line = [&](const btf::LineInfoRec& r, size_t insn) -> Result<LineInfo> {
            const std::string_view file = *btf->str(r.file_name_off);
            const std::string_view line = *btf->str(r.line_off);
            if (auto err = charge(sizeof(LineInfo) + file.size() + line.size())) return *err;
            return LineInfo{static_cast<uint32_t>(insn), std::string(file), std::string(line),
                            r.line_number(), r.column()};
        };
        if (auto err = rebase_ext(*placed, func_index, "func info", prog.func_info, to_func))
            return *err;
        if (auto err = rebase_ext(*placed, line_index, "line info", prog.line_info, to_line))
            return *err;
        for (const auto& p : *placed)
            for (const auto& [insn, reason] : p.func->poisoned)
                prog.poisoned.push_back({static_cast<uint32_t>(p.off + insn), reason});
        programs.push_back(std::move(prog));
    }
    return programs;
}

} // namespace ebpf::loader
