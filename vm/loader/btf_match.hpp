// libbpf's rules for pairing a type of the program's BTF (local) with a type of the target BTF
// (relo_core.c): essential names without ___flavor suffixes, compatible kinds, the field
// compatibility used by field relocations, the type compatibility of TYPE_EXISTS/TYPE_SIZE and
// TYPE_ID_TARGET, and the stricter structural relation of TYPE_MATCHES.
//
// Hostile BTF can make these walks loop (typedef cycles) or explode (a struct whose members
// are that struct, matched member by member): each walk has libbpf's depth limits and a step
// budget, and exceeding either is an error, not a hang.
#pragma once

#include "vm/loader/btf.hpp"

#include <string_view>

namespace ebpf::core {

// "task_struct___v1" -> "task_struct": the name up to its last "X___Y" separator
// (bpf_core_essential_name_len).
std::string_view essential_name(std::string_view name);

// btf_kind_core_compat: same kind, or ENUM with ENUM64.
bool kinds_compat(const btf::Type& a, const btf::Type& b);

// A budget of type-walk steps shared by one relocation's candidate checks.
struct MatchBudget {
    size_t steps_left = 1'000'000;
    Status spend();
};

// bpf_core_types_are_compat: for type-based relocations other than TYPE_MATCHES.
Result<bool> types_are_compat(const btf::Btf& local, uint32_t local_id, const btf::Btf& targ,
                              uint32_t targ_id, MatchBudget& budget);

// bpf_core_fields_are_compat: a local field's type against a target field's type.
Result<bool> fields_are_compat(const btf::Btf& local, uint32_t local_id, const btf::Btf& targ,
                               uint32_t targ_id, MatchBudget& budget);

// bpf_core_types_match: the TYPE_MATCHES relation.
Result<bool> types_match(const btf::Btf& local, uint32_t local_id, const btf::Btf& targ,
                         uint32_t targ_id, MatchBudget& budget);

} // namespace ebpf::core
