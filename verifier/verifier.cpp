// The verifier's entry: the kernel's passes in the kernel's order, then the statistics.
#include "verifier/env.hpp"

#include <chrono>

namespace ebpf::verifier {

Env::Env(Insns insns, const VerifierOptions& options) : insns_(insns), opts_(options) {
    aux_.resize(insns.size());
    states_.resize(insns.size());
    prune_point_.assign(insns.size(), false);
    jmp_point_.assign(insns.size(), false);
    force_checkpoint_.assign(insns.size(), false);
}

void Env::note_stack_depth(const FuncState& frame, uint32_t depth) {
    Subprog& sp = subprogs_[frame.subprogno];
    sp.stack_depth = std::max(sp.stack_depth, depth);
}

int Env::check_max_stack_depth() {
    // Walk the static call graph from the entry, summing each frame's stack (rounded to 16 as
    // the JIT does) along every chain.
    const auto round = [](uint32_t d) { return (d + 15) & ~15u; };
    uint32_t idx = 0, i = subprogs_[0].start, frame = 0;
    uint32_t depth = round(subprogs_[0].stack_depth);
    uint32_t ret_insn[MAX_CALL_FRAMES], ret_prog[MAX_CALL_FRAMES];
    if (depth > MAX_BPF_STACK)
        return reject(-EACCES_, "combined stack size of 1 calls is %u. Too large", depth);
    for (;;) {
        const uint32_t end = subprogs_[idx + 1].start;
        bool called = false;
        for (; i < end; ++i) {
            const Insn& insn = insns_[i];
            const bool call = insn.opcode == (BPF_JMP | BPF_CALL) && insn.src == BPF_PSEUDO_CALL;
            const bool func = insn.opcode == BPF_LDDW && insn.src == BPF_PSEUDO_FUNC;
            if (!call && !func) continue;
            ret_insn[frame] = i + (func ? 2 : 1);
            ret_prog[frame] = idx;
            const uint32_t next = i + insn.imm + 1;
            idx = static_cast<uint32_t>(find_subprog(next));
            i = next;
            if (++frame >= MAX_CALL_FRAMES)
                return reject(-E2BIG_, "the call stack of %u frames is too deep !", frame);
            depth += round(subprogs_[idx].stack_depth);
            if (depth > MAX_BPF_STACK)
                return reject(-EACCES_, "combined stack size of %u calls is %u. Too large",
                              frame + 1, depth);
            called = true;
            break;
        }
        if (called) continue;
        if (frame == 0) return 0;
        depth -= round(subprogs_[idx].stack_depth);
        --frame;
        i = ret_insn[frame];
        idx = ret_prog[frame];
    }
}

// fixup_kfunc_call: a kfunc call with id 0 that a path reaches cannot be made.
int Env::check_kfunc_calls_eliminated() {
    for (uint32_t i = 0; i < insns_.size(); ++i) {
        const Insn& insn = insns_[i];
        if (insn.opcode != (BPF_JMP | BPF_CALL) || insn.src != BPF_PSEUDO_KFUNC_CALL ||
            insn.imm != 0 || !aux_[i].seen)
            continue;
        cur_insn_ = i;
        return reject(-EINVAL_, "invalid kernel function call not eliminated in verifier pass");
    }
    return 0;
}

VerifierResult Env::run() {
    const auto start = std::chrono::steady_clock::now();
    int err = add_subprogs();
    if (!err) err = check_subprogs();
    if (!err) err = resolve_pseudo_ldimm64();
    if (!err) err = check_cfg();
    if (!err) compute_live_registers();
    if (!err) err = do_check();
    if (!err) err = check_max_stack_depth();
    if (!err) err = check_kfunc_calls_eliminated();
    const auto usec = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count();

    VerifierResult result;
    verbose("verification time %lld usec\n", static_cast<long long>(usec));
    std::string depths;
    for (size_t i = 0; i + 1 < subprogs_.size(); ++i) {
        if (i) depths += "+";
        depths += std::to_string(subprogs_[i].stack_depth);
        result.stack_depth.push_back(subprogs_[i].stack_depth);
    }
    if (subprogs_.empty()) depths = "0";
    verbose("stack depth %s\n", depths.c_str());
    verbose("processed %llu insns (limit %u) max_states_per_insn %u total_states %u peak_states %u "
            "mark_read 0\n",
            static_cast<unsigned long long>(insn_processed_), BPF_COMPLEXITY_LIMIT_INSNS,
            max_states_per_insn_, total_states_, peak_states_);
    result.accepted = err == 0;
    result.log = std::move(log_);
    if (err) {
        result.error = error_;
        result.error_insn = error_insn_;
    }
    result.insns_processed = insn_processed_;
    result.max_ctx_offset = max_ctx_offset_;
    result.aux = std::move(aux_);
    return result;
}

} // namespace ebpf::verifier

namespace ebpf {

VerifierResult verify(Insns insns, const VerifierOptions& options) {
    if (insns.empty()) {
        VerifierResult r;
        r.error = "program has no instructions";
        r.log = r.error + "\n";
        return r;
    }
    verifier::Env env(insns, options);
    return env.run();
}

} // namespace ebpf

namespace ebpf {

std::vector<Insn> sanitize_dead_code(Insns insns, const VerifierResult& result) {
    std::vector<Insn> out(insns.begin(), insns.end());
    const Insn trap = make_insn(BPF_JMP | BPF_JA, 0, 0, -1, 0);
    for (size_t i = 0; i < out.size(); ++i) {
        if (i < result.aux.size() && result.aux[i].seen) {
            // The kernel does not look at an exit's offset; the loader would refuse it.
            if (out[i].opcode == (BPF_JMP | BPF_EXIT)) out[i].off = 0;
            continue;
        }
        out[i] = trap;
    }
    return out;
}

} // namespace ebpf
