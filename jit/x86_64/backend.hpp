// The x86-64 code generator (System V ABI), as a jit::Backend.
#pragma once

#include "jit/backend.hpp"

namespace ebpf::jit::x86_64 {

Result<GeneratedCode> generate(asmjit::CodeHolder& code, const Program& prog,
                               const JitOptions& options, bool tail_call_frames);

} // namespace ebpf::jit::x86_64
