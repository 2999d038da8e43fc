#include "jit/analysis.hpp"

#include "jit/liveness.hpp"
#include "jit/loop_exits.hpp"
#include "jit/stack_usage.hpp"

namespace ebpf::jit {

ProgramFacts analyze(const Program& prog, bool switch_tables) {
    const auto& slots = prog.slots();
    const size_t n = slots.size();
    std::vector<bool> starts(n, false);
    starts[0] = true;
    for (size_t i = 0; i < n; ++i) {
        const Slot& s = slots[i];
        if (s.op == Op::call_local) starts[static_cast<size_t>(s.off)] = true;
        if (s.op == Op::lddw) {
            if (s.src == BPF_PSEUDO_FUNC && s.imm < n) starts[static_cast<size_t>(s.imm)] = true;
            ++i;
        }
    }
    ProgramFacts facts;
    for (size_t i = 0; i < n; ++i)
        if (starts[i]) facts.functions.push_back(static_cast<uint32_t>(i));
    facts.zero = stack_to_zero(prog, facts.functions);
    facts.live = live_out(prog);
    if (switch_tables) facts.trees = find_switch_trees(prog);
    facts.loop_exits = loop_exits(prog, facts.functions);
    facts.loop_heads = loop_heads(prog, facts.loop_exits);
    return facts;
}

} // namespace ebpf::jit
