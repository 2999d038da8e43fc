#include "vm/loader/core_relo.hpp"

#include "vm/loader/diag.hpp"

#include "vm/loader/core_spec.hpp"

#include <limits>
#include <unordered_map>

namespace ebpf::loader {
namespace {

using core::ReloKind;
using core::ReloResult;
using core::Spec;

// The target types a local type may relocate to (bpf_core_add_cands): every type of a
// compatible kind with the same essential name.
std::vector<uint32_t> find_candidates(const btf::Btf& local, uint32_t local_id,
                                      const btf::Btf& targ) {
    const btf::Type& lt = local.type(local_id);
    const std::string_view want = core::essential_name(local.name(lt));
    std::vector<uint32_t> cands;
    for (uint32_t id = 1; id < targ.type_count(); id++) {
        const btf::Type& t = targ.type(id);
        if (!core::kinds_compat(t, lt)) continue;
        const std::string_view name = targ.name(t);
        if (!name.empty() && core::essential_name(name) == want) cands.push_back(id);
    }
    return cands;
}

struct Resolved {
    ReloResult res;
    std::string poison_reason;
};

class Relocator {
  public:
    Relocator(const btf::Btf& local, const btf::Btf* target) : local_(local), target_(target) {}

    // bpf_core_calc_relo_insn: the value for one relocation, from all its candidates.
    Result<Resolved> resolve(const btf::CoreReloRec& rec, const std::string& where) {
        auto fail = [&](std::string msg) { return Error{where + msg, std::nullopt}; };
        if (rec.kind >= core::RELO_KIND_COUNT)
            return fail("unknown CO-RE relocation kind " + std::to_string(rec.kind));
        const auto kind = static_cast<ReloKind>(rec.kind);
        const btf::Type& lt = local_.type(rec.type_id);
        const std::string_view local_name = local_.name(lt);
        const std::string_view access = *local_.str(rec.access_str_off);
        auto local_spec = core::parse_spec(local_, rec.type_id, access, kind);
        if (!local_spec)
            return fail("parsing [" + std::to_string(rec.type_id) + "] " + btf::kind_name(lt.kind) +
                        " " + (local_name.empty() ? "<anon>" : std::string(local_name)) + " + " +
                        std::string(access) + " failed: " + local_spec.error().message);
        if (kind == ReloKind::type_id_local) {
            // The local id needs no target; linking may renumber it, so it is not validated.
            Resolved r;
            r.res.orig_val = r.res.new_val = rec.type_id;
            r.res.validate = false;
            return r;
        }
        if (local_name.empty())
            return fail(std::string("<") + core::kind_name(kind) +
                        "> relocation doesn't support anonymous types");

        const btf::Btf& targ = target_ ? *target_ : local_;
        std::vector<uint32_t>& cands = candidates(rec.type_id);
        core::MatchBudget budget;
        std::vector<uint32_t> matching;
        Spec cand_spec, targ_spec;
        Resolved out;
        for (const uint32_t cand : cands) {
            auto matched = core::match_spec(*local_spec, targ, cand, cand_spec, budget);
            if (!matched)
                return fail("error matching candidate [" + std::to_string(cand) +
                            "]: " + matched.error().message);
            if (!*matched) continue;
            auto res = core::calc_relo(*local_spec, &cand_spec);
            if (!res) return fail(res.error().message);
            if (matching.empty()) {
                out.res = *res;
                targ_spec = cand_spec;
            } else if (cand_spec.bit_offset != targ_spec.bit_offset) {
                return fail("field offset ambiguity: " + std::to_string(cand_spec.bit_offset) +
                            " != " + std::to_string(targ_spec.bit_offset) + " (" +
                            cand_spec.describe() + " vs " + targ_spec.describe() + ")");
            } else if (res->poison != out.res.poison || res->new_val != out.res.new_val) {
                return fail("relocation decision ambiguity: " + std::to_string(res->new_val) +
                            " != " + std::to_string(out.res.new_val));
            }
            matching.push_back(cand);
        }
        // Later relocations of the same type only consider the candidates that matched, unless
        // none did (libbpf prunes its candidate cache the same way).
        if (!matching.empty()) {
            cands = std::move(matching);
        } else {
            auto res = core::calc_relo(*local_spec, nullptr);
            if (!res) return fail(res.error().message);
            out.res = *res;
        }
        if (out.res.poison)
            out.poison_reason = std::string("CO-RE ") + core::kind_name(kind) + " relocation of " +
                                local_spec->describe() + " found no match in the target BTF";
        else if (out.res.fail_memsz_adjust)
            out.poison_reason = std::string("CO-RE relocation of ") + local_spec->describe() +
                                " changes the access size of a field that is not a pointer "
                                "or an unsigned integer";
        return out;
    }

  private:
    std::vector<uint32_t>& candidates(uint32_t local_id) {
        auto [it, fresh] = cands_.try_emplace(local_id);
        if (fresh)
            it->second = target_ ? find_candidates(local_, local_id, *target_)
                                 : std::vector<uint32_t>{local_id};
        return it->second;
    }

    const btf::Btf& local_;
    const btf::Btf* target_;
    std::unordered_map<uint32_t, std::vector<uint32_t>> cands_;
};

void poison_insn(Insn& insn) {
    insn = make_insn(BPF_JMP | BPF_CALL, 0, 0, 0, POISON_CORE_RELO);
}

int size_bytes(uint8_t opcode) {
    switch (opcode & 0x18) {
    case BPF_DW: return 8;
    case BPF_W: return 4;
    case BPF_H: return 2;
    default: return 1;
    }
}

std::optional<uint8_t> bpf_size(uint32_t bytes) {
    switch (bytes) {
    case 8: return BPF_DW;
    case 4: return BPF_W;
    case 2: return BPF_H;
    case 1: return BPF_B;
    default: return std::nullopt;
    }
}

// bpf_core_patch_insn: checks the compiled value, then writes the target's.
Status patch_insn(Function& f, size_t idx, const Resolved& r, const std::string& where) {
    auto fail = [&](std::string msg) { return error_at(idx, where + msg); };
    Insn& insn = f.insns[idx];
    const bool lddw = insn.opcode == BPF_LDDW;
    if (lddw && idx + 1 >= f.insns.size()) return fail("ldimm64 is missing its second half");
    const ReloResult& res = r.res;
    auto poison = [&](const std::string& reason) -> Status {
        // Both halves of an ldimm64, so the verifier reports the call, not "unknown opcode 00".
        if (lddw) poison_insn(f.insns[idx + 1]);
        poison_insn(insn);
        f.poisoned[idx] = reason;
        return std::nullopt;
    };
    if (res.poison) return poison(r.poison_reason);
    auto unexpected = [&](const char* what, int64_t got) {
        return fail(std::string("unexpected insn (") + what + ") value: got " +
                    std::to_string(got) + ", exp " + std::to_string(res.orig_val) + " -> " +
                    std::to_string(res.new_val));
    };
    switch (insn.opcode & 0x07) {
    case BPF_ALU:
    case BPF_ALU64:
        if (insn.opcode & BPF_X) return fail("ALU instruction does not take an immediate");
        // libbpf compares the s32 immediate converted to u64.
        if (res.validate && static_cast<uint64_t>(int64_t{insn.imm}) != res.orig_val)
            return unexpected("ALU/ALU64", insn.imm);
        insn.imm = static_cast<int32_t>(res.new_val);
        return std::nullopt;
    case BPF_LDX:
    case BPF_ST:
    case BPF_STX: {
        if (res.validate && static_cast<uint64_t>(int64_t{insn.off}) != res.orig_val)
            return unexpected("LDX/ST/STX", insn.off);
        if (res.new_val > static_cast<uint64_t>(std::numeric_limits<int16_t>::max()))
            return fail("insn (LDX/ST/STX) value too big: " + std::to_string(res.new_val));
        if (res.fail_memsz_adjust) return poison(r.poison_reason);
        insn.off = static_cast<int16_t>(res.new_val);
        if (res.new_sz == res.orig_sz) return std::nullopt;
        if (static_cast<uint32_t>(size_bytes(insn.opcode)) != res.orig_sz)
            return fail("insn (LDX/ST/STX) unexpected mem size: got " +
                        std::to_string(size_bytes(insn.opcode)) + ", exp " +
                        std::to_string(res.orig_sz));
        const auto size = bpf_size(res.new_sz);
        if (!size)
            return fail("insn (LDX/ST/STX) invalid new mem size: " + std::to_string(res.new_sz));
        insn.opcode = static_cast<uint8_t>((insn.opcode & 0xe7) | *size);
        return std::nullopt;
    }
    case BPF_LD: {
        Insn& hi = f.insns[idx + (lddw ? 1 : 0)];
        if (!lddw || insn.src != 0 || insn.off != 0 || hi.opcode != 0 || hi.dst != 0 ||
            hi.src != 0 || hi.off != 0)
            return fail("insn (LDIMM64) has unexpected form");
        const uint64_t imm = uint64_t{static_cast<uint32_t>(insn.imm)} |
                             uint64_t{static_cast<uint32_t>(hi.imm)} << 32;
        if (res.validate && imm != res.orig_val)
            return unexpected("LDIMM64", static_cast<int64_t>(imm));
        insn.imm = static_cast<int32_t>(static_cast<uint32_t>(res.new_val));
        hi.imm = static_cast<int32_t>(static_cast<uint32_t>(res.new_val >> 32));
        return std::nullopt;
    }
    default:
        return fail("trying to relocate unrecognized insn (code " + std::to_string(insn.opcode) +
                    ")");
    }
}

} // namespace

Status apply_core_relos(std::vector<Function>& funcs, const btf::Btf& local, const btf::BtfExt& ext,
                        const btf::Btf* target) {
    Relocator relocator(local, target);
    for (const auto& sec : ext.core_relos) {
        const std::string_view sec_name = *local.str(sec.sec_name_off);
        const std::string in_sec = "sec " + quote(sec_name) + ": ";
        if (sec_name.empty())
            return Error{"BTF.ext core_relo: a section has an empty name", std::nullopt};
        std::optional<uint32_t> sec_idx;
        for (const auto& f : funcs)
            if (f.sec_name == sec_name) sec_idx = f.sec_idx;
        if (!sec_idx)
            return Error{in_sec + "CO-RE relocations for a section with no program", std::nullopt};
        for (size_t i = 0; i < sec.recs.size(); i++) {
            const btf::CoreReloRec& rec = sec.recs[i];
            if (rec.insn_off % sizeof(Insn))
                return Error{in_sec + "CO-RE relo #" + std::to_string(i) + ": insn offset " +
                                 std::to_string(rec.insn_off) + " is not a multiple of 8",
                             std::nullopt};
            // Code outside any function (an eliminated weak subprogram) is skipped, as libbpf does.
            const auto fi = find_function(funcs, *sec_idx, rec.insn_off / sizeof(Insn));
            if (!fi) continue;
            Function& f = funcs[*fi];
            const size_t idx = rec.insn_off / sizeof(Insn) - f.sec_insn_off;
            const std::string where =
                "prog " + quote(f.name) + ": relo #" + std::to_string(i) + ": ";
            auto resolved = relocator.resolve(rec, where);
            if (!resolved) return error_at(idx, resolved.error().message);
            if (auto err = patch_insn(f, idx, *resolved, where)) return err;
        }
    }
    return std::nullopt;
}

} // namespace ebpf::loader
