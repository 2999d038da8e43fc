#include "vm/loader/core_spec.hpp"

#include "vm/loader/diag.hpp"

#include <limits>

namespace ebpf::core {
namespace {

using btf::Btf;
using btf::Type;
using loader::fail;

std::string tid(uint32_t id) {
    return "[" + std::to_string(id) + "]";
}

// The access string "0:1:2" as indices; clang writes nothing else (no signs, no spaces).
Result<std::vector<uint32_t>> parse_access(std::string_view access) {
    std::vector<uint32_t> raw;
    if (access.empty() || access.front() == ':' || access.back() == ':')
        return fail("access string '" + std::string(access) + "' is malformed");
    size_t pos = 0;
    while (pos < access.size()) {
        uint64_t v = 0;
        const size_t start = pos;
        while (pos < access.size() && access[pos] >= '0' && access[pos] <= '9') {
            v = v * 10 + static_cast<uint64_t>(access[pos++] - '0');
            if (v > std::numeric_limits<int32_t>::max())
                return fail("access string '" + std::string(access) + "': index out of range");
        }
        if (pos == start || (pos < access.size() && access[pos++] != ':'))
            return fail("access string '" + std::string(access) + "' is malformed");
        if (raw.size() == SPEC_MAX_LEN)
            return fail("access string '" + std::string(access) + "' is longer than " +
                        std::to_string(SPEC_MAX_LEN) + " accessors");
        raw.push_back(static_cast<uint32_t>(v));
    }
    return raw;
}

Status add_bits(uint64_t& bit_offset, uint64_t idx, uint64_t size) {
    // idx < 2^31, size < 2^32: the product fits; the sum is bounded at 32 bits like libbpf's.
    bit_offset += idx * size * 8;
    if (bit_offset > std::numeric_limits<uint32_t>::max())
        return fail("field bit offset overflows 32 bits");
    return std::nullopt;
}

// is_flex_arr: a zero-length array that is the last member of the struct `prev` accesses.
bool is_flex_array(const Btf& btf, const Accessor& prev, const Type& arr) {
    if (prev.name.empty() || arr.nelems > 0) return false;
    return prev.idx + 1 == btf.type(prev.type_id).members.size();
}

// bpf_core_match_member: finds the local accessor's member name in target type `targ_id`,
// looking through anonymous struct and union members, and extends the target spec with it.
Result<bool> match_member(const Btf& local, const Accessor& local_acc, const Btf& targ,
                          uint32_t targ_id, Spec& spec, uint32_t& next_targ_id,
                          MatchBudget& budget) {
    auto resolved = targ.skip_mods_and_typedefs(targ_id);
    if (!resolved) return resolved.error();
    targ_id = *resolved;
    const Type& tt = targ.type(targ_id);
    if (!tt.is_composite()) return false;
    const btf::Member& lm = local.type(local_acc.type_id).members[local_acc.idx];
    for (uint32_t i = 0; i < tt.members.size(); i++) {
        if (auto err = budget.spend()) return *err;
        const btf::Member& m = tt.members[i];
        if (spec.raw_spec.size() == SPEC_MAX_LEN)
            return fail("target struct/union nesting is deeper than " +
                        std::to_string(SPEC_MAX_LEN));
        const uint32_t bits = tt.member_bit_offset(m);
        spec.bit_offset += bits;
        spec.raw_spec.push_back(i);
        const std::string_view name = targ.name_of(m);
        if (name.empty()) {
            // An embedded anonymous struct or union: the field may be inside.
            auto found = match_member(local, local_acc, targ, m.type, spec, next_targ_id, budget);
            if (!found || *found) return found;
        } else if (name == local.name_of(lm)) {
            next_targ_id = m.type;
            auto compat = fields_are_compat(local, lm.type, targ, m.type, budget);
            if (compat && *compat) spec.spec.push_back({targ_id, i, name});
            return compat;
        }
        spec.bit_offset -= bits;
        spec.raw_spec.pop_back();
    }
    return false;
}

// Byte offset, size and bit layout of the field a spec reaches (bpf_core_calc_field_relo).
Status calc_field(const Spec* spec, ReloKind kind, uint64_t& val, uint32_t& field_sz,
                  uint32_t& type_id, bool* validate) {
    field_sz = 0;
    if (kind == ReloKind::field_exists) {
        val = spec ? 1 : 0;
        return std::nullopt;
    }
    if (!spec) return std::nullopt; // the caller poisons
    const Btf& btf = *spec->btf;
    const Accessor& acc = spec->spec.back();
    if (acc.name.empty()) { // an array element
        auto sz = btf.resolve_size(acc.type_id);
        if (!sz) return sz.error();
        if (kind == ReloKind::field_byte_offset) {
            val = spec->bit_offset / 8;
            field_sz = *sz;
            type_id = acc.type_id;
        } else if (kind == ReloKind::field_byte_size) {
            val = *sz;
        } else {
            return fail(std::string("relocation ") + kind_name(kind) +
                        " can't be applied to an array access");
        }
        if (validate) *validate = true;
        return std::nullopt;
    }
    const Type& t = btf.type(acc.type_id);
    const btf::Member& m = t.members[acc.idx];
    auto field_type = btf.skip_mods_and_typedefs(m.type);
    if (!field_type) return field_type.error();
    const Type& mt = btf.type(*field_type);
    // libbpf computes these in 32 bits; so does this.
    const uint32_t bit_off = static_cast<uint32_t>(spec->bit_offset);
    uint32_t bit_sz = t.member_bitfield_size(m);
    uint32_t byte_sz, byte_off;
    const bool bitfield = bit_sz > 0;
    if (bitfield) {
        byte_sz = mt.size_type;
        if (byte_sz == 0) return fail("bitfield '" + std::string(acc.name) + "' has no size");
        byte_off = bit_off / 8 / byte_sz * byte_sz;
        // The smallest load that covers the bitfield.
        while (uint64_t{bit_off} + bit_sz - uint64_t{byte_off} * 8 > uint64_t{byte_sz} * 8) {
            if (byte_sz >= 8)
                return fail("bitfield '" + std::string(acc.name) +
                            "' can't be read with a 64-bit load");
            byte_sz *= 2;
            byte_off = bit_off / 8 / byte_sz * byte_sz;
        }
    } else {
        auto sz = btf.resolve_size(*field_type);
        if (!sz) return sz.error();
        byte_sz = *sz;
        byte_off = bit_off / 8;
        bit_sz = byte_sz * 8;
    }
    // A bitfield's layout is ambiguous (the compiler may pick another load size): only
    // signedness and the right shift are checked against the instruction.
    if (validate) *validate = !bitfield;
    switch (kind) {
    case ReloKind::field_byte_offset:
        val = byte_off;
        if (!bitfield) {
            field_sz = byte_sz;
            type_id = *field_type;
        }
        break;
    case ReloKind::field_byte_size: val = byte_sz; break;
    case ReloKind::field_signed:
        val = (mt.is_any_enum() && mt.kflag) ||
              (mt.kind == btf::BTF_KIND_INT && (mt.int_flags() & btf::BTF_INT_SIGNED));
        if (validate) *validate = true;
        break;
    case ReloKind::field_lshift_u64: val = uint32_t{64} - (bit_off + bit_sz - byte_off * 8); break;
    case ReloKind::field_rshift_u64:
        val = uint32_t{64} - bit_sz;
        if (validate) *validate = true;
        break;
    default: return fail(std::string("unexpected relocation kind ") + kind_name(kind));
    }
    return std::nullopt;
}

Status calc_type(const Spec* spec, ReloKind kind, uint64_t& val, bool* validate) {
    if (validate) *validate = true;
    if (!spec) { // type-based relocations give zero when there is no target type
        val = 0;
        return std::nullopt;
    }
    switch (kind) {
    case ReloKind::type_id_target:
        val = spec->root_type_id;
        // Type ids change when objects are linked: the compiled one proves nothing.
        if (validate) *validate = false;
        break;
    case ReloKind::type_exists:
    case ReloKind::type_matches: val = 1; break;
    case ReloKind::type_size: {
        auto sz = spec->btf->resolve_size(spec->root_type_id);
        if (!sz) return sz.error();
        val = *sz;
        break;
    }
    default: return fail(std::string("unexpected relocation kind ") + kind_name(kind));
    }
    return std::nullopt;
}

void calc_enumval(const Spec* spec, ReloKind kind, uint64_t& val) {
    if (kind == ReloKind::enumval_exists) {
        val = spec ? 1 : 0;
    } else if (spec) {
        // An ENUM's 32-bit value is sign-extended, as libbpf reads it into a u64.
        const Accessor& acc = spec->spec.front();
        val = static_cast<uint64_t>(spec->btf->type(acc.type_id).enumerators[acc.idx].val);
    }
}

} // namespace

const char* kind_name(ReloKind kind) {
    switch (kind) {
    case ReloKind::field_byte_offset: return "byte_off";
    case ReloKind::field_byte_size: return "byte_sz";
    case ReloKind::field_exists: return "field_exists";
    case ReloKind::field_signed: return "signed";
    case ReloKind::field_lshift_u64: return "lshift_u64";
    case ReloKind::field_rshift_u64: return "rshift_u64";
    case ReloKind::type_id_local: return "local_type_id";
    case ReloKind::type_id_target: return "target_type_id";
    case ReloKind::type_exists: return "type_exists";
    case ReloKind::type_matches: return "type_matches";
    case ReloKind::type_size: return "type_size";
    case ReloKind::enumval_exists: return "enumval_exists";
    case ReloKind::enumval_value: return "enumval_value";
    }
    return "unknown";
}

bool is_field_based(ReloKind kind) {
    return kind <= ReloKind::field_rshift_u64;
}

bool is_type_based(ReloKind kind) {
    return kind == ReloKind::type_id_local || kind == ReloKind::type_id_target ||
           kind == ReloKind::type_exists || kind == ReloKind::type_matches ||
           kind == ReloKind::type_size;
}

bool is_enumval_based(ReloKind kind) {
    return kind == ReloKind::enumval_exists || kind == ReloKind::enumval_value;
}

std::string Spec::describe() const {
    const Type& root = btf->type(root_type_id);
    const std::string_view root_name = btf->name(root);
    std::string s = std::string(btf::kind_name(root.kind)) + " " +
                    (root_name.empty() ? "<anon>" : std::string(root_name));
    if (is_type_based(kind)) return s;
    if (is_enumval_based(kind)) return spec.empty() ? s : s + "::" + std::string(spec[0].name);
    for (size_t i = 0; i < spec.size(); i++) {
        if (!spec[i].name.empty())
            s += "." + std::string(spec[i].name);
        else if (i > 0 || spec[i].idx > 0)
            s += "[" + std::to_string(spec[i].idx) + "]";
    }
    s += " (";
    for (size_t i = 0; i < raw_spec.size(); i++)
        s += (i ? ":" : "") + std::to_string(raw_spec[i]);
    s += " @ offset " + std::to_string(bit_offset / 8);
    if (bit_offset % 8) s += "." + std::to_string(bit_offset % 8);
    return s + ")";
}

Result<Spec> parse_spec(const Btf& btf, uint32_t type_id, std::string_view access, ReloKind kind) {
    Spec spec;
    spec.btf = &btf;
    spec.root_type_id = type_id;
    spec.kind = kind;
    if (is_type_based(kind)) {
        // Type-based relocations have no field access.
        if (access != "0")
            return fail("type-based relocation with access string '" + std::string(access) +
                        "' (expected \"0\")");
        return spec;
    }
    auto raw = parse_access(access);
    if (!raw) return raw.error();
    spec.raw_spec = std::move(*raw);
    auto root = btf.skip_mods_and_typedefs(type_id);
    if (!root) return root.error();
    uint32_t id = *root;
    const uint32_t first = spec.raw_spec[0];
    spec.spec.push_back({id, first, {}});

    if (is_enumval_based(kind)) {
        const Type& t = btf.type(id);
        if (!t.is_any_enum() || spec.raw_spec.size() > 1 || first >= t.enumerators.size())
            return fail("enum value relocation: access string '" + std::string(access) +
                        "' does not name an enumerator of type " + tid(id));
        spec.spec[0].name = *btf.str(t.enumerators[first].name_off);
        return spec;
    }
    if (!is_field_based(kind))
        return fail("unknown relocation kind " + std::to_string(static_cast<uint32_t>(kind)));

    auto sz = btf.resolve_size(id);
    if (!sz) return sz.error();
    if (auto err = add_bits(spec.bit_offset, first, *sz)) return *err;
    for (size_t i = 1; i < spec.raw_spec.size(); i++) {
        auto resolved = btf.skip_mods_and_typedefs(id);
        if (!resolved) return resolved.error();
        id = *resolved;
        const Type& t = btf.type(id);
        const uint32_t idx = spec.raw_spec[i];
        if (t.is_composite()) {
            if (idx >= t.members.size())
                return fail("access string '" + std::string(access) + "': member #" +
                            std::to_string(idx) + " of " + btf::kind_name(t.kind) + " " + tid(id) +
                            " is past its " + std::to_string(t.members.size()) + " members");
            const btf::Member& m = t.members[idx];
            spec.bit_offset += t.member_bit_offset(m);
            if (m.name_off) { // anonymous members leave no accessor
                const std::string_view name = btf.name_of(m);
                if (name.empty())
                    return fail("member #" + std::to_string(idx) + " of " + tid(id) +
                                " has an empty name");
                spec.spec.push_back({id, idx, name});
            }
            id = m.type;
        } else if (t.kind == btf::BTF_KIND_ARRAY) {
            auto elem = btf.skip_mods_and_typedefs(t.elem_type);
            if (!elem) return elem.error();
            if (!is_flex_array(btf, spec.spec.back(), t) && idx >= t.nelems)
                return fail("access string '" + std::string(access) + "': index " +
                            std::to_string(idx) + " is past array " + tid(id) + " of " +
                            std::to_string(t.nelems));
            id = *elem;
            spec.spec.push_back({id, idx, {}});
            auto esz = btf.resolve_size(id);
            if (!esz) return esz.error();
            if (auto err = add_bits(spec.bit_offset, idx, *esz)) return *err;
        } else {
            return fail("access string '" + std::string(access) + "' (at #" + std::to_string(i) +
                        ") reaches type " + tid(id) + " of unexpected kind " +
                        btf::kind_name(t.kind));
        }
        if (spec.bit_offset > std::numeric_limits<uint32_t>::max())
            return fail("field bit offset overflows 32 bits");
    }
    return spec;
}

Result<bool> match_spec(const Spec& local, const Btf& targ, uint32_t targ_id, Spec& targ_spec,
                        MatchBudget& budget) {
    targ_spec = Spec{};
    targ_spec.btf = &targ;
    targ_spec.root_type_id = targ_id;
    targ_spec.kind = local.kind;
    if (is_type_based(local.kind)) {
        if (local.kind == ReloKind::type_matches)
            return types_match(*local.btf, local.root_type_id, targ, targ_id, budget);
        return types_are_compat(*local.btf, local.root_type_id, targ, targ_id, budget);
    }
    if (is_enumval_based(local.kind)) {
        auto resolved = targ.skip_mods_and_typedefs(targ_id);
        if (!resolved) return resolved.error();
        const Type& tt = targ.type(*resolved);
        if (!tt.is_any_enum()) return false;
        const std::string_view want = essential_name(local.spec[0].name);
        for (uint32_t i = 0; i < tt.enumerators.size(); i++) {
            const std::string_view name = *targ.str(tt.enumerators[i].name_off);
            if (essential_name(name) != want) continue;
            targ_spec.spec.push_back({*resolved, i, name});
            targ_spec.raw_spec.push_back(i);
            return true;
        }
        return false;
    }
    for (size_t i = 0; i < local.spec.size(); i++) {
        auto resolved = targ.skip_mods_and_typedefs(targ_id);
        if (!resolved) return resolved.error();
        targ_id = *resolved;
        const Accessor& acc = local.spec[i];
        if (!acc.name.empty()) {
            auto found = match_member(*local.btf, acc, targ, targ_id, targ_spec, targ_id, budget);
            if (!found || !*found) return found;
            continue;
        }
        // The first accessor indexes the root type itself; later ones index an array.
        if (i > 0) {
            const Type& tt = targ.type(targ_id);
            if (tt.kind != btf::BTF_KIND_ARRAY) return false;
            if (!is_flex_array(targ, targ_spec.spec.back(), tt) && acc.idx >= tt.nelems)
                return false;
            auto elem = targ.skip_mods_and_typedefs(tt.elem_type);
            if (!elem) return elem.error();
            targ_id = *elem;
        }
        if (targ_spec.raw_spec.size() == SPEC_MAX_LEN)
            return fail("target nesting is deeper than " + std::to_string(SPEC_MAX_LEN));
        targ_spec.spec.push_back({targ_id, acc.idx, {}});
        targ_spec.raw_spec.push_back(acc.idx);
        auto sz = targ.resolve_size(targ_id);
        if (!sz) return sz.error();
        if (auto err = add_bits(targ_spec.bit_offset, acc.idx, *sz)) return *err;
    }
    return true;
}

Result<ReloResult> calc_relo(const Spec& local, const Spec* targ) {
    ReloResult res;
    const ReloKind kind = local.kind;
    if (is_field_based(kind)) {
        if (auto err = calc_field(&local, kind, res.orig_val, res.orig_sz, res.orig_type_id,
                                  &res.validate))
            return *err;
        if (auto err = calc_field(targ, kind, res.new_val, res.new_sz, res.new_type_id, nullptr))
            return *err;
        if (!targ && kind != ReloKind::field_exists) {
            res.poison = true;
            return res;
        }
        if (res.orig_sz != res.new_sz) {
            // A different access size is only safe for pointers (a 32-bit kernel's, read
            // zero-extended) and unsigned integers; elsewhere the access is poisoned, but only
            // loads and stores care.
            const Type& ot = local.btf->type(res.orig_type_id);
            const Type& nt = targ->btf->type(res.new_type_id);
            const bool ptrs = ot.kind == btf::BTF_KIND_PTR && nt.kind == btf::BTF_KIND_PTR;
            const bool uints = ot.kind == btf::BTF_KIND_INT && nt.kind == btf::BTF_KIND_INT &&
                               ot.int_flags() != btf::BTF_INT_SIGNED &&
                               nt.int_flags() != btf::BTF_INT_SIGNED;
            res.fail_memsz_adjust = !ptrs && !uints;
        }
    } else if (is_type_based(kind)) {
        if (auto err = calc_type(&local, kind, res.orig_val, &res.validate)) return *err;
        if (auto err = calc_type(targ, kind, res.new_val, nullptr)) return *err;
    } else if (is_enumval_based(kind)) {
        calc_enumval(&local, kind, res.orig_val);
        calc_enumval(targ, kind, res.new_val);
        res.poison = !targ && kind == ReloKind::enumval_value;
    } else {
        return fail("unknown relocation kind " + std::to_string(static_cast<uint32_t>(kind)));
    }
    return res;
}

} // namespace ebpf::core
