// One CO-RE relocation (struct bpf_core_relo) evaluated as libbpf's relo_core.c does: its
// access string parsed against the program's BTF into a spec, the spec matched against a
// candidate target type, and the value the instruction gets (byte offset, size, existence,
// signedness, bitfield shifts, type id or size, enumerator existence or value) computed for
// both, so the instruction's compiled value can be checked and replaced.
#pragma once

#include "vm/loader/btf.hpp"
#include "vm/loader/btf_match.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ebpf::core {

enum class ReloKind : uint32_t { // enum bpf_core_relo_kind
    field_byte_offset = 0,
    field_byte_size = 1,
    field_exists = 2,
    field_signed = 3,
    field_lshift_u64 = 4,
    field_rshift_u64 = 5,
    type_id_local = 6,
    type_id_target = 7,
    type_exists = 8,
    type_size = 9,
    enumval_exists = 10,
    enumval_value = 11,
    type_matches = 12,
};
inline constexpr uint32_t RELO_KIND_COUNT = 13;

const char* kind_name(ReloKind kind); // libbpf's core_relo_kind_str: "byte_off", ...
bool is_field_based(ReloKind kind);
bool is_type_based(ReloKind kind);
bool is_enumval_based(ReloKind kind);

// libbpf's BPF_CORE_SPEC_MAX_LEN: how deep an access string may reach.
inline constexpr size_t SPEC_MAX_LEN = 64;

struct Accessor {
    uint32_t type_id = 0;  // the struct, union, enum or array element type
    uint32_t idx = 0;      // member, enumerator or array index
    std::string_view name; // member or enumerator name; empty for an array index
};

// struct bpf_core_spec: the high-level accessors (named members and array indices), the raw
// access string, and the bit offset it reaches.
struct Spec {
    const btf::Btf* btf = nullptr;
    uint32_t root_type_id = 0;
    ReloKind kind = ReloKind::field_byte_offset;
    std::vector<Accessor> spec;
    std::vector<uint32_t> raw_spec;
    uint64_t bit_offset = 0;

    std::string describe() const; // "struct task_struct.mm->... (0:2:1 @ offset 16)"
};

// bpf_core_parse_spec. Indices past a struct's members, an enum's enumerators or an array's
// bounds, malformed access strings and kinds of no relocation are errors.
Result<Spec> parse_spec(const btf::Btf& btf, uint32_t type_id, std::string_view access,
                        ReloKind kind);

// bpf_core_spec_match: whether `local` applies to target type `targ_id`, and the target spec.
Result<bool> match_spec(const Spec& local, const btf::Btf& targ, uint32_t targ_id, Spec& targ_spec,
                        MatchBudget& budget);

// struct bpf_core_relo_res.
struct ReloResult {
    uint64_t orig_val = 0; // what the compiled instruction holds, from the local spec
    uint64_t new_val = 0;
    bool poison = false;  // no target: the instruction becomes an invalid call
    bool validate = true; // whether orig_val must match the instruction
    bool fail_memsz_adjust = false;
    uint32_t orig_sz = 0, new_sz = 0; // memory access sizes of field byte offsets
    uint32_t orig_type_id = 0, new_type_id = 0;
};

// bpf_core_calc_relo: `targ` is null when no candidate matched. The error names no
// instruction; the caller adds it.
Result<ReloResult> calc_relo(const Spec& local, const Spec* targ);

} // namespace ebpf::core
