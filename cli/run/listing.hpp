// Program listings: --disasm, the kernel's instruction syntax with the C source lines of BTF line
// info, as `bpftool prog dump xlated linum` shows them. (--dump-jit is jit/listing.hpp's.)
#pragma once

#include "vm/loader/object.hpp"

#include <string>
#include <vector>

namespace ebpf::cli::run {

// One instruction as the verifier log prints it: "12: (bf) r6 = r1".
std::string insn_line(Insns insns, size_t index);

// A source line as the listings show it: "; return XDP_PASS; @ prog.c:12".
std::string source_comment(const LineInfo& line);

// The instructions with function names (func info) and source lines (line info) above the
// instructions they start at.
std::string disasm_listing(Insns insns, const std::vector<FuncInfo>& funcs,
                           const std::vector<LineInfo>& lines);

} // namespace ebpf::cli::run
