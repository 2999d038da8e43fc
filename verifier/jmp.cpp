// Conditional jumps: which way a comparison can go (is_branch_taken), what each way teaches
// about the operands (reg_set_min_max), null checks (mark_ptr_or_null_regs), packet range
// checks (try_match_pkt_pointers) and copies sharing an id (sync_linked_regs).
#include "verifier/env.hpp"

#include <algorithm>
#include <bit>

namespace ebpf::verifier {
namespace {

constexpr uint8_t JSET_REVERSED = BPF_JSET | BPF_X; // "not jset", as the kernel's rev_opcode
constexpr uint64_t max_packet_off = 0xffff;

uint8_t flip_opcode(uint8_t op) {
    switch (op) {
    case BPF_JGE: return BPF_JLE;
    case BPF_JGT: return BPF_JLT;
    case BPF_JLE: return BPF_JGE;
    case BPF_JLT: return BPF_JGT;
    case BPF_JSGE: return BPF_JSLE;
    case BPF_JSGT: return BPF_JSLT;
    case BPF_JSLE: return BPF_JSGE;
    case BPF_JSLT: return BPF_JSGT;
    default: return op;
    }
}

uint8_t rev_opcode(uint8_t op) {
    switch (op) {
    case BPF_JEQ: return BPF_JNE;
    case BPF_JNE: return BPF_JEQ;
    case BPF_JSET: return JSET_REVERSED;
    case JSET_REVERSED: return BPF_JSET;
    case BPF_JGE: return BPF_JLT;
    case BPF_JGT: return BPF_JLE;
    case BPF_JLE: return BPF_JGT;
    case BPF_JLT: return BPF_JGE;
    case BPF_JSGE: return BPF_JSLT;
    case BPF_JSGT: return BPF_JSLE;
    case BPF_JSLE: return BPF_JSGT;
    case BPF_JSLT: return BPF_JSGE;
    default: return op;
    }
}

bool is_reg_const(const RegState& r, bool jmp32) {
    return r.type == RegType::scalar &&
           (jmp32 ? tnum_subreg_is_const(r.var_off) : tnum_is_const(r.var_off));
}
uint64_t reg_const_value(const RegState& r, bool jmp32) {
    return jmp32 ? static_cast<uint32_t>(r.var_off.value) : r.var_off.value;
}

int is_scalar_branch_taken(const RegState& r1, const RegState& r2, uint8_t op, bool jmp32) {
    const Tnum t1 = jmp32 ? tnum_subreg(r1.var_off) : r1.var_off;
    const Tnum t2 = jmp32 ? tnum_subreg(r2.var_off) : r2.var_off;
    const uint64_t umin1 = jmp32 ? r1.u32_min : r1.umin, umax1 = jmp32 ? r1.u32_max : r1.umax;
    const uint64_t umin2 = jmp32 ? r2.u32_min : r2.umin, umax2 = jmp32 ? r2.u32_max : r2.umax;
    const int64_t smin1 = jmp32 ? r1.s32_min : r1.smin, smax1 = jmp32 ? r1.s32_max : r1.smax;
    const int64_t smin2 = jmp32 ? r2.s32_min : r2.smin, smax2 = jmp32 ? r2.s32_max : r2.smax;
    switch (op) {
    case BPF_JEQ:
    case BPF_JNE: {
        const int differ = op == BPF_JNE ? 1 : 0;
        if (tnum_is_const(t1) && tnum_is_const(t2))
            return (t1.value == t2.value) ? 1 - differ : differ;
        if (umin1 > umax2 || umax1 < umin2) return differ;
        if (smin1 > smax2 || smax1 < smin2) return differ;
        if (!jmp32) {
            if (r1.u32_min > r2.u32_max || r1.u32_max < r2.u32_min) return differ;
            if (r1.s32_min > r2.s32_max || r1.s32_max < r2.s32_min) return differ;
        }
        return -1;
    }
    case BPF_JSET: {
        const RegState* a = &r1;
        const RegState* b = &r2;
        Tnum ta = t1, tb = t2;
        if (!is_reg_const(*b, jmp32)) {
            std::swap(a, b);
            std::swap(ta, tb);
        }
        if (!is_reg_const(*b, jmp32)) return -1;
        if ((~ta.mask & ta.value) & tb.value) return 1;
        if (!((ta.mask | ta.value) & tb.value)) return 0;
        return -1;
    }
    case BPF_JGT: return umin1 > umax2 ? 1 : umax1 <= umin2 ? 0 : -1;
    case BPF_JSGT: return smin1 > smax2 ? 1 : smax1 <= smin2 ? 0 : -1;
    case BPF_JLT: return umax1 < umin2 ? 1 : umin1 >= umax2 ? 0 : -1;
    case BPF_JSLT: return smax1 < smin2 ? 1 : smin1 >= smax2 ? 0 : -1;
    case BPF_JGE: return umin1 >= umax2 ? 1 : umax1 < umin2 ? 0 : -1;
    case BPF_JSGE: return smin1 >= smax2 ? 1 : smax1 < smin2 ? 0 : -1;
    case BPF_JLE: return umax1 <= umin2 ? 1 : umin1 > umax2 ? 0 : -1;
    case BPF_JSLE: return smax1 <= smin2 ? 1 : smin1 > smax2 ? 0 : -1;
    }
    return -1;
}

// Pointers the kernel knows are never null (reg_not_null); a packet or context pointer may be.
bool reg_not_null(const RegState& r) {
    if (r.maybe_null()) return false;
    switch (r.type) {
    case RegType::ptr_to_socket:
    case RegType::ptr_to_tcp_sock:
    case RegType::ptr_to_map_value:
    case RegType::ptr_to_map_key:
    case RegType::ptr_to_sock_common:
    case RegType::ptr_to_mem:
    case RegType::const_ptr_to_map: return true; // as Linux 6.18 (checked; ctx and fp are not)
    default: return false;
    }
}

// A packet pointer already known past pkt_end against pkt_end (the kernel's
// is_pkt_ptr_branch_taken).
int is_pkt_ptr_branch_taken(const RegState& dst, const RegState& src, uint8_t op) {
    const RegState* pkt;
    if (src.type == RegType::ptr_to_packet_end) {
        pkt = &dst;
    } else if (dst.type == RegType::ptr_to_packet_end) {
        pkt = &src;
        op = flip_opcode(op);
    } else {
        return -1;
    }
    if (pkt->range >= 0) return -1;
    switch (op) {
    case BPF_JLE:
    case BPF_JGT:
        if (pkt->range == beyond_pkt_end) return op == BPF_JGT;
        return -1;
    case BPF_JLT:
    case BPF_JGE:
        if (pkt->range == beyond_pkt_end || pkt->range == at_pkt_end) return op == BPF_JGE;
        return -1;
    default: return -1;
    }
}

int is_branch_taken(const RegState& r1, const RegState& r2, uint8_t op, bool jmp32) {
    const auto any_pkt = [](const RegState& r) {
        return r.is_packet() || r.type == RegType::ptr_to_packet_end;
    };
    if (any_pkt(r1) && any_pkt(r2) && !jmp32) return is_pkt_ptr_branch_taken(r1, r2, op);
    if (r1.is_pointer() || r2.is_pointer()) {
        const RegState* ptr = &r1;
        const RegState* val = &r2;
        if (!is_reg_const(*val, jmp32)) {
            op = flip_opcode(op);
            std::swap(ptr, val);
        }
        if (!is_reg_const(*val, jmp32) || !ptr->is_pointer()) return -1;
        if (!reg_not_null(*ptr)) return -1;
        if (reg_const_value(*val, jmp32) != 0) return -1;
        // A valid pointer is never zero.
        if (op == BPF_JEQ) return 0;
        if (op == BPF_JNE) return 1;
        return -1;
    }
    return is_scalar_branch_taken(r1, r2, op, jmp32);
}

void refine_cond_op(RegState* r1, RegState* r2, uint8_t op, bool jmp32) {
    switch (op) {
    case BPF_JGE:
    case BPF_JGT:
    case BPF_JSGE:
    case BPF_JSGT:
        op = flip_opcode(op);
        std::swap(r1, r2);
        break;
    default: break;
    }
    switch (op) {
    case BPF_JEQ:
        if (jmp32) {
            r1->u32_min = std::max(r1->u32_min, r2->u32_min);
            r1->u32_max = std::min(r1->u32_max, r2->u32_max);
            r1->s32_min = std::max(r1->s32_min, r2->s32_min);
            r1->s32_max = std::min(r1->s32_max, r2->s32_max);
            r2->u32_min = r1->u32_min;
            r2->u32_max = r1->u32_max;
            r2->s32_min = r1->s32_min;
            r2->s32_max = r1->s32_max;
            const Tnum t = tnum_intersect(tnum_subreg(r1->var_off), tnum_subreg(r2->var_off));
            r1->var_off = tnum_with_subreg(r1->var_off, t);
            r2->var_off = tnum_with_subreg(r2->var_off, t);
        } else {
            r1->umin = std::max(r1->umin, r2->umin);
            r1->umax = std::min(r1->umax, r2->umax);
            r1->smin = std::max(r1->smin, r2->smin);
            r1->smax = std::min(r1->smax, r2->smax);
            r2->umin = r1->umin;
            r2->umax = r1->umax;
            r2->smin = r1->smin;
            r2->smax = r1->smax;
            r1->var_off = tnum_intersect(r1->var_off, r2->var_off);
            r2->var_off = r1->var_off;
        }
        break;
    case BPF_JNE: {
        if (!is_reg_const(*r2, jmp32)) std::swap(r1, r2);
        if (!is_reg_const(*r2, jmp32)) break;
        // A constant at the edge of the other's range shrinks it by one.
        const uint64_t val = reg_const_value(*r2, jmp32);
        if (jmp32) {
            if (r1->u32_min == static_cast<uint32_t>(val)) r1->u32_min++;
            if (r1->u32_max == static_cast<uint32_t>(val)) r1->u32_max--;
            if (r1->s32_min == static_cast<int32_t>(val)) r1->s32_min++;
            if (r1->s32_max == static_cast<int32_t>(val)) r1->s32_max--;
        } else {
            if (r1->umin == val) r1->umin++;
            if (r1->umax == val) r1->umax--;
            if (r1->smin == static_cast<int64_t>(val)) r1->smin++;
            if (r1->smax == static_cast<int64_t>(val)) r1->smax--;
        }
        break;
    }
    case BPF_JSET: {
        if (!is_reg_const(*r2, jmp32)) std::swap(r1, r2);
        if (!is_reg_const(*r2, jmp32)) break;
        const uint64_t val = reg_const_value(*r2, jmp32);
        if (!std::has_single_bit(val)) break;
        if (jmp32)
            r1->var_off =
                tnum_with_subreg(r1->var_off, tnum_or(tnum_subreg(r1->var_off), tnum_const(val)));
        else
            r1->var_off = tnum_or(r1->var_off, tnum_const(val));
        break;
    }
    case JSET_REVERSED: {
        if (!is_reg_const(*r2, jmp32)) std::swap(r1, r2);
        if (!is_reg_const(*r2, jmp32)) break;
        const uint64_t val = reg_const_value(*r2, jmp32);
        mark_unbounded(*r1);
        if (jmp32)
            r1->var_off =
                tnum_with_subreg(r1->var_off, tnum_and(tnum_subreg(r1->var_off), tnum_const(~val)));
        else
            r1->var_off = tnum_and(r1->var_off, tnum_const(~val));
        break;
    }
    case BPF_JLE:
        if (jmp32) {
            r1->u32_max = std::min(r1->u32_max, r2->u32_max);
            r2->u32_min = std::max(r1->u32_min, r2->u32_min);
        } else {
            r1->umax = std::min(r1->umax, r2->umax);
            r2->umin = std::max(r1->umin, r2->umin);
        }
        break;
    case BPF_JLT:
        if (jmp32) {
            r1->u32_max = std::min(r1->u32_max, r2->u32_max - 1);
            r2->u32_min = std::max(r1->u32_min + 1, r2->u32_min);
        } else {
            r1->umax = std::min(r1->umax, r2->umax - 1);
            r2->umin = std::max(r1->umin + 1, r2->umin);
        }
        break;
    case BPF_JSLE:
        if (jmp32) {
            r1->s32_max = std::min(r1->s32_max, r2->s32_max);
            r2->s32_min = std::max(r1->s32_min, r2->s32_min);
        } else {
            r1->smax = std::min(r1->smax, r2->smax);
            r2->smin = std::max(r1->smin, r2->smin);
        }
        break;
    case BPF_JSLT:
        if (jmp32) {
            r1->s32_max = std::min(r1->s32_max, r2->s32_max - 1);
            r2->s32_min = std::max(r1->s32_min + 1, r2->s32_min);
        } else {
            r1->smax = std::min(r1->smax, r2->smax - 1);
            r2->smin = std::max(r1->smin + 1, r2->smin);
        }
        break;
    default: break;
    }
}

// Each register and spilled slot of every frame, with where it is.
template <typename F> void for_each_reg_ref(VerifierState& st, F&& f) {
    for (size_t fr = 0; fr < st.frames.size(); ++fr) {
        FuncState& frame = *st.frames[fr];
        const auto f8 = static_cast<uint8_t>(fr);
        for (uint8_t r = 0; r < MAX_BPF_REG; ++r)
            f(frame.regs[r], RegRef{f8, false, r});
        for (size_t spi = 0; spi < frame.stack.size(); ++spi)
            if (frame.stack[spi].slot_type[7] == SlotType::spill)
                f(frame.stack[spi].spilled_ptr, RegRef{f8, true, static_cast<uint8_t>(spi)});
    }
}

template <typename F> void for_each_reg(VerifierState& st, F&& f) {
    for (auto& frame : st.frames) {
        for (auto& r : frame->regs)
            f(r);
        for (auto& slot : frame->stack)
            if (slot.slot_type[7] == SlotType::spill) f(slot.spilled_ptr);
    }
}

void find_good_pkt_pointers(VerifierState& st, const RegState& dst, bool right_open) {
    if (dst.off < 0 || (dst.off == 0 && right_open)) return;
    if (dst.umax > max_packet_off || dst.umax + static_cast<uint64_t>(dst.off) > max_packet_off)
        return;
    const int new_range = dst.off + (right_open ? 1 : 0);
    const RegType type = dst.type;
    const uint32_t id = dst.id;
    for_each_reg(st, [&](RegState& r) {
        if (r.type == type && r.id == id) r.range = std::max(r.range, new_range);
    });
}

bool is_init_pkt_pointer(const RegState& r) {
    return r.type == RegType::ptr_to_packet && r.off == 0 && tnum_equals_const(r.var_off, 0);
}

// Comparisons of packet pointers against the packet end prove a range on one side.
// The packet pointer compared with pkt_end is past it (range_open: by a byte at least), so that
// a later comparison of the two is known (the kernel's mark_pkt_end).
void mark_pkt_end(VerifierState& st, uint32_t regno, bool range_open) {
    RegState& reg = st.cur().regs[regno];
    if (reg.type != RegType::ptr_to_packet) return; // packet meta: not done, as in the kernel
    reg.range = range_open ? beyond_pkt_end : at_pkt_end;
}

bool try_match_pkt_pointers(const Insn& insn, const RegState& dst, const RegState& src,
                            VerifierState& fall, VerifierState& taken) {
    if (bpf_srcbit(insn.opcode) != BPF_X || bpf_class(insn.opcode) == BPF_JMP32) return false;
    const bool dst_pkt =
        (dst.type == RegType::ptr_to_packet && src.type == RegType::ptr_to_packet_end) ||
        (dst.type == RegType::ptr_to_packet_meta && is_init_pkt_pointer(src));
    const bool src_pkt =
        (dst.type == RegType::ptr_to_packet_end && src.type == RegType::ptr_to_packet) ||
        (is_init_pkt_pointer(dst) && src.type == RegType::ptr_to_packet_meta);
    if (!dst_pkt && !src_pkt) return false;
    // Where the packet pointer is proven in bounds, and where it is past the end instead.
    const RegState& pkt = dst_pkt ? dst : src;
    const uint32_t pkt_regno = dst_pkt ? insn.dst : insn.src;
    const auto good_and_past = [&](VerifierState& good, bool range_right, VerifierState& past,
                                   bool range_open) {
        find_good_pkt_pointers(good, pkt, range_right);
        mark_pkt_end(past, pkt_regno, range_open);
    };
    switch (bpf_op(insn.opcode)) {
    case BPF_JGT: // pkt > end, or end > pkt
        if (dst_pkt)
            good_and_past(fall, false, taken, true);
        else
            good_and_past(taken, true, fall, false);
        return true;
    case BPF_JLT: // pkt < end, or end < pkt
        if (dst_pkt)
            good_and_past(taken, true, fall, false);
        else
            good_and_past(fall, false, taken, true);
        return true;
    case BPF_JGE: // pkt >= end, or end >= pkt
        if (dst_pkt)
            good_and_past(fall, true, taken, false);
        else
            good_and_past(taken, false, fall, true);
        return true;
    case BPF_JLE: // pkt <= end, or end <= pkt
        if (dst_pkt)
            good_and_past(taken, false, fall, true);
        else
            good_and_past(fall, true, taken, false);
        return true;
    default: return false;
    }
}

// After a null check every copy of the pointer (same id) is either null or valid.
void mark_ptr_or_null_regs(VerifierState& st, uint32_t id, uint32_t ref_obj_id, bool is_null) {
    if (!id) return;
    for_each_reg(st, [&](RegState& r) {
        if (!r.maybe_null() || r.id != id) return;
        if (is_null) {
            mark_unknown(r);
            mark_known_zero(r);
            return;
        }
        r.flags &= ~PTR_MAYBE_NULL;
        if (r.type == RegType::ptr_to_map_value && !r.inner_map &&
            (r.map->type() == MapType::array_of_maps || r.map->type() == MapType::hash_of_maps)) {
            r.type = RegType::const_ptr_to_map;
            r.inner_map = true;
        } else if (r.type == RegType::ptr_to_map_value && reg_map_def(r).type == MapType::xskmap) {
            r.type = RegType::ptr_to_xdp_sock; // the socket, read as struct bpf_xdp_sock
        }
        if (r.type != RegType::ptr_to_map_value || reg_map_def(r).spin_lock_off < 0) r.id = 0;
    });
    // A null acquired pointer holds no reference (a null cast of it still leaves the original).
    if (is_null && ref_obj_id && ref_obj_id == id) {
        auto& refs = st.refs;
        refs.erase(std::remove_if(refs.begin(), refs.end(),
                                  [&](const RefState& r) { return r.id == ref_obj_id; }),
                   refs.end());
    }
}

void sync_linked_regs(VerifierState& st, const RegState& known) {
    const uint32_t id = known.id;
    for_each_reg(st, [&](RegState& r) {
        if (r.type == RegType::scalar && r.id == id) r = known;
    });
}

} // namespace

int Env::check_cond_jmp_op(const Insn& insn, uint32_t& insn_idx) {
    const uint8_t op = bpf_op(insn.opcode);
    if (op == BPF_JA || op > BPF_JSLE)
        return reject(-EINVAL_, "invalid BPF_JMP/JMP32 opcode %x", op);
    if (int err = check_reg_arg(insn.dst, RegArg::src_op)) return err;
    auto& regs = cur_.cur().regs;
    RegState fake;
    RegState* src_reg;
    if (bpf_srcbit(insn.opcode) == BPF_X) {
        if (insn.imm != 0) return reject(-EINVAL_, "BPF_JMP/JMP32 uses reserved fields");
        if (int err = check_reg_arg(insn.src, RegArg::src_op)) return err;
        src_reg = &regs[insn.src];
        if (!opts_.privileged && src_reg->is_pointer() &&
            !(regs[insn.dst].is_packet() || regs[insn.dst].type == RegType::ptr_to_packet_end))
            return reject(-EACCES_, "R%u pointer comparison prohibited", insn.src);
    } else {
        if (insn.src != 0) return reject(-EINVAL_, "BPF_JMP/JMP32 uses reserved fields");
        fake.type = RegType::scalar;
        mark_known(fake, static_cast<uint64_t>(static_cast<int64_t>(insn.imm)));
        src_reg = &fake;
    }
    const bool jmp32 = bpf_class(insn.opcode) == BPF_JMP32;
    const int pred = is_branch_taken(regs[insn.dst], *src_reg, op, jmp32);
    if (pred >= 0) {
        // Only one way is explored: that depends on the values compared.
        mark_chain_precision(insn.dst);
        if (bpf_srcbit(insn.opcode) == BPF_X) mark_chain_precision(insn.src);
    }
    if (pred == 1) {
        insn_idx += insn.off;
        return 0;
    }
    if (pred == 0) return 0;

    // The kernel records registers linked to the compared ones in its jump history, in both
    // branches.
    const uint32_t src_id =
        bpf_srcbit(insn.opcode) == BPF_X && src_reg->type == RegType::scalar ? src_reg->id : 0;
    const uint32_t dst_id = regs[insn.dst].type == RegType::scalar ? regs[insn.dst].id : 0;
    HistEntry& hist = cur_.history.back();
    size_t linked = 0;
    for_each_reg_ref(cur_, [&](RegState& r, RegRef ref) {
        if (r.type != RegType::scalar || !r.id || (r.id != src_id && r.id != dst_id)) return;
        if (linked < HistEntry::max_linked) hist.linked[linked] = ref;
        ++linked;
    });
    hist.nlinked =
        linked > HistEntry::max_linked ? HistEntry::too_many_linked : static_cast<uint8_t>(linked);
    if (linked > 1) ++cur_.jmp_history_cnt;
    const uint32_t target = insn_idx + insn.off + 1;
    if (int err = push_branch(target, insn_idx)) return err;
    VerifierState& taken = branches_.back().state;
    auto& taken_regs = taken.cur().regs;
    RegState& dst = regs[insn.dst];

    if (bpf_srcbit(insn.opcode) == BPF_X) {
        if (dst.type == RegType::scalar && src_reg->type == RegType::scalar) {
            refine_cond_op(&dst, src_reg, rev_opcode(op), jmp32);
            bounds_sync(dst);
            bounds_sync(*src_reg);
            refine_cond_op(&taken_regs[insn.dst], &taken_regs[insn.src], op, jmp32);
            bounds_sync(taken_regs[insn.dst]);
            bounds_sync(taken_regs[insn.src]);
        }
    } else if (dst.type == RegType::scalar) {
        RegState fake_fall = fake, fake_taken = fake;
        refine_cond_op(&dst, &fake_fall, rev_opcode(op), jmp32);
        bounds_sync(dst);
        refine_cond_op(&taken_regs[insn.dst], &fake_taken, op, jmp32);
        bounds_sync(taken_regs[insn.dst]);
    }
    if (bpf_srcbit(insn.opcode) == BPF_X && src_reg->type == RegType::scalar && src_reg->id) {
        sync_linked_regs(cur_, *src_reg);
        sync_linked_regs(taken, taken_regs[insn.src]);
    }
    if (dst.type == RegType::scalar && dst.id) {
        sync_linked_regs(cur_, dst);
        sync_linked_regs(taken, taken_regs[insn.dst]);
    }

    if (!jmp32 && bpf_srcbit(insn.opcode) == BPF_K && insn.imm == 0 &&
        (op == BPF_JEQ || op == BPF_JNE) && dst.maybe_null()) {
        const uint32_t id = dst.id, ref = dst.ref_obj_id;
        mark_ptr_or_null_regs(cur_, id, ref, op == BPF_JNE);
        mark_ptr_or_null_regs(taken, id, ref, op == BPF_JEQ);
    } else if (!try_match_pkt_pointers(insn, dst, *src_reg, cur_, taken) && !opts_.privileged &&
               dst.is_pointer()) {
        return reject(-EACCES_, "R%u pointer comparison prohibited", insn.dst);
    }
    return 0;
}

} // namespace ebpf::verifier
