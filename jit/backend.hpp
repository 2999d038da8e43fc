// The contract between the driver (jit.cpp) and a code generator (x86_64/, arm64/ later): a back
// end emits one program into an asmjit CodeHolder set up for its architecture and says where the
// entry points (runtime.hpp) and each instruction's code begin; the driver places, seals and runs
// the code.
#pragma once

#include "jit/jit.hpp"

#include <asmjit/core.h>

#include <cstdint>
#include <vector>

namespace ebpf::jit {

struct GeneratedCode {
    uint32_t entry_offset = 0;              // a JitEntry
    uint32_t callback_entry_offset = 0;     // a CallbackEntry
    uint32_t tail_entry_offset = 0;         // where a tail call into this program lands
    uint32_t data_offset = 0;               // as JitProgram::data_offset()
    std::vector<uint32_t> insn_offsets;     // as JitProgram::insn_offsets()
    std::vector<uint32_t> layout;           // as JitProgram::layout()
    std::vector<uint32_t> functions;        // first instructions of functions, ascending
    std::vector<uint32_t> function_entries; // for each function, where a callback enters it
};

// The generated code must be position-independent: the driver copies it to its final place.
// tail_call_frames: other programs' tail calls may land in this one (JitCache's programs), so its
// frames must look like theirs.
using Backend = Result<GeneratedCode> (*)(asmjit::CodeHolder& code, const Program& prog,
                                          const JitOptions& options, bool tail_call_frames);

} // namespace ebpf::jit
