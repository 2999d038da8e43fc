// The structural passes, in the kernel's order: subprograms (add_subprog_and_kfunc), jumps kept
// inside their subprogram (check_subprogs), lddw forms and opcodes (resolve_pseudo_ldimm64), and
// the control-flow graph walk (check_cfg).
#include "verifier/env.hpp"

#include <algorithm>

namespace ebpf::verifier {
namespace {

bool is_pseudo_call(const Insn& insn) {
    return insn.opcode == (BPF_JMP | BPF_CALL) && insn.src == BPF_PSEUDO_CALL;
}
bool is_pseudo_func(const Insn& insn) {
    return insn.opcode == BPF_LDDW && insn.src == BPF_PSEUDO_FUNC;
}
bool is_kfunc_call(const Insn& insn) {
    return insn.opcode == (BPF_JMP | BPF_CALL) && insn.src == BPF_PSEUDO_KFUNC_CALL;
}

constexpr uint32_t max_subprogs = 256;
constexpr uint32_t max_var_off = 1u << 29;

// The kernel's table of opcode bytes (bpf_opcode_in_insntable): the opcode table's rows, except
// callx, which Linux has no encoding for.
bool opcode_in_insntable(uint8_t code) {
    return code != (BPF_JMP | BPF_CALL | BPF_X) && opcode_known(code);
}

} // namespace

int Env::add_subprogs() {
    std::vector<uint32_t> starts{0};
    for (uint32_t i = 0; i < insns_.size(); ++i) {
        const Insn& insn = insns_[i];
        if (!is_pseudo_func(insn) && !is_pseudo_call(insn) && !is_kfunc_call(insn)) continue;
        if (!opts_.privileged)
            return reject(-EPERM_, "loading/calling other bpf or kernel functions are allowed for "
                                   "CAP_BPF and CAP_SYS_ADMIN");
        // Id 0 is how libbpf poisons a weak kfunc it could not resolve: fine where dead code.
        if (is_kfunc_call(insn) && insn.imm == 0) continue;
        if (is_kfunc_call(insn)) return reject(-EINVAL_, "kernel function calls are not supported");
        const int64_t target = static_cast<int64_t>(i) + insn.imm + 1;
        if (target < 0 || target >= static_cast<int64_t>(insns_.size()))
            return reject(-EINVAL_, "call to invalid destination");
        starts.push_back(static_cast<uint32_t>(target));
    }
    std::sort(starts.begin(), starts.end());
    starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
    if (starts.size() > max_subprogs) return reject(-EINVAL_, "too many subprograms");
    for (uint32_t s : starts)
        subprogs_.push_back(Subprog{s});
    subprogs_.push_back(Subprog{static_cast<uint32_t>(insns_.size())}); // the end marker
    return 0;
}

int Env::find_subprog(uint32_t start) const {
    for (size_t i = 0; i + 1 < subprogs_.size(); ++i)
        if (subprogs_[i].start == start) return static_cast<int>(i);
    return -1;
}

uint32_t Env::subprog_of(uint32_t insn_idx) const {
    uint32_t i = 0;
    while (i + 2 < subprogs_.size() && subprogs_[i + 1].start <= insn_idx)
        ++i;
    return i;
}

int Env::check_subprogs() {
    size_t cur = 0;
    uint32_t start = subprogs_[0].start, end = subprogs_[1].start;
    for (uint32_t i = 0; i < insns_.size(); ++i) {
        const uint8_t code = insns_[i].opcode;
        const uint8_t cls = bpf_class(code);
        if (code == (BPF_JMP | BPF_CALL) && insns_[i].src == 0 && insns_[i].imm == 12) // tail_call
            subprogs_[cur].has_tail_call = true;
        if (cls == BPF_LD && (bpf_mode(code) == BPF_ABS || bpf_mode(code) == BPF_IND))
            subprogs_[cur].has_ld_abs = true;
        if ((cls == BPF_JMP || cls == BPF_JMP32) && bpf_op(code) != BPF_EXIT &&
            bpf_op(code) != BPF_CALL) {
            const int64_t off = static_cast<int64_t>(i) + 1 +
                                (code == (BPF_JMP32 | BPF_JA) ? insns_[i].imm : insns_[i].off);
            if (off < start || off >= end)
                return reject(-EINVAL_, "jump out of range from insn %u to %lld", i,
                              static_cast<long long>(off));
        }
        if (i == end - 1) {
            // No falling through from one subprogram into the next.
            if (code != (BPF_JMP | BPF_EXIT) && code != (BPF_JMP32 | BPF_JA) &&
                code != (BPF_JMP | BPF_JA))
                return reject(-EINVAL_, "last insn is not an exit or jmp");
            start = end;
            ++cur;
            if (cur + 1 < subprogs_.size()) end = subprogs_[cur + 1].start;
        }
    }
    return 0;
}

int Env::resolve_pseudo_ldimm64() {
    for (uint32_t i = 0; i < insns_.size(); ++i) {
        const Insn& insn = insns_[i];
        if (bpf_class(insn.opcode) == BPF_LDX &&
            ((bpf_mode(insn.opcode) != BPF_MEM && bpf_mode(insn.opcode) != BPF_MEMSX) ||
             insn.imm != 0))
            return reject(-EINVAL_, "BPF_LDX uses reserved fields");
        if (insn.opcode == BPF_LDDW) {
            if (i + 1 == insns_.size() || insns_[i + 1].opcode || insns_[i + 1].dst ||
                insns_[i + 1].src || insns_[i + 1].off)
                return reject(-EINVAL_, "invalid bpf_ld_imm64 insn");
            const Insn& next = insns_[i + 1];
            switch (insn.src) {
            case 0:
            case BPF_PSEUDO_FUNC: break;
            case BPF_PSEUDO_MAP_FD:
            case BPF_PSEUDO_MAP_IDX:
            case BPF_PSEUDO_MAP_VALUE:
            case BPF_PSEUDO_MAP_IDX_VALUE: {
                // Unprivileged, Linux 6.18 takes a direct map value address as the map's own
                // address (and so refuses an offset into it).
                const bool value =
                    (insn.src == BPF_PSEUDO_MAP_VALUE || insn.src == BPF_PSEUDO_MAP_IDX_VALUE) &&
                    opts_.privileged;
                if (!value && next.imm != 0)
                    return reject(-EINVAL_, "unrecognized bpf_ld_imm64 insn");
                if (insn.imm < 0 || static_cast<size_t>(insn.imm) >= opts_.maps.size() ||
                    !opts_.maps[insn.imm])
                    return reject(-EBADF_, "fd %d is not pointing to valid bpf_map", insn.imm);
                const Map* map = opts_.maps[insn.imm];
                if (int err = check_map_prog_compatibility(*map)) return err;
                if (value) {
                    const uint32_t off = static_cast<uint32_t>(next.imm);
                    if (off >= max_var_off)
                        return reject(-EINVAL_, "direct value offset of %u is not allowed", off);
                    if (map->type() != MapType::array)
                        return reject(-EINVAL_, "no direct value access support for this map type");
                    if (map->def().max_entries == 0 || off >= map->def().value_size)
                        return reject(-EINVAL_,
                                      "invalid access to map value pointer, value_size=%u off=%u",
                                      map->def().value_size, off);
                }
                break;
            }
            default: return reject(-EINVAL_, "unrecognized bpf_ld_imm64 insn");
            }
            ++i;
            continue;
        }
        if (!opcode_in_insntable(insn.opcode))
            return reject(-EINVAL_, "unknown opcode %02x", insn.opcode);
    }
    return 0;
}

int Env::check_map_prog_compatibility(const Map& map) {
    const ProgType t = opts_.prog_type;
    const bool tracing = t == ProgType::kprobe || t == ProgType::tracepoint ||
                         t == ProgType::perf_event || t == ProgType::raw_tracepoint ||
                         t == ProgType::raw_tracepoint_writable;
    if (map.def().spin_lock_off >= 0) {
        if (t == ProgType::socket_filter)
            return reject(-EINVAL_, "socket filter progs cannot use bpf_spin_lock yet");
        if (tracing) return reject(-EINVAL_, "tracing progs cannot use bpf_spin_lock yet");
    }
    if (map.def().timer_off >= 0 && tracing)
        return reject(-EINVAL_, "tracing progs cannot use bpf_timer yet");
    return 0;
}

int Env::check_cfg() {
    // Depth-first walk with an explicit stack, as the kernel's check_cfg: DISCOVERED and the
    // edges taken so far, EXPLORED when every edge is done.
    enum : uint8_t { discovered = 0x10, explored = 0x20, fallthrough = 1, branch = 2 };
    const uint32_t n = static_cast<uint32_t>(insns_.size());
    std::vector<uint8_t> state(n, 0);
    std::vector<uint32_t> stack{0};
    state[0] = discovered;
    prune_point_.assign(n, false);
    jmp_point_.assign(n, false);
    force_checkpoint_.assign(n, false);
    const auto mark_jmp_target = [&](uint32_t w) { prune_point_[w] = jmp_point_[w] = true; };

    enum { done = 0, keep = 1 };
    auto push = [&](uint32_t t, int64_t w, uint8_t e) -> int {
        if (e == fallthrough && state[t] >= (discovered | fallthrough)) return done;
        if (e == branch && state[t] >= (discovered | branch)) return done;
        if (w < 0 || w >= n)
            return reject(-EINVAL_, "jump out of range from insn %u to %lld", t,
                          static_cast<long long>(w));
        if (e == branch) mark_jmp_target(static_cast<uint32_t>(w));
        if (state[w] == 0) {
            state[t] = discovered | e;
            state[w] = discovered;
            stack.push_back(static_cast<uint32_t>(w));
            return keep;
        }
        if ((state[w] & 0xf0) == discovered) {
            if (opts_.privileged && !opts_.dag_mode) return done;
            return reject(-EINVAL_, "back-edge from insn %u to %lld", t, static_cast<long long>(w));
        }
        state[t] = discovered | e; // a forward or cross edge
        return done;
    };
    // A call goes on after itself, a point the kernel checkpoints (and where a callee returns).
    auto visit_call = [&](uint32_t t, uint32_t size, bool visit_callee) -> int {
        if (int r = push(t, t + size, fallthrough)) return r;
        if (t + size < n) mark_jmp_target(t + size);
        if (!visit_callee) return done;
        prune_point_[t] = true;
        return push(t, static_cast<int64_t>(t) + insns_[t].imm + 1, branch);
    };
    auto visit = [&](uint32_t t) -> int {
        const Insn& insn = insns_[t];
        const uint8_t cls = bpf_class(insn.opcode);
        if (is_pseudo_func(insn)) return visit_call(t, 2, true);
        if (cls != BPF_JMP && cls != BPF_JMP32)
            return push(t, t + (insn.opcode == BPF_LDDW ? 2 : 1), fallthrough);
        switch (bpf_op(insn.opcode)) {
        case BPF_EXIT: return done;
        case BPF_CALL:
            // Calls that run callbacks come back to themselves: a checkpoint there, always,
            // stops the iterations.
            if (insn.src == 0 && (insn.imm == 181 || insn.imm == 164)) {
                mark_jmp_target(t);
                force_checkpoint_[t] = true;
            }
            return visit_call(t, 1, is_pseudo_call(insn));
        case BPF_JA: {
            const int64_t off = cls == BPF_JMP32 ? insn.imm : insn.off;
            const int r = push(t, static_cast<int64_t>(t) + off + 1, fallthrough);
            if (r >= 0) mark_jmp_target(static_cast<uint32_t>(t + off + 1));
            return r;
        }
        default:
            prune_point_[t] = true;
            if (int r = push(t, t + 1, fallthrough)) return r;
            return push(t, static_cast<int64_t>(t) + insn.off + 1, branch);
        }
    };

    while (!stack.empty()) {
        const uint32_t t = stack.back();
        const int r = visit(t);
        if (r < 0) return r;
        if (r == done) {
            state[t] = explored;
            stack.pop_back();
        }
    }
    for (uint32_t i = 0; i < n; ++i) {
        if (state[i] != explored) return reject(-EINVAL_, "unreachable insn %u", i);
        if (insns_[i].opcode == BPF_LDDW) {
            if (i + 1 < n && state[i + 1] != 0)
                return reject(-EINVAL_, "jump into the middle of ldimm64 insn %u", i);
            ++i;
        }
    }
    return 0;
}

} // namespace ebpf::verifier
