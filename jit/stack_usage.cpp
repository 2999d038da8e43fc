#include "jit/stack_usage.hpp"

#include <algorithm>
#include <array>
#include <optional>

namespace ebpf::jit {
namespace {

constexpr int32_t bpf_func_tail_call = 12;
constexpr int last_arg = 5; // R5

// What a register holds, as far as this frame's stack goes.
struct Value {
    enum Kind : uint8_t { unset, other, frame, any_frame } kind = unset;
    int64_t offset = 0; // frame: R10 + offset

    bool operator==(const Value&) const = default;
    bool points_here() const { return kind == frame || kind == any_frame; }

    static Value join(const Value& a, const Value& b) {
        if (a.kind == unset) return b;
        if (b.kind == unset || a == b) return a;
        if (a.kind == other && b.kind == other) return a;
        return {any_frame, 0};
    }
};
constexpr Value other{Value::other, 0};
constexpr Value any_frame{Value::any_frame, 0};

using Regs = std::array<Value, MAX_BPF_REG>;

class Analysis {
  public:
    Analysis(const Program& prog, size_t entry)
        : prog_(prog), states_(prog.slots().size()), dirty_(prog.slots().size(), false) {
        const auto& slots = prog.slots();
        for (const Slot& s : slots)
            if (s.op == Op::lddw && s.src == BPF_PSEUDO_FUNC) has_callbacks_ = true;
        Regs start;
        start.fill(other);
        start[BPF_REG_10] = {Value::frame, 0};
        merge(entry, entry, start);
        backward_ = false;
    }

    // The lowest offset below R10 the function may read, or nothing when it cannot tell.
    // Sweeps in instruction order, so that forward branches meet before their join is stepped;
    // only back edges call for another sweep.
    std::optional<int64_t> run() {
        for (bool again = true; again && !gave_up_;) {
            again = false;
            for (size_t i = 0; i < states_.size() && !gave_up_; ++i) {
                if (!dirty_[i]) continue;
                dirty_[i] = false;
                step(i, *states_[i]);
                again |= backward_;
                backward_ = false;
            }
        }
        if (gave_up_) return std::nullopt;
        return lowest_;
    }

  private:
    void merge(size_t from, size_t i, const Regs& in) {
        if (i >= states_.size()) return; // past the end: nothing runs there
        bool changed = !states_[i];
        if (changed) {
            states_[i] = in;
        } else {
            Regs& state = *states_[i];
            for (size_t r = 0; r < in.size(); ++r) {
                const Value joined = Value::join(state[r], in[r]);
                changed |= !(joined == state[r]);
                state[r] = joined;
            }
        }
        if (!changed) return;
        dirty_[i] = true;
        backward_ |= i <= from;
    }

    void access(const Value& base, int64_t off) {
        if (base.kind == Value::any_frame) gave_up_ = true;
        if (base.kind == Value::frame) lowest_ = std::min(lowest_, base.offset + off);
    }

    // A value leaves for memory or a callee: the analysis cannot follow it there.
    void escape(const Value& v) {
        if (v.points_here()) gave_up_ = true;
    }

    void step(size_t i, Regs regs) {
        const Slot& s = prog_.slots()[i];
        const OpcodeInfo& row = info(s.op);
        const uint8_t code = row.opcode;
        const uint8_t cls = bpf_class(code);
        size_t next = i + 1;
        switch (cls) {
        case BPF_ALU:
        case BPF_ALU64: regs[s.dst] = alu(s, regs, cls == BPF_ALU64); break;
        case BPF_LD:
            if (s.op == Op::lddw) {
                regs[s.dst] = other;
                next = i + 2;
            } else {
                regs[BPF_REG_0] = other; // LD_ABS, LD_IND
            }
            break;
        case BPF_LDX:
            access(regs[s.src], s.off);
            regs[s.dst] = other; // nothing pointing here was ever stored
            break;
        case BPF_ST: access(regs[s.dst], s.off); break;
        case BPF_STX:
            access(regs[s.dst], s.off);
            escape(regs[s.src]);
            if (bpf_mode(code) == BPF_ATOMIC) {
                if (row.key_value == BPF_CMPXCHG)
                    regs[BPF_REG_0] = other;
                else if (row.key_value & BPF_FETCH || row.key_value == BPF_XCHG)
                    regs[s.src] = other;
            }
            break;
        default: // BPF_JMP, BPF_JMP32
            switch (s.op) {
            case Op::exit: return;
            case Op::call_helper:
            case Op::callx:
            case Op::call_kfunc: call(i, s, regs); break;
            case Op::call_local:
                for (int r = BPF_REG_1; r <= last_arg; ++r)
                    escape(regs[r]);
                clobber(regs);
                break;
            case Op::ja:
            case Op::gotol: next = static_cast<size_t>(s.off); break;
            default: merge(i, static_cast<size_t>(s.off), regs); break;
            }
        }
        merge(i, next, regs);
    }

    void call(size_t i, const Slot& s, Regs& regs) {
        if (s.op == Op::callx || prog_.insns()[i].imm == bpf_func_tail_call) gave_up_ = true;
        for (int r = BPF_REG_1; r <= last_arg; ++r) {
            if (has_callbacks_) escape(regs[r]);
            access(regs[r], 0);
        }
        clobber(regs);
    }

    static void clobber(Regs& regs) {
        for (int r = BPF_REG_0; r <= last_arg; ++r)
            regs[r] = other;
    }

    static Value alu(const Slot& s, const Regs& regs, bool is64) {
        const uint8_t code = info(s.op).opcode;
        const bool by_reg = bpf_srcbit(code) == BPF_X;
        const Value dst = regs[s.dst];
        const Value src = by_reg ? regs[s.src] : other;
        // A 32-bit result is no pointer: its upper half is gone.
        if (!is64) return other;
        const uint8_t op = bpf_op(code);
        if (op == BPF_MOV) return by_reg && s.op == Op::mov64_reg ? src : other;
        if (!dst.points_here() && !src.points_here()) return other;
        const auto imm = static_cast<int64_t>(static_cast<int32_t>(s.imm));
        if (dst.kind == Value::frame && !by_reg && op == BPF_ADD)
            return {Value::frame, dst.offset + imm};
        if (dst.kind == Value::frame && !by_reg && op == BPF_SUB)
            return {Value::frame, dst.offset - imm};
        return any_frame;
    }

    const Program& prog_;
    std::vector<std::optional<Regs>> states_;
    std::vector<bool> dirty_;
    bool backward_ = false; // a state changed at or before the instruction being stepped
    bool has_callbacks_ = false;
    bool gave_up_ = false;
    int64_t lowest_ = 0;
};

} // namespace

std::vector<uint32_t> stack_to_zero(const Program& prog, std::span<const uint32_t> functions) {
    std::vector<uint32_t> out;
    for (uint32_t entry : functions) {
        const auto lowest = Analysis(prog, entry).run();
        int64_t bytes = lowest ? -*lowest : MAX_BPF_STACK;
        bytes = std::clamp<int64_t>((bytes + 15) / 16 * 16, 0, MAX_BPF_STACK);
        out.push_back(static_cast<uint32_t>(bytes));
    }
    return out;
}

} // namespace ebpf::jit
