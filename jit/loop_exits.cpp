#include "jit/loop_exits.hpp"

namespace ebpf::jit {
namespace {

// Longer blocks gain nothing worth the jump out of line they cost when they do run.
constexpr size_t max_block = 32;

bool is_goto(Op op) {
    return op == Op::ja || op == Op::gotol;
}

bool is_branch(Op op) {
    const uint8_t code = info(op).opcode;
    const uint8_t cls = bpf_class(code);
    return (cls == BPF_JMP || cls == BPF_JMP32) && bpf_op(code) != BPF_CALL &&
           bpf_op(code) != BPF_EXIT;
}

} // namespace

std::vector<uint32_t> loop_exits(const Program& prog, const std::vector<uint32_t>& functions) {
    const auto& slots = prog.slots();
    const size_t n = slots.size();
    // Where other paths enter: jump targets and functions' first instructions.
    std::vector<bool> entered(n + 1, false);
    for (uint32_t f : functions)
        entered[f] = true;
    std::vector<bool> second_slot(n, false);
    for (size_t i = 0; i < n; ++i) {
        if (is_branch(slots[i].op)) entered[static_cast<size_t>(slots[i].off)] = true;
        if (slots[i].op == Op::lddw && i + 1 < n) second_slot[++i] = true;
    }
    std::vector<uint32_t> exits(n, 0);
    for (size_t i = 0; i < n; ++i) {
        const Slot& s = slots[i];
        if (second_slot[i] || !is_branch(s.op) || is_goto(s.op)) continue;
        const auto end = static_cast<size_t>(s.off);
        if (end < i + 2 || end - i - 1 > max_block) continue;
        // The block: entered from i alone, ending in a goto or an exit.
        bool alone = true;
        size_t last = i + 1;
        for (size_t j = i + 1; j < end; ++j) {
            if (entered[j]) alone = false;
            if (!second_slot[j]) last = j;
        }
        const Op leave = slots[last].op;
        if (!alone || (leave != Op::exit && !is_goto(leave))) continue;
        // The innermost loop around i: the first back edge at or past the target that jumps to
        // i or before it. The block must leave it: exit, or a goto past the back edge.
        for (size_t e = end; e < n; ++e) {
            const Slot& back = slots[e];
            if (second_slot[e] || !is_branch(back.op) || static_cast<size_t>(back.off) > i)
                continue;
            if (leave == Op::exit || static_cast<size_t>(slots[last].off) > e)
                exits[i] = static_cast<uint32_t>(end);
            break;
        }
    }
    return exits;
}

std::vector<bool> loop_heads(const Program& prog, const std::vector<uint32_t>& exits) {
    const auto& slots = prog.slots();
    const size_t n = slots.size();
    std::vector<bool> leaving(n, false), heads(n, false);
    for (size_t i = 0; i < n; ++i)
        for (size_t j = i + 1; j < exits[i]; ++j)
            leaving[j] = true;
    for (size_t i = 0; i < n; ++i) {
        const auto t = static_cast<size_t>(slots[i].off);
        if (is_branch(slots[i].op) && !leaving[i] && t <= i) heads[t] = true;
        if (slots[i].op == Op::lddw) ++i;
    }
    return heads;
}

} // namespace ebpf::jit
