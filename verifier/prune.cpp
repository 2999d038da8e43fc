// Checkpoints and pruning (the kernel's is_state_visited and states_equal): a path that reaches
// a prune point in a state no more permissive than one already proven safe there stops; a path
// that comes back to a state of its own, unchanged, is an infinite loop.
#include "verifier/env.hpp"

#include <algorithm>

namespace ebpf::verifier {
namespace {

bool range_within(const RegState& old, const RegState& cur) {
    return old.umin <= cur.umin && old.umax >= cur.umax && old.smin <= cur.smin &&
           old.smax >= cur.smax && old.u32_min <= cur.u32_min && old.u32_max >= cur.u32_max &&
           old.s32_min <= cur.s32_min && old.s32_max >= cur.s32_max;
}

// Ids must map one to one between the two states for null checks and references to carry over.
struct IdMap {
    std::vector<std::pair<uint32_t, uint32_t>> pairs;
    bool check(uint32_t old_id, uint32_t cur_id) {
        if (!!old_id != !!cur_id) return false;
        if (!old_id) return true;
        for (auto [o, c] : pairs) {
            if (o == old_id) return c == cur_id;
            if (c == cur_id) return false;
        }
        pairs.emplace_back(old_id, cur_id);
        return true;
    }
    // Scalars: an unlinked one (id 0) is linked to nothing else, as if its id were fresh (the
    // kernel's check_scalar_ids).
    bool check_scalar(uint32_t old_id, uint32_t cur_id) {
        if (!old_id) old_id = ++tmp_id;
        if (!cur_id) cur_id = ++tmp_id;
        return check(old_id, cur_id);
    }
    uint32_t tmp_id = 1u << 31; // above any id the verifier hands out
};

bool regs_identical(const RegState& a, const RegState& b) {
    return a.type == b.type && a.flags == b.flags && a.off == b.off && a.range == b.range &&
           a.map == b.map && a.inner_map == b.inner_map && a.frameno == b.frameno &&
           a.mem_size == b.mem_size && a.subprog == b.subprog && a.var_off == b.var_off &&
           a.smin == b.smin && a.smax == b.smax && a.umin == b.umin && a.umax == b.umax &&
           a.s32_min == b.s32_min && a.s32_max == b.s32_max && a.u32_min == b.u32_min &&
           a.u32_max == b.u32_max;
}

// How scalars are compared: only precise ones by their bounds (not_exact), all by their bounds
// (range_within), or all for equality (strict: the kernel's explore_alu_limits).
enum class Exactness { not_exact, range_within, strict };

bool scalars_identical(const RegState& a, const RegState& b) {
    return a.var_off == b.var_off && a.smin == b.smin && a.smax == b.smax && a.umin == b.umin &&
           a.umax == b.umax && a.s32_min == b.s32_min && a.s32_max == b.s32_max &&
           a.u32_min == b.u32_min && a.u32_max == b.u32_max;
}

bool regsafe(const RegState& old, const RegState& cur, IdMap& ids, Exactness exact) {
    if (old.type == RegType::not_init) return true; // the explored path never read it
    if (cur.type == RegType::not_init) return false;
    if (old.type != cur.type || old.flags != cur.flags) return false;
    switch (old.type) {
    case RegType::scalar:
        if (exact == Exactness::strict)
            return scalars_identical(old, cur) && ids.check_scalar(old.id, cur.id);
        // Nothing the old paths decided depended on its value.
        if (!old.precise && exact == Exactness::not_exact) return true;
        // Copies linked by an id share what branches learn; the old path may have relied on it.
        if (!ids.check_scalar(old.id, cur.id)) return false;
        return range_within(old, cur) && tnum_in(old.var_off, cur.var_off);
    case RegType::ptr_to_packet:
    case RegType::ptr_to_packet_meta:
        // A pkt_end marker is a fact of its own: it must be the same.
        if ((old.range < 0 || cur.range < 0) ? old.range != cur.range : old.range > cur.range)
            return false;
        if (old.off != cur.off) return false;
        if (!ids.check(old.id, cur.id)) return false;
        return range_within(old, cur) && tnum_in(old.var_off, cur.var_off);
    default:
        if (old.map != cur.map || old.inner_map != cur.inner_map || old.off != cur.off ||
            old.frameno != cur.frameno || old.mem_size != cur.mem_size ||
            old.subprog != cur.subprog)
            return false;
        if (!ids.check(old.id, cur.id) || !ids.check(old.ref_obj_id, cur.ref_obj_id)) return false;
        return range_within(old, cur) && tnum_in(old.var_off, cur.var_off);
    }
}

// A slot as a scalar, where it holds one: a spilled scalar, or 8 bytes of unknown data (the
// kernel's scalar_reg_for_stack); null otherwise.
const RegState* scalar_in_slot(const StackSlot& s, bool privileged) {
    static const RegState unbound = [] {
        RegState r;
        mark_unknown(r);
        return r;
    }();
    if (s.slot_type[7] == SlotType::spill) {
        const bool whole = std::all_of(s.slot_type.begin(), s.slot_type.end(),
                                       [](SlotType t) { return t == SlotType::spill; });
        return whole && s.spilled_ptr.type == RegType::scalar ? &s.spilled_ptr : nullptr;
    }
    const bool all_misc = std::all_of(s.slot_type.begin(), s.slot_type.end(), [&](SlotType t) {
        return t == SlotType::misc || (t == SlotType::invalid && privileged);
    });
    return all_misc ? &unbound : nullptr;
}

bool stacksafe(const FuncState& old, const FuncState& cur, IdMap& ids, bool privileged,
               const SlotSet& read, Exactness exact) {
    for (size_t i = 0; i < old.stack.size(); ++i) {
        if (!read[slot_key(old.frameno, i)]) continue; // no path from the old state read it
        const StackSlot& o = old.stack[i];
        const StackSlot* c = i < cur.stack.size() ? &cur.stack[i] : nullptr;
        // A spilled scalar against unknown bytes, or the other way round: compared as scalars.
        const RegState* old_scalar = scalar_in_slot(o, privileged);
        const RegState* cur_scalar = c ? scalar_in_slot(*c, privileged) : nullptr;
        if (old_scalar && cur_scalar) {
            if (!regsafe(*old_scalar, *cur_scalar, ids, exact)) return false;
            continue;
        }
        for (size_t b = 0; b < 8; ++b) {
            const SlotType ot = o.slot_type[b];
            const SlotType ct = c ? c->slot_type[b] : SlotType::invalid;
            if (ot == SlotType::invalid) continue;
            if (ot == SlotType::misc && (ct != SlotType::invalid || privileged)) continue;
            if (ot != ct) return false;
        }
        if (o.slot_type[7] == SlotType::spill &&
            !regsafe(o.spilled_ptr, c->spilled_ptr, ids, exact))
            return false;
    }
    return true;
}

} // namespace

bool Env::states_identical(const VerifierState& a, const VerifierState& b,
                           uint32_t insn_idx) const {
    if (a.curframe != b.curframe || a.refs.size() != b.refs.size()) return false;
    for (size_t f = 0; f <= a.curframe; ++f) {
        const FuncState& x = *a.frames[f];
        const FuncState& y = *b.frames[f];
        if (x.callsite != y.callsite || x.callback_depth != y.callback_depth) return false;
        const uint32_t at =
            f == a.curframe ? insn_idx : static_cast<uint32_t>(a.frames[f + 1]->callsite) + 1;
        const uint16_t live = at < live_in_.size() ? live_in_[at] : 0x7ff;
        for (int r = 0; r < MAX_BPF_REG; ++r)
            if ((live >> r & 1) && !regs_identical(x.regs[r], y.regs[r])) return false;
        const size_t slots = std::max(x.stack.size(), y.stack.size());
        for (size_t i = 0; i < slots; ++i) {
            const StackSlot empty{};
            const StackSlot& p = i < x.stack.size() ? x.stack[i] : empty;
            const StackSlot& q = i < y.stack.size() ? y.stack[i] : empty;
            if (p.slot_type != q.slot_type) return false;
            if (p.slot_type[7] == SlotType::spill && !regs_identical(p.spilled_ptr, q.spilled_ptr))
                return false;
        }
    }
    return true;
}

bool Env::states_equal(const StateNode& node, const VerifierState& cur, uint32_t insn_idx,
                       bool exact) const {
    const VerifierState& old = node.state;
    // Unprivileged, every scalar is precise (the kernel's !bpf_capable).
    const Exactness e = explore_alu_limits_                        ? Exactness::strict
                        : exact || node.exact || !opts_.privileged ? Exactness::range_within
                                                                   : Exactness::not_exact;
    if (old.curframe != cur.curframe || old.active_spin_lock_id != cur.active_spin_lock_id ||
        old.active_spin_lock_map != cur.active_spin_lock_map)
        return false;
    if (old.refs.size() != cur.refs.size()) return false;
    IdMap ids;
    for (size_t i = 0; i < old.refs.size(); ++i)
        if (!ids.check(old.refs[i].id, cur.refs[i].id)) return false;
    for (size_t f = 0; f <= old.curframe; ++f) {
        const FuncState& o = *old.frames[f];
        const FuncState& c = *cur.frames[f];
        if (o.callsite != c.callsite || o.in_callback_fn != c.in_callback_fn) return false;
        if (o.callback_depth > c.callback_depth) return false;
        // A frame below the current one resumes after its call instruction.
        const uint32_t at =
            f == old.curframe ? insn_idx : static_cast<uint32_t>(old.frames[f + 1]->callsite) + 1;
        const uint16_t live = at < live_in_.size() ? live_in_[at] : 0x7ff;
        for (int r = 0; r < MAX_BPF_REG; ++r)
            if ((live >> r & 1) && !regsafe(o.regs[r], c.regs[r], ids, e)) return false;
        if (!stacksafe(o, c, ids, opts_.privileged, node.read, e)) return false;
    }
    return true;
}

int Env::is_state_visited(uint32_t insn_idx) {
    // Checkpoints every few jumps are enough for pruning (the kernel's heuristic), but a long
    // history since the last one forces one.
    const bool force_new_state =
        opts_.test_state_freq || force_checkpoint_[insn_idx] || cur_.jmp_history_cnt > 40;
    bool add_new_state = force_new_state || (jmps_processed_ - prev_jmps_processed_ >= 2 &&
                                             insn_processed_ - prev_insn_processed_ >= 8);
    // A state that keeps missing costs time on every visit: it is dropped. Misses count only
    // where a new state is added, so that the iterations of a loop do not evict the states of
    // its first and last ones; the checkpoints a callback's iterations converge on last longer.
    const auto missed = [&](StateNode& node) {
        const uint32_t n = force_checkpoint_[insn_idx] && node.branches > 0 ? 64 : 3;
        return add_new_state && ++node.miss_cnt > node.hit_cnt * n + n;
    };
    // The states at this instruction, newest first (as the kernel's explored list): those still
    // being explored (loops may come back to them) and those finished, which prune.
    auto& states = states_[insn_idx];
    const Insn& here = insns_[insn_idx];
    const bool calls_callback = here.opcode == (BPF_JMP | BPF_CALL) && here.src == 0 &&
                                (here.imm == 181 || here.imm == 164);
    for (size_t k = states.size(); k-- > 0;) {
        StateNode& node = *states[k];
        if (node.branches == 0) {
            if (states_equal(node, cur_, insn_idx, false)) {
                node.hit_cnt++;
                propagate_precision(node);
                return 1;
            }
        } else {
            if (calls_callback) {
                // Coming back to a state still being explored at a call that runs a callback:
                // the iterations converged, nothing new can happen (the kernel's
                // calls_callback rule). That state's precision marks are not final: scalars
                // are compared whole, and the checkpoints of this path may now lack marks.
                if (states_equal(node, cur_, insn_idx, true)) {
                    node.hit_cnt++;
                    propagate_precision(node);
                    for (StateNode* n = cur_.parent.get(); n; n = n->state.parent.get())
                        n->exact = true;
                    return 1;
                }
            } else if (states_identical(node.state, cur_, insn_idx)) {
                // Back to a state of its own, unchanged: a loop that never ends.
                verbose("infinite loop detected at insn %u\n", insn_idx);
                verbose("cur state:%s\n", state_str(cur_).c_str());
                return reject(-EINVAL_, "old state:%s", state_str(node.state).c_str());
            }
            // Loop iterations differ; checkpointing every one would not help pruning.
            if (!force_new_state && jmps_processed_ - prev_jmps_processed_ < 20 &&
                insn_processed_ - prev_insn_processed_ < 100)
                add_new_state = false;
        }
        if (missed(node)) states.erase(states.begin() + static_cast<std::ptrdiff_t>(k));
    }
    if (!add_new_state) return 0;
    prev_jmps_processed_ = jmps_processed_;
    prev_insn_processed_ = insn_processed_;
    auto node = std::make_shared<StateNode>();
    node->history = std::move(cur_.history);
    cur_.history.clear();
    cur_.jmp_history_cnt = 0;
    node->state = cur_;
    node->insn_idx = insn_idx;
    node->branches = 1;
    node->written = cur_.written;
    cur_.written.reset();
    cur_.parent = node;
    states.push_back(node);
    ++total_states_;
    peak_states_ = total_states_; // explored states are kept until the end
    max_states_per_insn_ =
        std::max<uint32_t>(max_states_per_insn_, static_cast<uint32_t>(states.size()));
    return 0;
}

} // namespace ebpf::verifier

namespace ebpf::verifier {

void Env::mark_stack_read(uint32_t frameno, int64_t lo, int64_t hi) {
    // Up the checkpoints of this path, until a segment that wrote the slot whole.
    if (lo >= hi) return;
    for (int64_t spi = -hi / 8; spi <= (-lo - 1) / 8; ++spi) {
        const size_t key = slot_key(frameno, static_cast<size_t>(spi));
        if (cur_.written[key]) continue;
        for (StateNode* n = cur_.parent.get(); n; n = n->state.parent.get()) {
            if (n->read[key]) break; // already marked further up
            n->read.set(key);
            if (n->written[key]) break;
        }
    }
}

void Env::mark_stack_written(uint32_t frameno, int off, int size) {
    if (size == 8 && off % 8 == 0)
        cur_.written.set(slot_key(frameno, static_cast<size_t>((-off - 1) / 8)));
}

} // namespace ebpf::verifier
