// Where the kernel's JIT translates one instruction at a time, some patterns of clang's output get
// better x86 code here:
//  - Address arithmetic. BPF has no indexed addressing, so clang computes addresses as
//    `rX = rA; rX += rB` (or `+= imm`). That pair becomes one lea; and when rX serves only as the
//    base of the loads and stores right after it and nothing reads it afterwards (jit/liveness),
//    those accesses address [rA + rB + imm + off] themselves and rX is never computed.
//  - A conditional jump over a `goto` (a loop's exit test): the inverted condition jumps to the
//    goto's target, and the goto goes.
//  - Rotations, which BPF spells `rT = rX; rT >>= r; rX <<= l; rX |= rT` (l + r the width):
//    one rol (rT still computed when read later).
//  - Multiplications by 2^k, 3, 5 and 9: a shift or an lea, faster than imul.
//  - Switches (jit/switch_tree): a jump table in front of the tree of compares.
// None fires across a jump target or a function's first instruction, where other paths enter.
// (Selects, `rX = a; if (cond) goto +1; rX = b`, stay branches: made setcc, log2's loop ran twice
// as slow, its branches being well predicted.)
#include "jit/x86_64/codegen.hpp"

#include <limits>

namespace ebpf::jit::x86_64 {

using asmjit::Imm;
using asmjit::Label;

namespace {

bool is_plain_access(Op op) {
    const uint8_t code = info(op).opcode;
    const uint8_t cls = bpf_class(code);
    const uint8_t mode = bpf_mode(code);
    return (cls == BPF_LDX && (mode == BPF_MEM || mode == BPF_MEMSX)) ||
           ((cls == BPF_ST || cls == BPF_STX) && mode == BPF_MEM);
}

bool fits_int32(int64_t v) {
    return v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max();
}

} // namespace

bool Codegen::entered_elsewhere(size_t i) const {
    return i >= targets_.size() || targets_[i].isValid() || functions_[i].isValid();
}

bool Codegen::emit_fused(size_t i) {
    const Slot& s = prog_.slots()[i];
    return emit_address(i) || emit_inverted_branch(i) || emit_rotate(i) || emit_small_multiply(s);
}

bool Codegen::emit_address(size_t i) {
    const auto& slots = prog_.slots();
    if (i + 1 >= slots.size() || entered_elsewhere(i + 1)) return false;
    const Slot& mov = slots[i];
    const Slot& add = slots[i + 1];
    const uint8_t x = mov.dst, a = mov.src;
    if (mov.op != Op::mov64_reg || x == a || add.dst != x) return false;
    std::optional<uint8_t> b;
    int64_t disp = 0;
    if (add.op == Op::add64_reg && add.src != x) {
        b = add.src;
    } else if (add.op == Op::add64_imm && !keys_) { // blinding keeps immediates out of the code
        disp = static_cast<int32_t>(add.imm);
    } else {
        return false;
    }

    // The accesses through rX that follow; the fold ends at one that writes rX, rA or rB.
    size_t last = i + 1;
    bool x_overwritten = false;
    for (size_t j = i + 2; j < slots.size() && !entered_elsewhere(j); ++j) {
        const Slot& s = slots[j];
        if (!is_plain_access(s.op)) break;
        const uint8_t cls = bpf_class(info(s.op).opcode);
        const uint8_t base = cls == BPF_LDX ? s.src : s.dst;
        if (base != x || !fits_int32(disp + s.off)) break;
        if (cls == BPF_STX && s.src == x) break; // stores rX's value: it must exist
        last = j;
        if (cls == BPF_LDX && (s.dst == x || s.dst == a || (b && s.dst == *b))) {
            x_overwritten = s.dst == x;
            break;
        }
    }

    skip_ = 1;
    const bool x_dead = x_overwritten || !(facts_.live[last] & (1u << x));
    if (last > i + 1 && x_dead) {
        fold_ = Fold{x, a, b, static_cast<int32_t>(disp), last};
        return true;
    }
    a_.lea(bpf_reg(x), b ? x86::ptr(bpf_reg(a), bpf_reg(*b))
                         : x86::ptr(bpf_reg(a), static_cast<int32_t>(disp)));
    return true;
}

bool Codegen::emit_inverted_branch(size_t i) {
    const auto& slots = prog_.slots();
    const Slot& s = slots[i];
    if (!is_jump(s.op) || s.op == Op::ja || s.op == Op::gotol) return false;
    if (static_cast<size_t>(s.off) != i + 2 || entered_elsewhere(i + 1)) return false;
    const Slot& go = slots[i + 1];
    if (go.op != Op::ja && go.op != Op::gotol) return false;
    emit_jump(s, true, targets_[static_cast<size_t>(go.off)]);
    skip_ = 1;
    return true;
}

bool Codegen::emit_rotate(size_t i) {
    const auto& slots = prog_.slots();
    if (i + 3 >= slots.size()) return false;
    for (size_t j = i + 1; j <= i + 3; ++j)
        if (entered_elsewhere(j)) return false;
    const Slot& mov = slots[i];
    const bool is64 = mov.op == Op::mov64_reg;
    if (!is64 && mov.op != Op::mov32_reg) return false;
    const uint8_t t = mov.dst, x = mov.src;
    const Slot &first = slots[i + 1], &second = slots[i + 2], &combine = slots[i + 3];
    const Op lsh = is64 ? Op::lsh64_imm : Op::lsh32_imm, rsh = is64 ? Op::rsh64_imm : Op::rsh32_imm;
    const Op orr = is64 ? Op::or64_reg : Op::or32_reg;
    const uint64_t width = is64 ? 64 : 32;
    // rT takes one shift, rX the other, and rX |= rT joins them.
    const bool t_right = first.op == rsh && second.op == lsh;
    const bool t_left = first.op == lsh && second.op == rsh;
    if (t == x || (!t_right && !t_left) || first.dst != t || second.dst != x || combine.op != orr ||
        combine.dst != x || combine.src != t)
        return false;
    if (first.imm == 0 || second.imm == 0 || first.imm + second.imm != width) return false;
    const uint64_t left = t_right ? second.imm : first.imm;
    if (facts_.live[i + 3] & (1u << t)) { // rT is read later: it gets its value too
        a_.mov(bpf_reg(t, is64), bpf_reg(x, is64));
        a_.emit(t_right ? x86::Inst::kIdShr : x86::Inst::kIdShl, bpf_reg(t, is64), Imm(first.imm));
    }
    a_.rol(bpf_reg(x, is64), Imm(left));
    skip_ = 3;
    return true;
}

bool Codegen::emit_small_multiply(const Slot& s) {
    const bool is64 = s.op == Op::mul64_imm;
    if (!is64 && s.op != Op::mul32_imm) return false;
    const auto imm = static_cast<int32_t>(s.imm);
    const x86::Gp dst = bpf_reg(s.dst, is64);
    if (imm == 3 || imm == 5 || imm == 9) {
        const uint32_t shift = imm == 3 ? 1 : imm == 5 ? 2 : 3;
        a_.lea(dst, x86::ptr(dst.r64(), dst.r64(), shift, 0, is64 ? 8 : 4));
        return true;
    }
    if (imm >= 2 && (imm & (imm - 1)) == 0) {
        a_.shl(dst, Imm(__builtin_ctz(static_cast<uint32_t>(imm))));
        return true;
    }
    return false;
}

// Values lo..hi go through the table; others fall through to the tree, which follows.
void Codegen::emit_switch_dispatch(size_t t) {
    const SwitchTree& tree = facts_.trees[t];
    const x86::Gp index = tree.is64 ? scratch2 : scratch2.r32();
    const Label in_tree = a_.newLabel();
    a_.mov(index, bpf_reg(tree.reg, tree.is64));
    if (tree.lo != 0) a_.sub(index, Imm(tree.lo));
    a_.cmp(index, Imm(tree.leaves.size() - 1));
    jump(in_tree, x86::CondCode::kA);
    a_.lea(scratch, x86::ptr(tables_[t]));
    a_.jmp(x86::ptr(scratch, scratch2, 3)); // a 32-bit index is zero-extended
    a_.bind(in_tree);
}

void Codegen::emit_switch_tables() {
    for (size_t t = 0; t < facts_.trees.size(); ++t) {
        a_.align(asmjit::AlignMode::kZero, 8);
        a_.bind(tables_[t]);
        for (uint32_t leaf : facts_.trees[t].leaves)
            a_.embedLabel(targets_[leaf], 8);
    }
}

x86::Mem Codegen::memory(uint8_t base, int32_t off, int size) const {
    const auto bytes = static_cast<uint32_t>(size);
    if (!fold_ || base != fold_->reg) return x86::ptr(bpf_reg(base), off, bytes);
    const int32_t disp = fold_->disp + off; // checked to fit when the fold was planned
    if (fold_->index) return x86::ptr(bpf_reg(fold_->base), bpf_reg(*fold_->index), 0, disp, bytes);
    return x86::ptr(bpf_reg(fold_->base), disp, bytes);
}

} // namespace ebpf::jit::x86_64
