// Path exploration, as the kernel's do_check: one instruction at a time along a path, branches
// pushed for later, every path to an exit, checkpoints at prune points.
#include "verifier/env.hpp"
#include "vm/progtypes/prog_type_info.hpp"

namespace ebpf::verifier {
namespace {

constexpr size_t max_pending_branches = 8192; // BPF_COMPLEXITY_LIMIT_JMP_SEQ

} // namespace

void Env::init_func_state(FuncState& f, uint32_t frameno, uint32_t subprogno, int callsite) {
    f = FuncState{};
    f.frameno = frameno;
    f.subprogno = subprogno;
    f.callsite = callsite;
    for (auto& r : f.regs)
        mark_not_init(r);
    RegState& fp = f.regs[BPF_REG_10];
    fp.type = RegType::ptr_to_stack;
    mark_known_zero(fp);
    fp.frameno = frameno;
}

int Env::check_reg_arg(uint32_t regno, RegArg arg) {
    if (regno >= MAX_BPF_REG) return reject(-EINVAL_, "R%u is invalid", regno);
    RegState& reg = cur_.cur().regs[regno];
    if (arg == RegArg::src_op) {
        if (reg.type == RegType::not_init) return reject(-EACCES_, "R%u !read_ok", regno);
        return 0;
    }
    if (regno == BPF_REG_10) return reject(-EACCES_, "frame pointer is read only");
    if (arg == RegArg::dst_op) mark_unknown(reg);
    return 0;
}

int Env::push_branch(uint32_t insn_idx, uint32_t prev_insn_idx) {
    if (branches_.size() >= max_pending_branches)
        return reject(-E2BIG_, "The sequence of %zu jumps is too complex.", branches_.size());
    branches_.push_back(PendingBranch{cur_, insn_idx, prev_insn_idx});
    if (cur_.parent) cur_.parent->branches++;
    return 0;
}

bool Env::pop_branch(uint32_t& insn_idx, uint32_t& prev_insn_idx) {
    if (branches_.empty()) return false;
    PendingBranch b = std::move(branches_.back());
    branches_.pop_back();
    cur_ = std::move(b.state);
    insn_idx = b.insn_idx;
    prev_insn_idx = b.prev_insn_idx;
    return true;
}

void Env::update_branch_counts(std::shared_ptr<StateNode> node) {
    // A checkpoint with no path left to explore is finished: it may prune from now on.
    while (node && --node->branches == 0)
        node = node->state.parent;
}

int Env::check_ld_imm(const Insn& insn, uint32_t idx) {
    if (bpf_size(insn.opcode) != BPF_DW) return reject(-EINVAL_, "invalid BPF_LD_IMM insn");
    if (insn.off != 0) return reject(-EINVAL_, "BPF_LD_IMM64 uses reserved fields");
    if (int err = check_reg_arg(insn.dst, RegArg::dst_op)) return err;
    RegState& dst = cur_.cur().regs[insn.dst];
    const Insn& next = insns_[idx + 1];
    switch (insn.src) {
    case 0:
        dst.type = RegType::scalar;
        mark_known(dst, static_cast<uint32_t>(insn.imm) |
                            static_cast<uint64_t>(static_cast<uint32_t>(next.imm)) << 32);
        return 0;
    case BPF_PSEUDO_FUNC:
        mark_known_zero(dst);
        dst.type = RegType::ptr_to_func;
        dst.subprog = idx + insn.imm + 1;
        return 0;
    case BPF_PSEUDO_MAP_VALUE:
    case BPF_PSEUDO_MAP_IDX_VALUE:
        if (opts_.privileged) {
            mark_known_zero(dst);
            dst.type = RegType::ptr_to_map_value;
            dst.map = opts_.maps[insn.imm];
            dst.off = next.imm;
            return 0;
        }
        [[fallthrough]]; // unprivileged: the map itself (see resolve_pseudo_ldimm64)
    case BPF_PSEUDO_MAP_FD:
    case BPF_PSEUDO_MAP_IDX:
        mark_known_zero(dst);
        dst.type = RegType::const_ptr_to_map;
        dst.map = opts_.maps[insn.imm];
        return 0;
    default: return reject(-EINVAL_, "unrecognized bpf_ld_imm64 insn");
    }
}

int Env::save_aux_ptr_type(uint32_t insn_idx, RegType type) {
    // One instruction may not access the context (or a socket) on one path and other memory on
    // another: the rewrite after verification must know which it is.
    auto mismatch_ok = [](RegType t) {
        return t != RegType::ptr_to_ctx && t != RegType::ptr_to_socket &&
               t != RegType::ptr_to_sock_common && t != RegType::ptr_to_tcp_sock &&
               t != RegType::ptr_to_xdp_sock && t != RegType::ptr_to_btf_id;
    };
    RegType& prev = aux_[insn_idx].ptr_type;
    if (prev == RegType::not_init) {
        prev = type;
    } else if (type != prev && (!mismatch_ok(type) || !mismatch_ok(prev))) {
        return reject(-EINVAL_, "same insn cannot be used with different pointers");
    }
    return 0;
}

int Env::check_resource_leak(bool check_lock, const char* prefix) {
    if (check_lock && cur_.active_spin_lock_map)
        return reject(-EINVAL_, "%s cannot be used inside bpf_spin_lock-ed region", prefix);
    if (cur_.curframe > 0 || cur_.refs.empty()) return 0;
    for (const auto& ref : cur_.refs)
        verbose("Unreleased reference id=%u alloc_insn=%d\n", ref.id, ref.insn_idx);
    return reject(-EINVAL_, "%s would lead to reference leak", prefix);
}

int Env::check_exit(uint32_t& insn_idx) {
    if (int err = check_resource_leak(cur_.curframe == 0, "BPF_EXIT instruction in main prog"))
        return err;
    if (cur_.curframe > 0) {
        // Back to the caller with whatever R0 holds (the caller may not read it if unset).
        FuncState& callee = cur_.cur();
        const RegState r0 = callee.regs[BPF_REG_0];
        if (callee.in_callback_fn) {
            if (int err = check_reg_arg(BPF_REG_0, RegArg::src_op)) return err;
            if (r0.type != RegType::scalar) return reject(-EACCES_, "R0 not a scalar value");
            cur_.history.back().callback_exit = true;
            mark_chain_precision(BPF_REG_0);
            if (r0.smin < 0 || r0.smax > 1) {
                std::string has;
                if (r0.smin > std::numeric_limits<int64_t>::min())
                    has += " smin=" + std::to_string(r0.smin);
                if (r0.smax < std::numeric_limits<int64_t>::max())
                    has += " smax=" + std::to_string(r0.smax);
                if (has.empty()) has = " unknown scalar value";
                return reject(-EINVAL_,
                              "At callback return the register R0 has%s should have been in [0, 1]",
                              has.c_str());
            }
            // Back to the helper call, which may run the callback again.
            const int callsite = callee.callsite;
            cur_.frames.pop_back();
            cur_.curframe--;
            insn_idx = static_cast<uint32_t>(callsite);
            return 1;
        }
        if (r0.type == RegType::ptr_to_stack)
            return reject(-EINVAL_, "cannot return stack pointer to the caller");
        const int callsite = callee.callsite;
        cur_.frames.pop_back();
        cur_.curframe--;
        cur_.cur().regs[BPF_REG_0] = r0;
        insn_idx = static_cast<uint32_t>(callsite) + 1;
        return 1;
    }
    if (int err = check_reg_arg(BPF_REG_0, RegArg::src_op)) return err;
    const RegState& r0 = cur_.cur().regs[BPF_REG_0];
    if (!opts_.privileged && r0.is_pointer())
        return reject(-EACCES_, "R0 leaks addr as return value");
    const ProgTypeInfo* info = prog_type_info(opts_.prog_type);
    if (!info || !info->retval) return 0;
    const RetvalRange range = *info->retval;
    if (r0.type != RegType::scalar)
        return reject(-EINVAL_, "At program exit the register R0 is not a known value (%s)",
                      reg_type_str(r0).c_str());
    mark_chain_precision(BPF_REG_0);
    if (r0.smin >= range.minval && r0.smax <= range.maxval) return 0;
    std::string has;
    if (r0.smin > std::numeric_limits<int64_t>::min()) has += " smin=" + std::to_string(r0.smin);
    if (r0.smax < std::numeric_limits<int64_t>::max()) has += " smax=" + std::to_string(r0.smax);
    if (has.empty()) has = " unknown scalar value";
    return reject(-EINVAL_, "At program exit the register R0 has%s should have been in [%d, %d]",
                  has.c_str(), range.minval, range.maxval);
}

int Env::do_check() {
    cur_ = VerifierState{};
    cur_.frames.push_back(std::make_unique<FuncState>());
    init_func_state(cur_.cur(), 0, 0, -1);
    RegState& ctx = cur_.cur().regs[BPF_REG_1];
    mark_known_zero(ctx);
    ctx.type = RegType::ptr_to_ctx;

    uint32_t insn_idx = 0, prev_insn_idx = 0;
    bool popped = false; // a branch was just taken up: the log says where from
    const uint32_t n = static_cast<uint32_t>(insns_.size());
    for (;;) {
        if (insn_idx >= n) return reject(-EFAULT_, "invalid insn idx %u insn_cnt %u", insn_idx, n);
        const Insn& insn = insns_[insn_idx];
        cur_insn_ = insn_idx;
        if (++insn_processed_ > BPF_COMPLEXITY_LIMIT_INSNS)
            return reject(-E2BIG_, "BPF program is too large. Processed %llu insn",
                          static_cast<unsigned long long>(insn_processed_));

        bool path_done = false;
        if (prune_point_[insn_idx]) {
            const int r = is_state_visited(insn_idx);
            if (r < 0) return r;
            if (r == 1) {
                if (opts_.log_level && popped)
                    verbose("\nfrom %u to %u: safe\n", prev_insn_idx, insn_idx);
                else if (opts_.log_level)
                    verbose("%u: safe\n", insn_idx);
                path_done = true;
            }
        }
        if (!path_done && popped && opts_.log_level)
            verbose("\nfrom %u to %u: %s\n", prev_insn_idx, insn_idx, state_str(cur_).c_str());
        popped = false;
        if (!path_done) {
            if (opts_.log_level) print_insn(insn_idx);
            aux_[insn_idx].seen = true;
            cur_.history.push_back({insn_idx, static_cast<uint8_t>(cur_.curframe)});
            if (jmp_point_[insn_idx]) ++cur_.jmp_history_cnt;
            const uint8_t cls = bpf_class(insn.opcode);
            int err = 0;
            bool jumped = false;
            switch (cls) {
            case BPF_ALU:
            case BPF_ALU64: err = check_alu_op(insn); break;
            case BPF_LDX: {
                if ((err = check_reg_arg(insn.src, RegArg::src_op))) break;
                if ((err = check_reg_arg(insn.dst, RegArg::dst_op_no_mark))) break;
                const RegType ptr = cur_.cur().regs[insn.src].type;
                err = check_mem_access(insn_idx, insn.src, insn.off, size_bytes(insn.opcode), false,
                                       insn.dst, bpf_mode(insn.opcode) == BPF_MEMSX);
                if (!err) err = save_aux_ptr_type(insn_idx, ptr);
                break;
            }
            case BPF_STX:
                if (bpf_mode(insn.opcode) == BPF_ATOMIC) {
                    err = check_atomic(insn, insn_idx);
                    break;
                }
                if (bpf_mode(insn.opcode) != BPF_MEM || insn.imm != 0) {
                    err = reject(-EINVAL_, "BPF_STX uses reserved fields");
                    break;
                }
                if ((err = check_reg_arg(insn.src, RegArg::src_op))) break;
                if ((err = check_reg_arg(insn.dst, RegArg::src_op))) break;
                err = check_mem_access(insn_idx, insn.dst, insn.off, size_bytes(insn.opcode), true,
                                       insn.src, false);
                if (!err) err = save_aux_ptr_type(insn_idx, cur_.cur().regs[insn.dst].type);
                break;
            case BPF_ST:
                if (bpf_mode(insn.opcode) != BPF_MEM || insn.src != 0) {
                    err = reject(-EINVAL_, "BPF_ST uses reserved fields");
                    break;
                }
                if ((err = check_reg_arg(insn.dst, RegArg::src_op))) break;
                err = check_mem_access(insn_idx, insn.dst, insn.off, size_bytes(insn.opcode), true,
                                       -1, false);
                if (!err) err = save_aux_ptr_type(insn_idx, cur_.cur().regs[insn.dst].type);
                break;
            case BPF_JMP:
            case BPF_JMP32: {
                const uint8_t op = bpf_op(insn.opcode);
                ++jmps_processed_;
                if (op == BPF_CALL) {
                    if (bpf_srcbit(insn.opcode) != BPF_K ||
                        (insn.src != BPF_PSEUDO_KFUNC_CALL && insn.off != 0) ||
                        (insn.src != 0 && insn.src != BPF_PSEUDO_CALL &&
                         insn.src != BPF_PSEUDO_KFUNC_CALL) ||
                        insn.dst != 0 || cls == BPF_JMP32) {
                        err = reject(-EINVAL_, "BPF_CALL uses reserved fields");
                        break;
                    }
                    if (cur_.active_spin_lock_map &&
                        (insn.src == BPF_PSEUDO_CALL || insn.imm != 94)) {
                        err =
                            reject(-EINVAL_, "function calls are not allowed while holding a lock");
                        break;
                    }
                    if (insn.src == BPF_PSEUDO_CALL) {
                        err = check_func_call(insn, insn_idx);
                        jumped = err == 0;
                    } else if (insn.src == BPF_PSEUDO_KFUNC_CALL && insn.imm == 0) {
                        // libbpf's unresolved weak kfunc: refused after the walk unless dead.
                    } else {
                        err = check_helper_call(insn, insn_idx);
                    }
                } else if (op == BPF_JA) {
                    if (bpf_srcbit(insn.opcode) != BPF_K || insn.src || insn.dst ||
                        (cls == BPF_JMP && insn.imm != 0) || (cls == BPF_JMP32 && insn.off != 0)) {
                        err = reject(-EINVAL_, "BPF_JA uses reserved fields");
                        break;
                    }
                    prev_insn_idx = insn_idx;
                    insn_idx += (cls == BPF_JMP ? insn.off : insn.imm) + 1;
                    jumped = true;
                } else if (op == BPF_EXIT) {
                    if (bpf_srcbit(insn.opcode) != BPF_K || insn.imm || insn.src || insn.dst ||
                        cls == BPF_JMP32) {
                        err = reject(-EINVAL_, "BPF_EXIT uses reserved fields");
                        break;
                    }
                    const int r = check_exit(insn_idx);
                    if (r < 0) {
                        err = r;
                        break;
                    }
                    if (r == 1) {
                        jumped = true;
                        prev_insn_idx = insn_idx;
                    } else {
                        path_done = true;
                    }
                } else {
                    const uint32_t before = insn_idx;
                    err = check_cond_jmp_op(insn, insn_idx);
                    if (!err && insn_idx != before) {
                        prev_insn_idx = before;
                        ++insn_idx;
                        jumped = true;
                    }
                }
                break;
            }
            case BPF_LD: {
                const uint8_t mode = bpf_mode(insn.opcode);
                if (mode == BPF_ABS || mode == BPF_IND) {
                    err = check_ld_abs(insn);
                } else if (mode == BPF_IMM) {
                    err = check_ld_imm(insn, insn_idx);
                    ++insn_idx;
                    aux_[insn_idx].seen = true; // the second half
                } else {
                    err = reject(-EINVAL_, "invalid BPF_LD mode");
                }
                break;
            }
            }
            if (err) return err;
            if (!path_done && !jumped) {
                prev_insn_idx = insn_idx;
                ++insn_idx;
            }
        }
        if (path_done) {
            update_branch_counts(cur_.parent);
            if (!pop_branch(insn_idx, prev_insn_idx)) break;
            popped = true;
        }
    }
    return 0;
}

} // namespace ebpf::verifier
