// The loader's structural check of raw instructions: what the kernel refuses before its verifier
// looks at values (unknown opcodes, reserved fields, bad registers, broken lddw, stray jumps, a
// program that can run off its end). Messages use the kernel's words.
#pragma once

#include "vm/isa/insn.hpp"
#include "vm/isa/result.hpp"

namespace ebpf {

Status validate(Insns prog);

// Reserved-field check of one instruction (fields of its row that must be zero, and the
// per-class rules); the message is the kernel's, e.g. "BPF_ALU uses reserved fields".
Status check_fields(const Insn& insn, size_t index);

} // namespace ebpf
