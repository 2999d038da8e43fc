#include "vm/loader/btf_match.hpp"

#include <string>

namespace ebpf::core {
namespace {

using btf::Btf;
using btf::Type;

// libbpf's recursion bounds in relo_core.c.
constexpr int MAX_DEPTH = 32, MAX_LEVEL = 32;

Error fail(std::string message) {
    return Error{"CO-RE: " + std::move(message), std::nullopt};
}

struct Step {
    uint32_t local_id, targ_id;
};

// A step of a walk over both sides: one unit of budget, modifiers and typedefs skipped.
Result<Step> step(const Btf& local, uint32_t local_id, const Btf& targ, uint32_t targ_id,
                  MatchBudget& budget) {
    if (auto err = budget.spend()) return *err;
    auto l = local.skip_mods_and_typedefs(local_id);
    if (!l) return l.error();
    auto t = targ.skip_mods_and_typedefs(targ_id);
    if (!t) return t.error();
    return Step{*l, *t};
}

// bpf_core_names_match: an anonymous target matches an anonymous local only; otherwise the
// essential names must be equal.
bool names_match(const Btf& local, uint32_t local_off, const Btf& targ, uint32_t targ_off) {
    const std::string_view l = *local.str(local_off), t = *targ.str(targ_off);
    if (t.empty()) return l.empty();
    return essential_name(l) == essential_name(t);
}

bool enums_match(const Btf& local, const Type& lt, const Btf& targ, const Type& tt) {
    if (lt.size_type != tt.size_type || lt.enumerators.size() > tt.enumerators.size()) return false;
    for (const auto& le : lt.enumerators) {
        bool found = false;
        for (const auto& te : tt.enumerators)
            if ((found = names_match(local, le.name_off, targ, te.name_off))) break;
        if (!found) return false;
    }
    return true;
}

Result<bool> match(const Btf& local, uint32_t local_id, const Btf& targ, uint32_t targ_id,
                   bool behind_ptr, int level, MatchBudget& budget);

Result<bool> composites_match(const Btf& local, const Type& lt, const Btf& targ, const Type& tt,
                              bool behind_ptr, int level, MatchBudget& budget) {
    if (lt.members.size() > tt.members.size()) return false;
    for (const auto& lm : lt.members) {
        bool found = false;
        for (const auto& tm : tt.members) {
            if (!names_match(local, lm.name_off, targ, tm.name_off)) continue;
            auto m = match(local, lm.type, targ, tm.type, behind_ptr, level - 1, budget);
            if (!m) return m.error();
            if ((found = *m)) break;
        }
        if (!found) return false;
    }
    return true;
}

Result<bool> match(const Btf& local, uint32_t local_id, const Btf& targ, uint32_t targ_id,
                   bool behind_ptr, int level, MatchBudget& budget) {
    if (level <= 0) return fail("type match recursion is deeper than " + std::to_string(MAX_LEVEL));
    for (int depth = 0; depth < MAX_DEPTH; depth++) {
        auto s = step(local, local_id, targ, targ_id, budget);
        if (!s) return s.error();
        const Type& lt = local.type(s->local_id);
        const Type& tt = targ.type(s->targ_id);
        // Root typedefs were name-matched by the caller; past them names still have to match.
        if (!names_match(local, lt.name_off, targ, tt.name_off)) return false;
        const bool same_kind = lt.kind == tt.kind;
        switch (lt.kind) {
        case btf::BTF_KIND_UNKN: return same_kind;
        case btf::BTF_KIND_FWD:
            // A forward declaration's kflag says union (1) or struct (0).
            if (same_kind) return lt.kflag == tt.kflag;
            return behind_ptr && ((tt.kind == btf::BTF_KIND_STRUCT && !lt.kflag) ||
                                  (tt.kind == btf::BTF_KIND_UNION && lt.kflag));
        case btf::BTF_KIND_ENUM:
        case btf::BTF_KIND_ENUM64: return tt.is_any_enum() && enums_match(local, lt, targ, tt);
        case btf::BTF_KIND_STRUCT:
        case btf::BTF_KIND_UNION:
            if (behind_ptr) {
                if (same_kind) return true;
                return tt.kind == btf::BTF_KIND_FWD && (lt.kind == btf::BTF_KIND_UNION) == tt.kflag;
            }
            if (!same_kind) return false;
            return composites_match(local, lt, targ, tt, behind_ptr, level, budget);
        case btf::BTF_KIND_INT:
            return same_kind && lt.size_type == tt.size_type &&
                   (lt.int_flags() & btf::BTF_INT_SIGNED) == (tt.int_flags() & btf::BTF_INT_SIGNED);
        case btf::BTF_KIND_PTR:
            if (!same_kind) return false;
            behind_ptr = true;
            local_id = lt.size_type;
            targ_id = tt.size_type;
            continue;
        case btf::BTF_KIND_ARRAY:
            if (!same_kind || lt.nelems != tt.nelems) return false;
            local_id = lt.elem_type;
            targ_id = tt.elem_type;
            continue;
        case btf::BTF_KIND_FUNC_PROTO:
            if (!same_kind || lt.members.size() != tt.members.size()) return false;
            for (size_t i = 0; i < lt.members.size(); i++) {
                auto m = match(local, lt.members[i].type, targ, tt.members[i].type, behind_ptr,
                               level - 1, budget);
                if (!m || !*m) return m;
            }
            local_id = lt.size_type; // the return types
            targ_id = tt.size_type;
            continue;
        default: return false;
        }
    }
    return fail("type match chain is longer than " + std::to_string(MAX_DEPTH) + " (a loop?)");
}

Result<bool> compat(const Btf& local, uint32_t local_id, const Btf& targ, uint32_t targ_id,
                    int level, MatchBudget& budget) {
    if (!kinds_compat(local.type(local_id), targ.type(targ_id))) return false;
    for (int depth = 0; depth < MAX_DEPTH; depth++) {
        auto s = step(local, local_id, targ, targ_id, budget);
        if (!s) return s.error();
        const Type& lt = local.type(s->local_id);
        const Type& tt = targ.type(s->targ_id);
        if (!kinds_compat(lt, tt)) return false;
        switch (lt.kind) {
        case btf::BTF_KIND_UNKN:
        case btf::BTF_KIND_STRUCT:
        case btf::BTF_KIND_UNION:
        case btf::BTF_KIND_ENUM:
        case btf::BTF_KIND_FWD:
        case btf::BTF_KIND_ENUM64: return true;
        case btf::BTF_KIND_INT:
            // Only the deprecated bitfield-like integers are refused.
            return lt.int_bit_offset() == 0 && tt.int_bit_offset() == 0;
        case btf::BTF_KIND_PTR:
            local_id = lt.size_type;
            targ_id = tt.size_type;
            continue;
        case btf::BTF_KIND_ARRAY:
            local_id = lt.elem_type;
            targ_id = tt.elem_type;
            continue;
        case btf::BTF_KIND_FUNC_PROTO:
            if (lt.members.size() != tt.members.size()) return false;
            for (size_t i = 0; i < lt.members.size(); i++) {
                if (level <= 0)
                    return fail("type compatibility recursion is deeper than " +
                                std::to_string(MAX_LEVEL));
                auto lp = local.skip_mods_and_typedefs(lt.members[i].type);
                if (!lp) return lp.error();
                auto tp = targ.skip_mods_and_typedefs(tt.members[i].type);
                if (!tp) return tp.error();
                auto c = compat(local, *lp, targ, *tp, level - 1, budget);
                if (!c || !*c) return c;
            }
            local_id = lt.size_type;
            targ_id = tt.size_type;
            continue;
        default: return false;
        }
    }
    return fail("type compatibility chain is longer than " + std::to_string(MAX_DEPTH) +
                " (a loop?)");
}

} // namespace

std::string_view essential_name(std::string_view name) {
    // The last "X___Y" where neither X nor Y is an underscore; the name ends after X.
    for (size_t i = name.size() >= 5 ? name.size() - 5 + 1 : 0; i-- > 0;)
        if (name[i] != '_' && name.compare(i + 1, 3, "___") == 0 && name[i + 4] != '_')
            return name.substr(0, i + 1);
    return name;
}

bool kinds_compat(const btf::Type& a, const btf::Type& b) {
    return a.kind == b.kind || (a.is_any_enum() && b.is_any_enum());
}

Status MatchBudget::spend() {
    if (steps_left == 0) return fail("type matching takes too many steps (hostile BTF?)");
    steps_left--;
    return std::nullopt;
}

Result<bool> types_are_compat(const Btf& local, uint32_t local_id, const Btf& targ,
                              uint32_t targ_id, MatchBudget& budget) {
    return compat(local, local_id, targ, targ_id, MAX_LEVEL, budget);
}

Result<bool> fields_are_compat(const Btf& local, uint32_t local_id, const Btf& targ,
                               uint32_t targ_id, MatchBudget& budget) {
    for (;;) {
        auto s = step(local, local_id, targ, targ_id, budget);
        if (!s) return s.error();
        const Type& lt = local.type(s->local_id);
        const Type& tt = targ.type(s->targ_id);
        if (lt.is_composite() && tt.is_composite()) return true;
        if (!kinds_compat(lt, tt)) return false;
        switch (lt.kind) {
        case btf::BTF_KIND_PTR:
        case btf::BTF_KIND_FLOAT: return true;
        case btf::BTF_KIND_FWD:
        case btf::BTF_KIND_ENUM:
        case btf::BTF_KIND_ENUM64: {
            // Same essential name, or one of them anonymous.
            const std::string_view ln = essential_name(local.name(lt));
            const std::string_view tn = essential_name(targ.name(tt));
            return ln.empty() || tn.empty() || ln == tn;
        }
        case btf::BTF_KIND_INT: return lt.int_bit_offset() == 0 && tt.int_bit_offset() == 0;
        case btf::BTF_KIND_ARRAY:
            local_id = lt.elem_type;
            targ_id = tt.elem_type;
            continue;
        default: return false;
        }
    }
}

Result<bool> types_match(const Btf& local, uint32_t local_id, const Btf& targ, uint32_t targ_id,
                         MatchBudget& budget) {
    return match(local, local_id, targ, targ_id, false, MAX_LEVEL, budget);
}

} // namespace ebpf::core
