// Reads back the verifier-log syntax that disasm.hpp prints.
#pragma once

#include "vm/isa/insn.hpp"
#include "vm/isa/result.hpp"

#include <string_view>
#include <vector>

namespace ebpf {

// One instruction per line, e.g. "r0 = 1" or "if w1 s< w2 goto pc-4". Also accepted:
//  - the verifier log's "N: (xx) " prefix, so log lines can be pasted;
//  - blank lines and comments from ';' or "//" to the end of the line;
//  - labels: "name:" alone on a line, used as "goto name", "gotol name", "if r1 > 0x3 goto name"
//    and "call name" (a local call), resolved to pc-relative offsets;
//  - "r1 = 5 ll" (lddw with a decimal value), and w registers for the value of loads, stores
//    and atomics of up to 32 bits (llvm's alu32 syntax).
// "rN = 0x..." is an lddw (the kernel prints mov immediates in decimal). Errors name the line
// number and the text that could not be parsed.
Result<std::vector<Insn>> assemble(std::string_view text);

} // namespace ebpf
