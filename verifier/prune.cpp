// Checkpoints and pruning (the kernel's is_state_visited and states_equal): a path that reaches
// a prune point in a state no more permissive than one already proven safe there stops; a path
// that comes back to a state of its own, unchanged, is an infinite loop.
#include "verifier/env.hpp"

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
};

bool regsafe(const RegState& old, const RegState& cur, IdMap& ids, bool exact) {
    if (exact) {
        if (old.type != cur.type || old.flags != cur.flags) return false;
        return old.type == RegType::not_init ||
               (old.var_off == cur.var_off && old.off == cur.off && old.smin == cur.smin &&
                old.smax == cur.smax && old.umin == cur.umin && old.umax == cur.umax &&
                old.s32_min == cur.s32_min && old.s32_max == cur.s32_max &&
                old.u32_min == cur.u32_min && old.u32_max == cur.u32_max && old.map == cur.map &&
                old.range == cur.range && old.frameno == cur.frameno && ids.check(old.id, cur.id) &&
                ids.check(old.ref_obj_id, cur.ref_obj_id));
    }
    if (old.type == RegType::not_init) return true; // the explored path never read it
    if (cur.type == RegType::not_init) return false;
    if (old.type != cur.type || old.flags != cur.flags) return false;
    switch (old.type) {
    case RegType::scalar:
        // Copies linked by an id share what branches learn; the old path may have relied on it.
        if (old.id && !ids.check(old.id, cur.id)) return false;
        return range_within(old, cur) && tnum_in(old.var_off, cur.var_off);
    case RegType::ptr_to_packet:
    case RegType::ptr_to_packet_meta:
        if (old.range > cur.range) return false;
        if (old.off != cur.off) return false;
        if (!ids.check(old.id, cur.id)) return false;
        return range_within(old, cur) && tnum_in(old.var_off, cur.var_off);
    default:
        if (old.map != cur.map || old.off != cur.off || old.frameno != cur.frameno ||
            old.mem_size != cur.mem_size || old.subprog != cur.subprog)
            return false;
        if (!ids.check(old.id, cur.id) || !ids.check(old.ref_obj_id, cur.ref_obj_id)) return false;
        return range_within(old, cur) && tnum_in(old.var_off, cur.var_off);
    }
}

bool stacksafe(const FuncState& old, const FuncState& cur, IdMap& ids, bool exact,
               bool privileged) {
    for (size_t i = 0; i < old.stack.size(); ++i) {
        const StackSlot& o = old.stack[i];
        const StackSlot* c = i < cur.stack.size() ? &cur.stack[i] : nullptr;
        for (size_t b = 0; b < 8; ++b) {
            const SlotType ot = o.slot_type[b];
            const SlotType ct = c ? c->slot_type[b] : SlotType::invalid;
            if (exact) {
                if (ot != ct) return false;
                continue;
            }
            if (ot == SlotType::invalid) continue;
            if (ot == SlotType::misc && (ct != SlotType::invalid || privileged)) continue;
            if (ot != ct) return false;
        }
        if (o.slot_type[7] == SlotType::spill &&
            !regsafe(o.spilled_ptr, c->spilled_ptr, ids, exact))
            return false;
    }
    if (exact && cur.stack.size() > old.stack.size()) {
        for (size_t i = old.stack.size(); i < cur.stack.size(); ++i)
            for (auto t : cur.stack[i].slot_type)
                if (t != SlotType::invalid) return false;
    }
    return true;
}

} // namespace

bool Env::states_equal(const VerifierState& old, const VerifierState& cur, bool exact) const {
    if (old.curframe != cur.curframe || old.active_spin_lock_id != cur.active_spin_lock_id)
        return false;
    if (old.refs.size() != cur.refs.size()) return false;
    IdMap ids;
    for (size_t i = 0; i < old.refs.size(); ++i)
        if (!ids.check(old.refs[i].id, cur.refs[i].id)) return false;
    for (size_t f = 0; f <= old.curframe; ++f) {
        const FuncState& o = *old.frames[f];
        const FuncState& c = *cur.frames[f];
        if (o.callsite != c.callsite) return false;
        for (int r = 0; r < MAX_BPF_REG; ++r)
            if (!regsafe(o.regs[r], c.regs[r], ids, exact)) return false;
        if (!stacksafe(o, c, ids, exact, opts_.privileged)) return false;
    }
    return true;
}

int Env::is_state_visited(uint32_t insn_idx) {
    auto& list = explored_[insn_idx];
    bool add_new_state = true;
    for (const auto& node : list) {
        if (node->branches) {
            // Still on the current path: a loop. Coming back unchanged never ends.
            if (states_equal(node->state, cur_, true)) {
                verbose("infinite loop detected at insn %u\n", insn_idx);
                verbose("cur state:%s\n", state_str(cur_).c_str());
                return reject(-EINVAL_, "old state:%s", state_str(node->state).c_str());
            }
            // Loop iterations differ; checkpointing every one would not help pruning.
            if (jmps_processed_ - prev_jmps_processed_ < 20 &&
                insn_processed_ - prev_insn_processed_ < 100)
                add_new_state = false;
            continue;
        }
        if (states_equal(node->state, cur_, false)) return 1;
    }
    if (!add_new_state) return 0;
    prev_jmps_processed_ = jmps_processed_;
    prev_insn_processed_ = insn_processed_;
    auto node = std::make_shared<StateNode>();
    node->state = cur_;
    node->insn_idx = insn_idx;
    node->branches = 1;
    cur_.parent = node;
    list.push_back(node);
    ++total_states_;
    peak_states_ = total_states_; // explored states are kept until the end
    max_states_per_insn_ =
        std::max<uint32_t>(max_states_per_insn_, static_cast<uint32_t>(list.size()));
    return 0;
}

} // namespace ebpf::verifier
