// Instruction text in the syntax of the kernel's verifier log (kernel/bpf/disasm.c).
//
// Where the kernel prints nothing that identifies an instruction (it has no text for callx, and
// its verifier log shows map pointers instead of the lddw pseudo sources), the text follows
// bpftool and llvm, so that assemble(disasm_program(p)) gives back p for every valid program:
//   callx r2                          BPF_CALL | BPF_X, register in dst
//   r1 = map[id:3]                    lddw src 1, imm 3 (the fd: we have no map ids)
//   r1 = map[id:3][0]+8               lddw src 2, value at offset 8 (second imm)
//   r1 = btf_id[77]                   lddw src 3
//   r1 = subprog[+5]                  lddw src 4
//   r1 = map[idx:3] / map[idx:3]+8    lddw src 5 / 6
//   r1 = pseudo[src:1] 0x500000003    any other lddw source/second-imm pair (full 64-bit imm)
//   call kernel-function#12 (off 2)   kfunc call with a module BTF (off is shown when non-zero)
#pragma once

#include "vm/isa/insn.hpp"

#include <cstdint>
#include <functional>
#include <string>

namespace ebpf {

struct DisasmOptions {
    // Name of a helper id, e.g. "bpf_map_lookup_elem" for 1; empty string when unknown.
    std::function<std::string(int32_t)> helper_name;
};

// Text of the instruction at prog[index], without index or opcode prefix, e.g. "r0 = 1".
// lddw reads prog[index+1] too; an instruction with no opcode row prints "invalid insn (...)".
std::string disasm_insn(Insns prog, size_t index, const DisasmOptions& opts = {});

// The whole program as the verifier log prints it, one "0: (b7) r0 = 1\n" line per instruction;
// lddw takes two slots and one line.
std::string disasm_program(Insns prog, const DisasmOptions& opts = {});

} // namespace ebpf
