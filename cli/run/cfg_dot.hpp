// --cfg: the program's control-flow graph in Graphviz syntax, as `bpftool prog dump xlated
// visual` draws it: one cluster per subprogram with ENTRY and EXIT nodes, basic blocks holding
// their instructions (and source lines), true and false edges out of conditional jumps.
#pragma once

#include "vm/loader/object.hpp"

#include <string>
#include <vector>

namespace ebpf::cli::run {

// The graph of a program the validator accepted (jump targets in range); funcs name the
// subprogram clusters, lines annotate the blocks.
std::string cfg_dot(Insns insns, const std::vector<FuncInfo>& funcs,
                    const std::vector<LineInfo>& lines);

} // namespace ebpf::cli::run
