// CO-RE: the .BTF.ext relocation records applied to the functions of an object before they are
// linked, as libbpf's bpf_object__relocate_core does. Each record names an instruction, a local
// type and an access string; the target types of the same essential name are its candidates,
// all matching candidates must agree, and the instruction's immediate, offset or 64-bit
// immediate gets the target's value. A relocation with no target turns its instruction into
// `call 0xbad2310` (libbpf's poison): the verifier refuses it only where it is reachable, so
// programs that guard with bpf_core_field_exists() and friends still load.
#pragma once

#include "vm/loader/btf.hpp"
#include "vm/loader/linker.hpp"

#include <cstdint>
#include <vector>

namespace ebpf::loader {

// libbpf's poison immediate: the verifier says "invalid func unknown#195896080".
inline constexpr int32_t POISON_CORE_RELO = 0xbad2310;

// Relocates `funcs` against `target`, or, when it is null, against the object's own BTF with
// each type its own only candidate: the program then keeps the values it was compiled with.
Status apply_core_relos(std::vector<Function>& funcs, const btf::Btf& local, const btf::BtfExt& ext,
                        const btf::Btf* target);

} // namespace ebpf::loader
