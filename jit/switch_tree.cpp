#include "jit/switch_tree.hpp"

#include <algorithm>
#include <limits>

namespace ebpf::jit {
namespace {

bool is_conditional(Op op) {
    const uint8_t code = info(op).opcode;
    const uint8_t cls = bpf_class(code);
    const uint8_t jop = bpf_op(code);
    return (cls == BPF_JMP || cls == BPF_JMP32) && jop != BPF_JA && jop != BPF_CALL &&
           jop != BPF_EXIT;
}

// A compare of `reg` with a constant, in the given width.
bool is_node(const Slot& s, uint8_t reg, bool is64) {
    const uint8_t code = info(s.op).opcode;
    return is_conditional(s.op) && bpf_srcbit(code) == BPF_K && s.dst == reg &&
           (bpf_class(code) == BPF_JMP) == is64;
}

// Whether the compare at `s` jumps for register value v (already in the compare's width).
bool taken(const Slot& s, uint64_t v, bool is64) {
    const uint8_t op = bpf_op(info(s.op).opcode);
    uint64_t a = v, b = s.imm; // imm is sign-extended to 64 bits
    int64_t sa = static_cast<int64_t>(a), sb = static_cast<int64_t>(b);
    if (!is64) {
        a = static_cast<uint32_t>(a);
        b = static_cast<uint32_t>(b);
        sa = static_cast<int32_t>(a);
        sb = static_cast<int32_t>(b);
    }
    switch (op) {
    case BPF_JEQ: return a == b;
    case BPF_JNE: return a != b;
    case BPF_JGT: return a > b;
    case BPF_JGE: return a >= b;
    case BPF_JLT: return a < b;
    case BPF_JLE: return a <= b;
    case BPF_JSGT: return sa > sb;
    case BPF_JSGE: return sa >= sb;
    case BPF_JSLT: return sa < sb;
    case BPF_JSLE: return sa <= sb;
    default: return (a & b) != 0; // BPF_JSET
    }
}

} // namespace

std::vector<SwitchTree> find_switch_trees(const Program& prog, size_t min_compares,
                                          size_t max_values) {
    const auto& slots = prog.slots();
    const size_t n = slots.size();
    std::vector<bool> in_tree(n, false);
    std::vector<SwitchTree> trees;
    for (size_t root = 0; root < n; ++root) {
        const Slot& r = slots[root];
        if (in_tree[root] || !is_conditional(r.op) || bpf_srcbit(info(r.op).opcode) != BPF_K)
            continue;
        const bool is64 = bpf_class(info(r.op).opcode) == BPF_JMP;
        const uint8_t reg = r.dst;
        // The compares reachable from the root through compares alone.
        std::vector<size_t> nodes{root}, work{root};
        std::vector<bool> seen(n, false);
        seen[root] = true;
        while (!work.empty()) {
            const size_t k = work.back();
            work.pop_back();
            for (size_t next : {k + 1, static_cast<size_t>(slots[k].off)}) {
                if (next >= n || seen[next] || !is_node(slots[next], reg, is64)) continue;
                seen[next] = true;
                nodes.push_back(next);
                work.push_back(next);
            }
        }
        if (nodes.size() < min_compares) continue;
        int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
        for (size_t k : nodes) {
            const auto imm = static_cast<int64_t>(static_cast<int32_t>(slots[k].imm));
            lo = std::min(lo, imm);
            hi = std::max(hi, imm);
        }
        if (hi - lo + 1 > static_cast<int64_t>(max_values)) continue;
        // Each value's way through the tree. A value that meets a compare twice loops forever
        // among them, and one that runs off the end is no program's: no table then.
        SwitchTree tree{static_cast<uint32_t>(root), reg, is64, lo, {}};
        bool usable = true;
        for (int64_t v = lo; v <= hi && usable; ++v) {
            size_t at = root, steps = 0;
            while (at < n && seen[at] && steps++ <= nodes.size())
                at = taken(slots[at], static_cast<uint64_t>(v), is64)
                         ? static_cast<size_t>(slots[at].off)
                         : at + 1;
            usable = at < n && !seen[at];
            tree.leaves.push_back(static_cast<uint32_t>(at));
        }
        if (!usable) continue;
        for (size_t k : nodes)
            in_tree[k] = true;
        trees.push_back(std::move(tree));
    }
    return trees;
}

} // namespace ebpf::jit
