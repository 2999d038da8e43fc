// A listing of compiled code, for `ebpf-run --dump-jit`: each BPF instruction as the kernel's
// verifier log prints it, followed by the machine code it became, disassembled by Capstone. The
// out-of-line code (entry points, frame stubs, early exits, tail calls) follows the last
// instruction, then the jump tables, one address a line. An instruction that was folded into
// its neighbours (jit/x86_64/peephole.cpp) has no machine code of its own.
//
//   0: (bf) r6 = r1
//       0x0000:  55                             push rbp
//       ...
#pragma once

#include "jit/jit.hpp"

#include <string>

namespace ebpf {

// `jitted` must have been compiled from `prog`. Fails only when Capstone cannot be opened.
Result<std::string> jit_listing(const Program& prog, const JitProgram& jitted);

} // namespace ebpf
