// Program structure: functions and their frames, jumps, calls and tail calls, exit, the entry
// points and frame stubs, the early exits that unwind a run, and the two passes.
#include "jit/x86_64/codegen.hpp"

#include "jit/x86_64/backend.hpp"

#include <algorithm>
#include <cstddef>

namespace ebpf::jit::x86_64 {

using asmjit::Imm;
using asmjit::Label;

namespace {

constexpr int32_t bpf_func_map_lookup_elem = 1;
constexpr int32_t bpf_func_tail_call = 12;

// The kernel's x86-64 mapping of R0-R10.
constexpr x86::Gp bpf_regs[MAX_BPF_REG] = {x86::rax, x86::rdi, x86::rsi, x86::rdx,
                                           x86::rcx, x86::r8,  x86::rbx, x86::r13,
                                           x86::r14, x86::r15, x86::rbp};

x86::CondCode condition(uint8_t jmp_op) {
    switch (jmp_op) {
    case BPF_JEQ: return x86::CondCode::kE;
    case BPF_JGT: return x86::CondCode::kA;
    case BPF_JGE: return x86::CondCode::kAE;
    case BPF_JLT: return x86::CondCode::kB;
    case BPF_JLE: return x86::CondCode::kBE;
    case BPF_JSGT: return x86::CondCode::kG;
    case BPF_JSGE: return x86::CondCode::kGE;
    case BPF_JSLT: return x86::CondCode::kL;
    case BPF_JSLE: return x86::CondCode::kLE;
    default: return x86::CondCode::kNE; // jne, jset (after test)
    }
}

} // namespace

bool is_jump(Op op) {
    const uint8_t code = info(op).opcode;
    const uint8_t cls = bpf_class(code);
    return (cls == BPF_JMP || cls == BPF_JMP32) && bpf_op(code) != BPF_CALL &&
           bpf_op(code) != BPF_EXIT;
}

x86::Gp bpf_reg(uint8_t r) {
    return bpf_regs[r];
}
x86::Gp bpf_reg(uint8_t r, bool is64) {
    return is64 ? bpf_regs[r] : bpf_regs[r].r32();
}

x86::Mem ctx_field(size_t offset, uint32_t size) {
    return x86::ptr(ctx_reg, static_cast<int32_t>(offset), size);
}

Codegen::Codegen(asmjit::CodeHolder& code, const Program& prog, const ProgramFacts& facts,
                 const JitOptions& options, bool tail_call_frames, uint64_t seed,
                 const std::vector<bool>* short_jumps)
    : a_(&code), prog_(prog), facts_(facts),
      has_bmi2_(options.host_cpu_features &&
                asmjit::CpuInfo::host().hasFeature(asmjit::CpuFeatures::X86::kBMI2)),
      targets_(prog.slots().size()), functions_(prog.slots().size()), short_jumps_(short_jumps) {
    if (options.blind_constants) keys_.emplace(seed);
    a_.addEncodingOptions(asmjit::EncodingOptions::kOptimizedAlign); // long nops, not many
    choose_saved(tail_call_frames);
}

// Frames save the R6-R9 the program names anywhere (the others keep the caller's and the host's
// values, as the program never touches them); all four when frames must fit other programs' tail
// calls (each program's exits pop what its own prologues pushed) or the program makes some.
void Codegen::choose_saved(bool tail_call_frames) {
    uint16_t named = 0;
    for (size_t i = 0; i < prog_.slots().size(); ++i) {
        const Slot& s = prog_.slots()[i];
        named |= static_cast<uint16_t>((1u << s.dst) | (1u << s.src)); // a superset is harmless
        if (s.op == Op::callx ||
            (s.op == Op::call_helper && prog_.insns()[i].imm == bpf_func_tail_call))
            tail_call_frames = makes_tail_calls_ = true;
    }
    for (int r = 6; r <= 9; ++r)
        if (tail_call_frames || named & (1u << r))
            saved_.push_back(bpf_reg(static_cast<uint8_t>(r)));
    frame_pad_ = saved_.size() % 2 == 1 ? 8 : 0; // rsp 16-byte aligned below the pushes
}

Result<GeneratedCode> Codegen::generate() {
    const auto& slots = prog_.slots();
    const size_t n = slots.size();

    // Labels for every jump target and function entry first: backward jumps need them bound.
    for (uint32_t f : facts_.functions) {
        functions_[f] = a_.newLabel();
        targets_[f] = a_.newLabel();
    }
    for (size_t i = 0; i < n; ++i) {
        const Slot& s = slots[i];
        if (s.op == Op::call_kfunc) return error_at(i, "kernel function calls are not supported");
        const auto t = static_cast<size_t>(s.off);
        if (is_jump(s.op) && !targets_[t].isValid()) targets_[t] = a_.newLabel();
        if (s.op == Op::lddw) ++i;
    }
    unwind_ = a_.newLabel();
    packet_oob_ = a_.newLabel();
    tail_call_ = a_.newLabel();
    // Jump tables for switch trees; their leaves become jump targets.
    tree_at_.assign(n, -1);
    for (size_t t = 0; t < facts_.trees.size(); ++t) {
        tree_at_[facts_.trees[t].root] = static_cast<int32_t>(t);
        tables_.push_back(a_.newLabel());
        for (uint32_t leaf : facts_.trees[t].leaves)
            if (!targets_[leaf].isValid()) targets_[leaf] = a_.newLabel();
    }

    GeneratedCode out;
    out.functions = facts_.functions;
    out.insn_offsets.resize(n + 1);
    emit_range(0, n, out);
    // The blocks that leave loops, out of line (jit/loop_exits.hpp); each may defer its own.
    for (size_t k = 0; k < leaving_.size(); ++k) {
        a_.bind(leaving_[k].label);
        emit_range(leaving_[k].from, leaving_[k].to, out);
    }
    out.insn_offsets[n] = static_cast<uint32_t>(a_.offset());
    const std::vector<uint32_t>& zero = facts_.zero;
    emit_entries(out, zero);
    emit_early_exits();
    out.data_offset = static_cast<uint32_t>(a_.offset());
    emit_switch_tables();
    return out;
}

void Codegen::emit_range(size_t from, size_t to, GeneratedCode& out) {
    const auto& slots = prog_.slots();
    for (size_t i = from; i < to; ++i) {
        const Slot& s = slots[i];
        out.layout.push_back(static_cast<uint32_t>(i));
        if (functions_[i].isValid()) {
            // Code running into a function's first instruction stays in its own frame, as it
            // does in the interpreter.
            if (falls_through_) jump(targets_[i]);
            out.insn_offsets[i] = static_cast<uint32_t>(a_.offset());
            a_.bind(functions_[i]);
            emit_prologue(facts_.zero[function_++]);
            if (i == 0) out.tail_entry_offset = static_cast<uint32_t>(a_.offset());
            if (facts_.loop_heads[i]) align_loop_head();
        } else {
            if (facts_.loop_heads[i])
                align_loop_head(); // the padding before the instruction's code
            out.insn_offsets[i] = static_cast<uint32_t>(a_.offset());
        }
        if (targets_[i].isValid()) a_.bind(targets_[i]);
        falls_through_ = s.op != Op::exit && s.op != Op::ja && s.op != Op::gotol;
        if (skip_ > 0) {
            --skip_; // emitted with an instruction before it
            falls_through_ = true;
            continue;
        }
        if (tree_at_[i] >= 0) emit_switch_dispatch(static_cast<size_t>(tree_at_[i]));
        if (!emit_fused(i)) {
            if (const uint32_t end = facts_.loop_exits[i]; end != 0) {
                // Into the block that leaves the loop when the condition fails; on at its target.
                leaving_.push_back({a_.newLabel(), static_cast<uint32_t>(i + 1), end});
                emit_jump(s, true, leaving_.back().label);
                i = end - 1;
                continue;
            }
            emit_insn(i, s);
        }
        if (fold_ && i >= fold_->last) fold_.reset();
        if (s.op == Op::lddw) out.insn_offsets[++i] = static_cast<uint32_t>(a_.offset());
    }
    // A deferred block whose own loop exit branched to where it ends goes on there.
    if (falls_through_ && to < slots.size()) jump(targets_[to]);
}

void Codegen::align_loop_head() {
    aligned_at_.push_back(a_.offset());
    a_.align(asmjit::AlignMode::kCode, loop_alignment);
}

void Codegen::emit_insn(size_t i, const Slot& s) {
    const uint8_t code = info(s.op).opcode;
    switch (bpf_class(code)) {
    case BPF_ALU:
    case BPF_ALU64: emit_alu(s); break;
    case BPF_JMP:
    case BPF_JMP32:
        switch (s.op) {
        case Op::exit: emit_exit(); break;
        case Op::call_helper: emit_call_helper(i, s); break;
        case Op::callx: emit_callx(i, s); break;
        case Op::call_local: emit_call_local(i, s); break;
        default: emit_jump(s); break;
        }
        break;
    case BPF_LD: s.op == Op::lddw ? emit_lddw(s) : emit_packet_load(s); break;
    case BPF_LDX: emit_load(s); break;
    case BPF_ST: emit_store(s); break;
    default: bpf_mode(code) == BPF_ATOMIC ? emit_atomic(s) : emit_store(s); break; // BPF_STX
    }
}

// `zero` bytes below the new R10 are zeroed (jit/stack_usage.hpp), so that no host data shows
// through the part of the stack the function can read.
void Codegen::emit_prologue(uint32_t zero) {
    a_.push(x86::rbp);
    a_.mov(x86::rbp, x86::rsp);
    a_.sub(x86::rsp, Imm(MAX_BPF_STACK + frame_pad_));
    if (zero > 0) a_.xorps(x86::xmm0, x86::xmm0);
    if (zero <= 128) {
        for (int32_t at = 16; at <= static_cast<int32_t>(zero); at += 16)
            a_.movups(x86::ptr(x86::rbp, -at), x86::xmm0);
    } else {
        // 64 bytes a turn, from the lowest multiple of 64 that covers `zero` bytes.
        const Label loop = a_.newLabel();
        a_.mov(scratch2, Imm(-static_cast<int32_t>((zero + 63) / 64 * 64)));
        a_.bind(loop);
        for (int32_t at = 0; at < 64; at += 16)
            a_.movups(x86::ptr(x86::rbp, scratch2, 0, at), x86::xmm0);
        a_.add(scratch2, Imm(64));
        a_.jnz(loop);
    }
    for (const x86::Gp& r : saved_)
        a_.push(r);
}

void Codegen::emit_exit() {
    for (size_t k = saved_.size(); k-- > 0;)
        a_.pop(saved_[k]);
    a_.leave();
    a_.ret();
}

void Codegen::emit_jump(const Slot& s, bool negate, Label target) {
    if (!target.isValid()) target = targets_[static_cast<size_t>(s.off)];
    if (s.op == Op::ja || s.op == Op::gotol) {
        jump(target);
        return;
    }
    const x86::CondCode cc = emit_compare(s);
    jump(target, negate ? x86::negateCond(cc) : cc);
}

x86::CondCode Codegen::emit_compare(const Slot& s) {
    const uint8_t code = info(s.op).opcode;
    const bool is64 = bpf_class(code) == BPF_JMP;
    const uint8_t op = bpf_op(code);
    const x86::Gp lhs = bpf_reg(s.dst, is64);
    if (op != BPF_JSET && bpf_srcbit(code) == BPF_K && static_cast<int32_t>(s.imm) == 0) {
        a_.test(lhs, lhs); // shorter than cmp with 0, and the same flags
    } else {
        const asmjit::Operand rhs = bpf_srcbit(code) == BPF_X
                                        ? asmjit::Operand(bpf_reg(s.src, is64))
                                        : imm_operand(s, is64);
        a_.emit(op == BPF_JSET ? x86::Inst::kIdTest : x86::Inst::kIdCmp, lhs, rhs);
    }
    return condition(op);
}

void Codegen::emit_lddw(const Slot& s) {
    const x86::Gp dst = bpf_reg(s.dst);
    if (!keys_) {
        mov_imm64(dst, s.imm);
        return;
    }
    const uint64_t key = keys_->next64();
    mov_imm64(dst, s.imm ^ key);
    mov_imm64(scratch, key);
    a_.xor_(dst, scratch);
}

// R1-R5 are already where System V wants them; the RunState goes sixth.
void Codegen::emit_call_helper(size_t i, const Slot& s) {
    if (emit_direct_lookup(i, s)) return;
    // Of the helpers a verified program may call, only bpf_tail_call asks for a tail call.
    const bool tail_call = prog_.insns()[i].imm == bpf_func_tail_call;
    if (tail_call) a_.mov(ctx_field(offsetof(JitRunContext, tail_r1), 8), bpf_reg(BPF_REG_1));
    a_.mov(scratch3, ctx_field(offsetof(JitRunContext, state), 8));
    a_.mov(x86::rax, Imm(s.imm)); // the HelperFn; rax receives R0 anyway
    a_.call(x86::rax);
    a_.mov(scratch2, ctx_field(offsetof(JitRunContext, state), 8));
    a_.cmp(x86::byte_ptr(scratch2, run_state_layout().fault_flag), Imm(0));
    jump(early_exit(i, JitExit::helper_fault), x86::CondCode::kNE);
    if (tail_call) emit_tail_call_check(i);
}

// bpf_map_lookup_elem on the map the lddw just before put in R1 (clang's `r1 = map ll; call 1`):
// the map's own lookup, called directly as the kernel's JIT does after map_gen_lookup. It cannot
// fault, so the flag goes untested.
bool Codegen::emit_direct_lookup(size_t i, const Slot& s) {
    if (prog_.insns()[i].imm != bpf_func_map_lookup_elem ||
        s.imm != reinterpret_cast<uint64_t>(kernel_map_lookup_elem()) || i < 2 ||
        entered_elsewhere(i))
        return false;
    const Slot& lddw = prog_.slots()[i - 2];
    const uint8_t pseudo = prog_.insns()[i - 2].src;
    if (lddw.op != Op::lddw || lddw.dst != BPF_REG_1 ||
        (pseudo != BPF_PSEUDO_MAP_FD && pseudo != BPF_PSEUDO_MAP_IDX))
        return false;
    const Map::DirectLookup lookup = reinterpret_cast<Map*>(lddw.imm)->direct_lookup();
    if (!lookup) return false;
    a_.mov(x86::rax, Imm(reinterpret_cast<uint64_t>(lookup)));
    a_.call(x86::rax);
    return true;
}

void Codegen::emit_callx(size_t i, const Slot& s) {
    a_.mov(ctx_field(offsetof(JitRunContext, tail_r1), 8), bpf_reg(BPF_REG_1));
    a_.mov(ctx_field(offsetof(JitRunContext, callx_id), 8), bpf_reg(s.dst));
    a_.mov(ctx_field(offsetof(JitRunContext, callx_reg), 1), Imm(s.dst));
    a_.mov(scratch3, ctx_reg);
    a_.mov(x86::rax, Imm(reinterpret_cast<uint64_t>(&Runtime::callx)));
    a_.call(x86::rax);
    a_.cmp(ctx_field(offsetof(JitRunContext, exit), 4), Imm(0));
    jump(early_exit(i, JitExit::none), x86::CondCode::kNE);
    a_.mov(scratch2, ctx_field(offsetof(JitRunContext, state), 8));
    emit_tail_call_check(i);
}

// After bpf_tail_call or a callx that did not fault (its RunState in r11): the tail call asked
// for, if any.
void Codegen::emit_tail_call_check(size_t i) {
    const Label tail = a_.newLabel();
    tail_calls_.push_back({tail, static_cast<uint32_t>(i)});
    a_.cmp(x86::qword_ptr(scratch2, run_state_layout().pending_tail_call), Imm(0));
    jump(tail, x86::CondCode::kNE);
}

void Codegen::emit_call_local(size_t i, const Slot& s) {
    const x86::Mem depth = ctx_field(offsetof(JitRunContext, depth), 4);
    a_.cmp(depth, Imm(MAX_CALL_FRAMES - 1));
    jump(early_exit(i, JitExit::call_depth), x86::CondCode::kAE);
    a_.inc(depth);
    // A tail call in the callee makes its target the current program; this code goes on in its
    // own. Two pushes keep rsp 16-byte aligned.
    const x86::Mem current = ctx_field(offsetof(JitRunContext, current), 8);
    const x86::Mem helpers = ctx_field(offsetof(JitRunContext, helpers), 8);
    if (makes_tail_calls_) {
        a_.push(current);
        a_.push(helpers);
    }
    a_.call(functions_[static_cast<size_t>(s.off)]);
    if (makes_tail_calls_) {
        a_.pop(helpers);
        a_.pop(current);
    }
    a_.dec(depth);
}

// The entry points and each function's frame stub (see codegen.hpp).
void Codegen::emit_entries(GeneratedCode& out, std::span<const uint32_t> zero) {
    const x86::Mem host_sp = ctx_field(offsetof(JitRunContext, host_sp), 8);
    const auto clear = [&](std::initializer_list<int> regs) {
        for (int r : regs)
            a_.xor_(bpf_reg(r, false), bpf_reg(r, false));
    };
    std::vector<Label> stubs(out.functions.size());
    for (Label& stub : stubs)
        stub = a_.newLabel();

    // The entries keep r12 for the host; the frame stub's prologue keeps rbp, rbx and r13-r15,
    // as any BPF function's keeps R10 and R6-R9 for its caller. rsp is 16-byte aligned at the
    // calls, as everywhere. A run starts with ctx->host_sp unset; a callback's run puts back the
    // one of the run it is nested in.
    out.entry_offset = static_cast<uint32_t>(a_.offset());
    a_.push(x86::r12);
    a_.mov(ctx_reg, x86::rdx);
    clear({3, 4, 5});
    a_.call(stubs[0]);
    a_.pop(x86::r12);
    a_.ret();

    out.callback_entry_offset = static_cast<uint32_t>(a_.offset());
    a_.push(x86::r12);
    a_.mov(ctx_reg, x86::r9);
    a_.push(host_sp);
    a_.sub(x86::rsp, Imm(8));
    a_.call(ctx_field(offsetof(JitRunContext, callback), 8));
    a_.add(x86::rsp, Imm(8));
    a_.pop(host_sp);
    a_.pop(x86::r12);
    a_.ret();

    // A function's frame stub: records where its entry's epilogue is, builds the function's
    // frame, clears R0 and the saved R6-R9 (the registers a run does not get as arguments that
    // the program names) and jumps past the function's own prologue.
    for (size_t k = 0; k < stubs.size(); ++k) {
        out.function_entries.push_back(static_cast<uint32_t>(a_.offset()));
        a_.bind(stubs[k]);
        a_.mov(host_sp, x86::rsp);
        clear({0});
        emit_prologue(zero[k]);
        for (const x86::Gp& r : saved_)
            a_.xor_(r.r32(), r.r32());
        a_.jmp(targets_[out.functions[k]]);
    }

    // An early exit: unwinds to the innermost entry's frame stub and leaves its frame as exit
    // does, which gives the host its rbp, rbx and r13-r15 back; then returns into the entry.
    a_.bind(unwind_);
    a_.mov(x86::rsp, host_sp);
    a_.sub(x86::rsp, Imm(8 + MAX_BPF_STACK + frame_pad_ + 8 * saved_.size()));
    for (size_t k = saved_.size(); k-- > 0;)
        a_.pop(saved_[k]);
    a_.add(x86::rsp, Imm(MAX_BPF_STACK + frame_pad_));
    a_.pop(x86::rbp);
    a_.ret();
}

void Codegen::emit_early_exits() {
    const x86::Mem exit_insn = ctx_field(offsetof(JitRunContext, exit_insn), 4);
    const x86::Mem exit = ctx_field(offsetof(JitRunContext, exit), 4);
    for (const EarlyExit& e : early_exits_) {
        a_.bind(e.label);
        a_.mov(exit_insn, Imm(e.insn));
        if (e.exit != JitExit::none) a_.mov(exit, Imm(static_cast<uint32_t>(e.exit)));
        a_.jmp(unwind_);
    }
    // R1-R5 are dead after a legacy load (the verifier makes them unreadable), as in the kernel,
    // which calls a helper for these loads.
    for (const NegativeLoad& n : negative_loads_) {
        a_.bind(n.label);
        a_.mov(x86::rsi, scratch3);
        a_.mov(x86::rdi, ctx_field(offsetof(JitRunContext, state), 8));
        a_.mov(x86::edx, Imm(n.size));
        a_.mov(x86::rax, Imm(reinterpret_cast<uint64_t>(&load_packet_neg)));
        a_.call(x86::rax);
        a_.test(x86::rax, x86::rax);
        a_.js(packet_oob_);
        a_.jmp(n.resume);
    }
    a_.bind(packet_oob_);
    a_.xor_(x86::eax, x86::eax);
    a_.jmp(unwind_);
    if (tail_calls_.empty()) return;

    // A tail call: the call's index first, for a fault; rsp is as at the helper call, aligned.
    for (const TailCall& t : tail_calls_) {
        a_.bind(t.label);
        a_.mov(exit_insn, Imm(t.insn));
        a_.jmp(tail_call_);
    }
    const Label failed = a_.newLabel();
    a_.bind(tail_call_);
    a_.mov(x86::rdi, ctx_reg);
    a_.mov(x86::rax, Imm(reinterpret_cast<uint64_t>(&Runtime::tail_call)));
    a_.call(x86::rax);
    a_.test(x86::rax, x86::rax);
    a_.jz(failed);
    a_.mov(bpf_reg(BPF_REG_1), ctx_field(offsetof(JitRunContext, tail_r1), 8));
    a_.jmp(x86::rax);
    a_.bind(failed);
    a_.mov(exit, Imm(static_cast<uint32_t>(JitExit::helper_fault)));
    a_.jmp(unwind_);
}

Label Codegen::early_exit(size_t insn, JitExit exit) {
    const Label label = a_.newLabel();
    early_exits_.push_back({label, static_cast<uint32_t>(insn), exit});
    return label;
}

asmjit::Operand Codegen::imm_operand(const Slot& s, bool is64) {
    const auto imm = static_cast<int32_t>(s.imm);
    if (!keys_) return Imm(imm);
    const x86::Gp reg = is64 ? scratch : scratch.r32();
    load_imm(reg, imm);
    return reg;
}

void Codegen::load_imm(const x86::Gp& reg, int32_t imm) {
    const uint64_t value =
        reg.isGpq() ? static_cast<uint64_t>(int64_t{imm}) : static_cast<uint32_t>(imm);
    if (!keys_) {
        mov_imm64(reg.r64(), value);
        return;
    }
    // Both halves sign-extend alike, so the 64-bit XOR rebuilds the sign-extended immediate.
    const auto key = static_cast<int32_t>(keys_->next32());
    a_.mov(reg, Imm(imm ^ key));
    a_.xor_(reg, Imm(key));
}

// The shortest of mov r32, imm32 (zero-extends), mov r64, simm32 and movabs.
void Codegen::mov_imm64(const x86::Gp& reg, uint64_t value) {
    if (value <= UINT32_MAX)
        a_.mov(reg.r32(), Imm(value));
    else
        a_.mov(reg.r64(), Imm(value));
}

void Codegen::jump(const Label& target, std::optional<x86::CondCode> cc) {
    const size_t k = jumps_.size();
    jumps_.push_back({a_.offset(), target.id()});
    if (short_jumps_ && k < short_jumps_->size() && (*short_jumps_)[k]) a_.short_();
    if (cc)
        a_.j(*cc, target);
    else
        a_.jmp(target);
}

std::vector<bool> Codegen::measured_short_jumps() const {
    // A forward jump that reached its label within 120 bytes here reaches it within as many
    // next time, but for the loop heads between, whose padding may grow to the alignment less
    // one. (Backward jumps are short whenever they fit anyway.)
    constexpr size_t reach = 120;
    const asmjit::CodeHolder& code = *a_.code();
    std::vector<bool> out;
    out.reserve(jumps_.size());
    for (const Jump& j : jumps_) {
        const uint64_t to = code.labelOffset(j.label);
        if (!code.isLabelBound(j.label) || to <= j.offset) {
            out.push_back(false);
            continue;
        }
        const auto heads =
            static_cast<size_t>(std::lower_bound(aligned_at_.begin(), aligned_at_.end(), to) -
                                std::upper_bound(aligned_at_.begin(), aligned_at_.end(), j.offset));
        out.push_back(to - j.offset + heads * (loop_alignment - 1) <= reach);
    }
    return out;
}

// Two passes: the first measures how far each forward jump goes, so that the second can give
// the near ones the 2-byte form, as the kernel's JIT does with its passes.
Result<GeneratedCode> generate(asmjit::CodeHolder& code, const Program& prog,
                               const JitOptions& options, bool tail_call_frames) {
    const uint64_t seed = options.blind_constants ? BlindingKeys::random_seed() : 0;
    asmjit::CodeHolder scratch;
    if (asmjit::Error err = scratch.init(code.environment()))
        return Error{std::string("code generation failed: ") +
                         asmjit::DebugUtils::errorAsString(err),
                     std::nullopt};
    // Switch tables' bounds would be unblinded immediates.
    const ProgramFacts facts = analyze(prog, !options.blind_constants);
    Codegen first(scratch, prog, facts, options, tail_call_frames, seed, nullptr);
    if (auto measured = first.generate(); !measured) return measured.error();
    const std::vector<bool> short_jumps = first.measured_short_jumps();
    return Codegen(code, prog, facts, options, tail_call_frames, seed, &short_jumps).generate();
}

} // namespace ebpf::jit::x86_64
