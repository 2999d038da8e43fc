// Precision tracking (the kernel's mark_chain_precision and backtrack_insn). A checkpoint prunes
// a later path even where their scalars differ, unless the scalar is marked precise there: some
// safety decision of a path explored from the checkpoint (a pointer offset, a helper's size
// argument, a branch the verifier took one way only, a return value range) depended on its value.
// At each such decision the register it read is traced back along the path's instructions, one
// checkpoint segment after the other, to the registers and spilled stack slots its value came
// from, and those are marked precise in the checkpoints on the way. When a path is pruned, the
// precise marks of the checkpoint that pruned it are traced back along the pruned path the same
// way, since what comes after relied on them.
#include "verifier/env.hpp"

#include <algorithm>
#include <span>

namespace ebpf::verifier {

// The registers and stack slots, per frame, whose values are being traced back.
struct Backtrack {
    std::array<uint16_t, MAX_CALL_FRAMES> regs{};
    std::array<uint64_t, MAX_CALL_FRAMES> slots{};

    bool empty() const {
        for (size_t f = 0; f < MAX_CALL_FRAMES; ++f)
            if (regs[f] || slots[f]) return false;
        return true;
    }
    bool reg(uint32_t f, uint32_t r) const { return regs[f] >> r & 1; }
    void set(uint32_t f, uint32_t r) { regs[f] = static_cast<uint16_t>(regs[f] | 1u << r); }
    void clear(uint32_t f, uint32_t r) { regs[f] = static_cast<uint16_t>(regs[f] & ~(1u << r)); }
};

namespace {

constexpr uint16_t arg_regs = 0x3e; // R1-R5

bool has(const Backtrack& bt, RegRef r) {
    return r.stack ? bt.slots[r.frame] >> r.index & 1 : bt.reg(r.frame, r.index);
}

// A branch refined the scalars linked to the compared ones together: if one of them matters,
// all do (the kernel's bt_sync_linked_regs). False where the branch linked more than it noted.
bool sync_linked_regs(const HistEntry& e, Backtrack& bt) {
    if (e.nlinked == HistEntry::too_many_linked) return bt.empty();
    const auto linked = std::span(e.linked).first(e.nlinked);
    if (std::none_of(linked.begin(), linked.end(), [&](RegRef r) { return has(bt, r); }))
        return true;
    for (RegRef r : linked) {
        if (r.stack)
            bt.slots[r.frame] |= 1ULL << r.index;
        else
            bt.set(r.frame, r.index);
    }
    return true;
}

// The mask before instruction e ran, from the mask after it (`later` ran next, if anything did).
// False where the trace cannot follow (the caller then marks every scalar precise).
bool backtrack_insn(const Insn& insn, const HistEntry& e, const HistEntry* later, Backtrack& bt) {
    const uint32_t f = e.frame;
    const uint8_t cls = bpf_class(insn.opcode);
    const uint8_t op = bpf_op(insn.opcode);
    const bool is_x = bpf_srcbit(insn.opcode) == BPF_X;
    switch (cls) {
    case BPF_ALU:
    case BPF_ALU64:
        if (!bt.reg(f, insn.dst)) return true;
        if (op == BPF_MOV) {
            bt.clear(f, insn.dst);
            if (is_x) bt.set(f, insn.src);
        } else if (is_x && op != BPF_END && op != BPF_NEG) {
            bt.set(f, insn.src); // dst op= src: both made the result
        }
        return true;
    case BPF_LDX:
        if (!bt.reg(f, insn.dst)) return true;
        bt.clear(f, insn.dst);
        // Only a stack slot can have held a scalar the verifier knew something about.
        if (e.stack_frame >= 0) bt.slots[static_cast<size_t>(e.stack_frame)] |= 1ULL << e.spi;
        return true;
    case BPF_ST:
    case BPF_STX: {
        const bool slot =
            e.stack_frame >= 0 && (bt.slots[static_cast<size_t>(e.stack_frame)] >> e.spi & 1);
        if (bpf_mode(insn.opcode) == BPF_ATOMIC) {
            // A fetch loads into src (R0 for cmpxchg); the slot mixes old and new values.
            const bool fetched =
                (insn.imm & BPF_FETCH) && bt.reg(f, insn.imm == BPF_CMPXCHG ? 0 : insn.src);
            return !slot && !fetched;
        }
        if (!slot) return true;
        bt.slots[static_cast<size_t>(e.stack_frame)] &= ~(1ULL << e.spi);
        if (cls == BPF_STX) bt.set(f, insn.src);
        return true;
    }
    case BPF_JMP:
    case BPF_JMP32:
        if (op == BPF_CALL) {
            const bool entered = later && later->frame == f + 1;
            if (insn.src == BPF_PSEUDO_CALL) {
                // Into the callee: its arguments were the caller's R1-R5.
                if (!entered || (bt.regs[f + 1] & ~arg_regs) || bt.slots[f + 1]) return false;
                bt.regs[f] = static_cast<uint16_t>(bt.regs[f] | bt.regs[f + 1]);
                bt.regs[f + 1] = 0;
                return true;
            }
            if (entered) {
                // A callback's start: its arguments come from the verifier, not from registers.
                if (bt.slots[f + 1]) return false;
                bt.regs[f + 1] = 0;
                return true;
            }
            // A helper returned: R0 is its result; R1-R5 are unreadable after it.
            bt.clear(f, BPF_REG_0);
            return !(bt.regs[f] & arg_regs);
        }
        if (op == BPF_EXIT) {
            if (!later || uint32_t{later->frame} + 1 != f) return true;
            // Back from a callback to its helper call: nothing but memory carries over. Back
            // from a function: the caller's R0 is its R0.
            const uint32_t caller = later->frame;
            if (bt.regs[caller] & arg_regs) return false;
            if (!e.callback_exit && bt.reg(caller, BPF_REG_0)) {
                bt.clear(caller, BPF_REG_0);
                bt.set(f, BPF_REG_0);
            }
            return true;
        }
        if (op == BPF_JA || !is_x) return true;
        // dst and src bounded each other at a comparison: both matter if either does.
        if (bt.reg(f, insn.dst) || bt.reg(f, insn.src)) {
            bt.set(f, insn.dst);
            bt.set(f, insn.src);
        }
        return true;
    case BPF_LD:
        // lddw sets dst to a constant or pointer; LD_ABS/LD_IND set R0 from the packet.
        bt.clear(f, bpf_mode(insn.opcode) == BPF_IMM ? insn.dst : BPF_REG_0);
        return !(bpf_mode(insn.opcode) != BPF_IMM && (bt.regs[f] & arg_regs));
    }
    return false;
}

} // namespace

void Env::backtrack(Backtrack& bt, bool skip_first) {
    const std::vector<HistEntry>* hist = &cur_.history;
    size_t i = hist->size();
    const HistEntry* later = nullptr;
    if (skip_first && i > 0) later = &(*hist)[--i];
    for (StateNode* st = cur_.parent.get();; st = st->state.parent.get()) {
        while (i > 0) {
            const HistEntry& e = (*hist)[--i];
            if (!sync_linked_regs(e, bt) || !backtrack_insn(insns_[e.idx], e, later, bt) ||
                !sync_linked_regs(e, bt))
                return mark_all_scalars_precise();
            if (bt.empty()) return;
            later = &e;
        }
        if (!st) return; // the program's start: no scalars there
        // The checkpoint this segment started from: what is traced is needed there.
        VerifierState& s = st->state;
        for (uint32_t f = 0; f < MAX_CALL_FRAMES; ++f) {
            if (!bt.regs[f] && !bt.slots[f]) continue;
            if (f > s.curframe) return mark_all_scalars_precise();
            FuncState& frame = *s.frames[f];
            for (uint32_t r = 0; r < MAX_BPF_REG; ++r) {
                if (!bt.reg(f, r)) continue;
                RegState& reg = frame.regs[r];
                // Already precise: its own history was traced when it became so.
                if (reg.type != RegType::scalar || reg.precise)
                    bt.clear(f, r);
                else
                    reg.precise = true;
            }
            for (uint32_t spi = 0; spi < 64; ++spi) {
                if (!(bt.slots[f] >> spi & 1)) continue;
                StackSlot* slot = spi < frame.stack.size() ? &frame.stack[spi] : nullptr;
                if (!slot || slot->slot_type[7] != SlotType::spill ||
                    slot->spilled_ptr.type != RegType::scalar || slot->spilled_ptr.precise)
                    bt.slots[f] &= ~(1ULL << spi);
                else
                    slot->spilled_ptr.precise = true;
            }
        }
        if (bt.empty()) return;
        hist = &st->history;
        i = hist->size();
    }
}

int Env::mark_chain_precision(uint32_t regno) {
    // Unprivileged, every scalar is compared as precise (the kernel's !bpf_capable).
    if (!opts_.privileged || cur_.cur().regs[regno].type != RegType::scalar) return 0;
    Backtrack bt;
    bt.set(cur_.curframe, regno);
    backtrack(bt, true);
    return 0;
}

void Env::mark_stack_slot_precision(uint32_t frameno, uint32_t spi) {
    if (!opts_.privileged) return;
    Backtrack bt;
    bt.slots[frameno] |= 1ULL << spi;
    backtrack(bt, true);
}

void Env::propagate_precision(const StateNode& node) {
    if (!opts_.privileged) return;
    Backtrack bt;
    const VerifierState& old = node.state;
    for (uint32_t f = 0; f <= old.curframe; ++f) {
        const FuncState& o = *old.frames[f];
        const FuncState& c = *cur_.frames[f];
        for (uint32_t r = 0; r < MAX_BPF_REG; ++r)
            if (o.regs[r].type == RegType::scalar && o.regs[r].precise &&
                c.regs[r].type == RegType::scalar)
                bt.set(f, r);
        for (size_t spi = 0; spi < o.stack.size() && spi < c.stack.size(); ++spi) {
            const StackSlot& s = o.stack[spi];
            if (s.slot_type[7] == SlotType::spill && s.spilled_ptr.type == RegType::scalar &&
                s.spilled_ptr.precise)
                bt.slots[f] |= 1ULL << spi;
        }
    }
    if (!bt.empty()) backtrack(bt, false);
}

void Env::mark_all_scalars_precise() {
    for (StateNode* st = cur_.parent.get(); st; st = st->state.parent.get()) {
        for (auto& frame : st->state.frames) {
            for (RegState& reg : frame->regs)
                if (reg.type == RegType::scalar) reg.precise = true;
            for (StackSlot& slot : frame->stack)
                if (slot.slot_type[7] == SlotType::spill &&
                    slot.spilled_ptr.type == RegType::scalar)
                    slot.spilled_ptr.precise = true;
        }
    }
}

} // namespace ebpf::verifier
