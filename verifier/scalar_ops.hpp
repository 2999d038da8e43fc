// The kernel's transfer functions for scalar ALU operations: how the known bits and the four
// ranges of dst change under dst OP= src (scalar32_min_max_* and scalar_min_max_*).
#pragma once

#include "verifier/reg_state.hpp"

namespace ebpf::verifier {

// dst OP= src for two scalars, opcode one of BPF_ADD .. BPF_ARSH (and BPF_NEG, src unused);
// alu32 for the 32-bit forms. Marks dst unknown where the kernel gives up.
void scalar_alu(RegState& dst, const RegState& src, uint8_t opcode, bool alu32);

// Sign-extending moves and loads: keep the low size bytes, sign-extended (coerce_reg_to_size_sx).
void coerce_reg_to_size_sx(RegState& reg, int size);
void coerce_subreg_to_size_sx(RegState& reg, int size);
// Zero-extending truncation to size bytes (coerce_reg_to_size).
void coerce_reg_to_size(RegState& reg, int size);

} // namespace ebpf::verifier
