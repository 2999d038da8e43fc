// Threaded-code interpreter: each handler ends by jumping straight to the next one through a
// label table (GCC/Clang computed goto), over pre-decoded slots. One function body serves both
// modes; the checked mode's tests compile away in the fast instantiation.
#include "vm/interpreter.hpp"

#include <cstring>

namespace ebpf {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the ISA's le/be handlers assume it");

struct Frame {
    const Slot* ret;
    const Program* prog; // the caller's program (a tail call may have switched programs)
    uint64_t saved[5];   // r6-r9 and r10
};

// What nested runs of one program share: callbacks run the program's subprograms through
// RunState::call_subprog, within the same frame limit and instruction budget.
struct Engine {
    const Program* prog;
    const RunArgs* args;
    uint64_t budget;
    int depth; // frames in use by the runs that called this one
};

template <typename T> T load(uint64_t addr) {
    T v;
    std::memcpy(&v, reinterpret_cast<const void*>(addr), sizeof v);
    return v;
}

template <typename T> void store(uint64_t addr, T v) {
    std::memcpy(reinterpret_cast<void*>(addr), &v, sizeof v);
}

// Signed division with the kernel's results: x/0 = 0, x%0 = x, INT_MIN/-1 = INT_MIN, INT_MIN%-1 =
// 0.
template <typename S, typename U> U sdiv(U a, U b) {
    if (b == 0) return 0;
    if (static_cast<S>(b) == -1) return U(0) - a;
    return static_cast<U>(static_cast<S>(a) / static_cast<S>(b));
}
template <typename S, typename U> U smod(U a, U b) {
    if (b == 0) return a;
    if (static_cast<S>(b) == -1) return 0;
    return static_cast<U>(static_cast<S>(a) % static_cast<S>(b));
}

std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(v));
    return buf;
}

template <bool Checked>
Result<RunResult> run(Engine& eng, uint32_t start, const uint64_t (&in)[5], RunState& state);

template <bool Checked>
uint64_t call_subprog(RunState* state, uint64_t target, uint64_t r1, uint64_t r2, uint64_t r3,
                      uint64_t r4, uint64_t r5) {
    Engine& eng = *static_cast<Engine*>(state->engine);
    if (target >= eng.prog->slots().size()) {
        state->fault("callback at insn " + std::to_string(target) + " is outside the program");
        return 0;
    }
    const uint64_t in[5] = {r1, r2, r3, r4, r5};
    auto r = run<Checked>(eng, static_cast<uint32_t>(target), in, *state);
    if (!r) {
        state->fault(r.error().to_string());
        return 0;
    }
    return r->r0;
}

template <bool Checked>
Result<RunResult> run(Engine& eng, uint32_t start, const uint64_t (&in)[5], RunState& state) {
    static const void* const labels[op_count] = {
#define EBPF_X_LABEL(name, ...) &&L_##name,
        EBPF_OPCODES(EBPF_X_LABEL)
#undef EBPF_X_LABEL
    };

    alignas(16) uint8_t stack[MAX_CALL_FRAMES * MAX_BPF_STACK];
    const uint64_t stack_lo = reinterpret_cast<uint64_t>(stack);
    const uint64_t stack_hi = stack_lo + sizeof stack;
    Frame frames[MAX_CALL_FRAMES];
    int depth = 0;
    const int depth_base = eng.depth;
    const RunArgs& args = *eng.args;

    uint64_t reg[MAX_BPF_REG] = {};
    for (int i = 0; i < 5; ++i)
        reg[1 + i] = in[i];
    reg[10] = stack_hi;
    // Zeroed so that no host data can leak through a frame's uninitialised stack.
    std::memset(stack + sizeof stack - MAX_BPF_STACK, 0, MAX_BPF_STACK);
    // Helpers see this run's stack as memory the program may hand them (bpf_loop's context, a
    // %s string, a checked run's pointer arguments) until the run returns.
    struct StackRegion {
        RunState& state;
        size_t regions = state.region_count();
        ~StackRegion() { state.drop_regions(regions); }
    } stack_region{state};
    state.allow(stack, sizeof stack, true);

    // A callback's caller goes on in the program it was in, whatever this run tail-called.
    struct ProgramRestore {
        Engine& eng;
        const Program* const prog = eng.prog;
        ~ProgramRestore() { eng.prog = prog; }
    } program_restore{eng};
    const Program* prog = eng.prog;
    const Slot* base = prog->slots().data();
    const Slot* pc = base + start;
    uint64_t budget = eng.budget;
    // Helpers may run callbacks: they see this run's frames and budget through the engine.
    auto before_helper = [&] {
        eng.depth = depth_base + depth + 1;
        if constexpr (Checked) eng.budget = budget;
    };
    auto after_helper = [&] {
        eng.depth = depth_base;
        if constexpr (Checked) budget = eng.budget;
    };
    uint64_t fault_addr = 0, fault_len = 0;
    bool fault_write = false;
    const char* fault_what = nullptr;

    auto accessible = [&](uint64_t addr, uint64_t len, bool write) {
        return (addr >= stack_lo && len <= stack_hi - stack_lo &&
                addr - stack_lo <= stack_hi - stack_lo - len) ||
               state.accessible(addr, len, write);
    };

#define R(n) reg[pc->n]
#define DISPATCH                                                                                   \
    do {                                                                                           \
        if constexpr (Checked) {                                                                   \
            if (budget-- == 0) goto budget_exhausted;                                              \
        }                                                                                          \
        goto* labels[static_cast<size_t>(pc->op)];                                                 \
    } while (0)
#define NEXT                                                                                       \
    do {                                                                                           \
        ++pc;                                                                                      \
        DISPATCH;                                                                                  \
    } while (0)
#define BRANCH(cond)                                                                               \
    {                                                                                              \
        if (cond) {                                                                                \
            pc = base + pc->off;                                                                   \
            DISPATCH;                                                                              \
        }                                                                                          \
        NEXT;                                                                                      \
    }
#define CHECK_ACCESS(addr, len, write)                                                             \
    if constexpr (Checked) {                                                                       \
        if (!accessible(addr, len, write)) {                                                       \
            fault_addr = addr, fault_len = len, fault_write = write;                               \
            goto memory_fault;                                                                     \
        }                                                                                          \
    }
#define CHECK_ALIGNED(addr, len)                                                                   \
    if constexpr (Checked) {                                                                       \
        if ((addr) % (len) != 0) {                                                                 \
            fault_addr = addr, fault_len = len, fault_what = "misaligned atomic access";           \
            goto memory_fault;                                                                     \
        }                                                                                          \
    }

    DISPATCH;

    // ALU: 32-bit forms operate on and zero-extend the low halves; shift counts are masked.
#define ALU(name, U, expr)                                                                         \
    L_##name##_imm : {                                                                             \
        const U a = static_cast<U>(R(dst)), b = static_cast<U>(pc->imm);                           \
        R(dst) = static_cast<U>(expr);                                                             \
        NEXT;                                                                                      \
    }                                                                                              \
    L_##name##_reg : {                                                                             \
        const U a = static_cast<U>(R(dst)), b = static_cast<U>(R(src));                            \
        R(dst) = static_cast<U>(expr);                                                             \
        NEXT;                                                                                      \
    }
#define ALU_BOTH(name, expr)                                                                       \
    ALU(name##32, uint32_t, expr)                                                                  \
    ALU(name##64, uint64_t, expr)

    ALU_BOTH(add, a + b)
    ALU_BOTH(sub, a - b)
    ALU_BOTH(mul, a * b)
    ALU_BOTH(or, a | b)
    ALU_BOTH(and, a & b)
    ALU_BOTH(xor, a ^ b)
    ALU_BOTH(div, b ? a / b : 0)
    ALU_BOTH(mod, b ? a % b : a)
    ALU(lsh32, uint32_t, a << (b & 31))
    ALU(lsh64, uint64_t, a << (b & 63))
    ALU(rsh32, uint32_t, a >> (b & 31))
    ALU(rsh64, uint64_t, a >> (b & 63))
    ALU(arsh32, uint32_t, static_cast<int32_t>(a) >> (b & 31))
    ALU(arsh64, uint64_t, static_cast<int64_t>(a) >> (b & 63))
    ALU(sdiv32, uint32_t, (sdiv<int32_t, uint32_t>(a, b)))
    ALU(sdiv64, uint64_t, (sdiv<int64_t, uint64_t>(a, b)))
    ALU(smod32, uint32_t, (smod<int32_t, uint32_t>(a, b)))
    ALU(smod64, uint64_t, (smod<int64_t, uint64_t>(a, b)))
#undef ALU_BOTH
#undef ALU

L_neg32:
    R(dst) = static_cast<uint32_t>(0u - static_cast<uint32_t>(R(dst)));
    NEXT;
L_neg64:
    R(dst) = 0 - R(dst);
    NEXT;
L_mov32_imm:
    R(dst) = static_cast<uint32_t>(pc->imm);
    NEXT;
L_mov32_reg:
    R(dst) = static_cast<uint32_t>(R(src));
    NEXT;
L_movsx8_32:
    R(dst) = static_cast<uint32_t>(static_cast<int32_t>(static_cast<int8_t>(R(src))));
    NEXT;
L_movsx16_32:
    R(dst) = static_cast<uint32_t>(static_cast<int32_t>(static_cast<int16_t>(R(src))));
    NEXT;
L_mov64_imm:
    R(dst) = pc->imm;
    NEXT;
L_mov64_reg:
    R(dst) = R(src);
    NEXT;
L_movsx8_64:
    R(dst) = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int8_t>(R(src))));
    NEXT;
L_movsx16_64:
    R(dst) = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int16_t>(R(src))));
    NEXT;
L_movsx32_64:
    R(dst) = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(R(src))));
    NEXT;
L_le16:
    R(dst) = static_cast<uint16_t>(R(dst));
    NEXT;
L_le32:
    R(dst) = static_cast<uint32_t>(R(dst));
    NEXT;
L_le64:
    NEXT;
L_be16:
L_bswap16:
    R(dst) = __builtin_bswap16(static_cast<uint16_t>(R(dst)));
    NEXT;
L_be32:
L_bswap32:
    R(dst) = __builtin_bswap32(static_cast<uint32_t>(R(dst)));
    NEXT;
L_be64:
L_bswap64:
    R(dst) = __builtin_bswap64(R(dst));
    NEXT;

    // Jumps: JMP compares 64-bit values, JMP32 their low halves; imm is sign-extended first.
L_ja:
L_gotol:
    pc = base + pc->off;
    DISPATCH;
#define JMP(name, U, S, op)                                                                        \
    L_##name##_imm : BRANCH(static_cast<S>(static_cast<U>(R(dst)))                                 \
                                op static_cast<S>(static_cast<U>(pc->imm))) L_##name##_reg         \
        : BRANCH(static_cast<S>(static_cast<U>(R(dst))) op static_cast<S>(static_cast<U>(R(src))))
#define JMP_BOTH(name, S64, S32, op)                                                               \
    JMP(name, uint64_t, S64, op)                                                                   \
    JMP(name##32, uint32_t, S32, op)
    JMP_BOTH(jeq, uint64_t, uint32_t, ==)
    JMP_BOTH(jne, uint64_t, uint32_t, !=)
    JMP_BOTH(jgt, uint64_t, uint32_t, >)
    JMP_BOTH(jge, uint64_t, uint32_t, >=)
    JMP_BOTH(jlt, uint64_t, uint32_t, <)
    JMP_BOTH(jle, uint64_t, uint32_t, <=)
    JMP_BOTH(jsgt, int64_t, int32_t, >)
    JMP_BOTH(jsge, int64_t, int32_t, >=)
    JMP_BOTH(jslt, int64_t, int32_t, <)
    JMP_BOTH(jsle, int64_t, int32_t, <=)
#undef JMP_BOTH
#undef JMP
L_jset_imm:
    BRANCH((R(dst) & pc->imm) != 0)
L_jset_reg:
    BRANCH((R(dst) & R(src)) != 0)
L_jset32_imm:
    BRANCH((static_cast<uint32_t>(R(dst)) & static_cast<uint32_t>(pc->imm)) != 0)
L_jset32_reg:
    BRANCH((static_cast<uint32_t>(R(dst)) & static_cast<uint32_t>(R(src))) != 0)

    // Calls and exit.
L_call_helper:
    before_helper();
    reg[0] = reinterpret_cast<HelperFn>(pc->imm)(reg[1], reg[2], reg[3], reg[4], reg[5], &state);
    after_helper();
    if (state.faulted()) goto helper_fault;
    if (state.pending_tail_call) goto tail_call;
    NEXT;
L_callx : {
    const uint64_t id = R(dst);
    const Helper* h = id <= INT32_MAX ? prog->helpers().find(static_cast<int32_t>(id)) : nullptr;
    if (!h)
        return error_at(pc - base, "callx to r" + std::to_string(pc->dst) + " = " + hex(id) +
                                       ", which is no helper id");
    before_helper();
    reg[0] = h->fn(reg[1], reg[2], reg[3], reg[4], reg[5], &state);
    after_helper();
    if (state.faulted()) goto helper_fault;
    if (state.pending_tail_call) goto tail_call;
    NEXT;
}
tail_call:
    // The current frame continues in the target program from its first instruction, with the
    // same registers and stack, as the kernel's tail call does.
    prog = state.pending_tail_call;
    state.pending_tail_call = nullptr;
    eng.prog = prog;
    base = prog->slots().data();
    pc = base;
    DISPATCH;
L_call_kfunc: // refused by Program::load
L_call_local:
    if (depth_base + depth == MAX_CALL_FRAMES - 1)
        return error_at(pc - base,
                        "call stack is over " + std::to_string(MAX_CALL_FRAMES) + " frames");
    frames[depth] = Frame{pc + 1, prog, {reg[6], reg[7], reg[8], reg[9], reg[10]}};
    ++depth;
    reg[10] -= MAX_BPF_STACK;
    std::memset(reinterpret_cast<void*>(reg[10] - MAX_BPF_STACK), 0, MAX_BPF_STACK);
    pc = base + pc->off;
    DISPATCH;
L_exit:
    if (depth == 0) {
        eng.budget = budget;
        return RunResult{reg[0], args.insn_budget - budget};
    }
    --depth;
    for (int i = 0; i < 5; ++i)
        reg[6 + i] = frames[depth].saved[i];
    pc = frames[depth].ret;
    prog = frames[depth].prog;
    eng.prog = prog;
    base = prog->slots().data();
    DISPATCH;

L_lddw:
    R(dst) = pc->imm;
    pc += 2;
    DISPATCH;

    // Legacy packet loads: network byte order; an offset outside the packet ends the program
    // with r0 = 0, as in the kernel. Negative offsets count from the context's headers.
#define LD_PKT(name, U, swap, offset)                                                              \
    L_##name : {                                                                                   \
        const int64_t at = (offset);                                                               \
        if (at < 0) {                                                                              \
            const int64_t v = load_packet_neg(state, at, sizeof(U));                               \
            if (v < 0) return RunResult{0, args.insn_budget - budget};                             \
            reg[0] = static_cast<uint64_t>(v);                                                     \
            NEXT;                                                                                  \
        }                                                                                          \
        if (static_cast<uint64_t>(at) + sizeof(U) > state.packet_len)                              \
            return RunResult{0, args.insn_budget - budget};                                        \
        reg[0] =                                                                                   \
            swap(load<U>(reinterpret_cast<uint64_t>(state.packet) + static_cast<uint64_t>(at)));   \
        NEXT;                                                                                      \
    }
#define NO_SWAP(x) (x)
    LD_PKT(ldabsb, uint8_t, NO_SWAP, static_cast<int32_t>(pc->imm))
    LD_PKT(ldabsh, uint16_t, __builtin_bswap16, static_cast<int32_t>(pc->imm))
    LD_PKT(ldabsw, uint32_t, __builtin_bswap32, static_cast<int32_t>(pc->imm))
    LD_PKT(ldindb, uint8_t, NO_SWAP,
           static_cast<int32_t>(static_cast<uint32_t>(R(src)) + static_cast<uint32_t>(pc->imm)))
    LD_PKT(ldindh, uint16_t, __builtin_bswap16,
           static_cast<int32_t>(static_cast<uint32_t>(R(src)) + static_cast<uint32_t>(pc->imm)))
    LD_PKT(ldindw, uint32_t, __builtin_bswap32,
           static_cast<int32_t>(static_cast<uint32_t>(R(src)) + static_cast<uint32_t>(pc->imm)))
#undef NO_SWAP
#undef LD_PKT

    // Memory.
#define MEM(sz, U, S)                                                                              \
    L_ldx##sz : {                                                                                  \
        const uint64_t addr = R(src) + static_cast<uint64_t>(static_cast<int64_t>(pc->off));       \
        CHECK_ACCESS(addr, sizeof(U), false);                                                      \
        R(dst) = load<U>(addr);                                                                    \
        NEXT;                                                                                      \
    }                                                                                              \
    L_st##sz : {                                                                                   \
        const uint64_t addr = R(dst) + static_cast<uint64_t>(static_cast<int64_t>(pc->off));       \
        CHECK_ACCESS(addr, sizeof(U), true);                                                       \
        store<U>(addr, static_cast<U>(pc->imm));                                                   \
        NEXT;                                                                                      \
    }                                                                                              \
    L_stx##sz : {                                                                                  \
        const uint64_t addr = R(dst) + static_cast<uint64_t>(static_cast<int64_t>(pc->off));       \
        CHECK_ACCESS(addr, sizeof(U), true);                                                       \
        store<U>(addr, static_cast<U>(R(src)));                                                    \
        NEXT;                                                                                      \
    }
    MEM(b, uint8_t, int8_t)
    MEM(h, uint16_t, int16_t)
    MEM(w, uint32_t, int32_t)
    MEM(dw, uint64_t, int64_t)
#undef MEM
#define LDSX(name, S)                                                                              \
    L_##name : {                                                                                   \
        const uint64_t addr = R(src) + static_cast<uint64_t>(static_cast<int64_t>(pc->off));       \
        CHECK_ACCESS(addr, sizeof(S), false);                                                      \
        R(dst) = static_cast<uint64_t>(static_cast<int64_t>(load<S>(addr)));                       \
        NEXT;                                                                                      \
    }
    LDSX(ldxsb, int8_t)
    LDSX(ldxsh, int16_t)
    LDSX(ldxsw, int32_t)
#undef LDSX

    // Atomics: sequentially consistent, like the kernel's full-barrier semantics for fetch ops.
#define ATOMIC(name, U, builtin, fetch)                                                            \
    L_##name : {                                                                                   \
        const uint64_t addr = R(dst) + static_cast<uint64_t>(static_cast<int64_t>(pc->off));       \
        CHECK_ACCESS(addr, sizeof(U), true);                                                       \
        CHECK_ALIGNED(addr, sizeof(U));                                                            \
        const U old =                                                                              \
            builtin(reinterpret_cast<U*>(addr), static_cast<U>(R(src)), __ATOMIC_SEQ_CST);         \
        if (fetch) R(src) = old;                                                                   \
        NEXT;                                                                                      \
    }
#define ATOMIC_FAMILY(w, U)                                                                        \
    ATOMIC(atomic##w##_add, U, __atomic_fetch_add, false)                                          \
    ATOMIC(atomic##w##_or, U, __atomic_fetch_or, false)                                            \
    ATOMIC(atomic##w##_and, U, __atomic_fetch_and, false)                                          \
    ATOMIC(atomic##w##_xor, U, __atomic_fetch_xor, false)                                          \
    ATOMIC(atomic##w##_fetch_add, U, __atomic_fetch_add, true)                                     \
    ATOMIC(atomic##w##_fetch_or, U, __atomic_fetch_or, true)                                       \
    ATOMIC(atomic##w##_fetch_and, U, __atomic_fetch_and, true)                                     \
    ATOMIC(atomic##w##_fetch_xor, U, __atomic_fetch_xor, true)                                     \
    ATOMIC(atomic##w##_xchg, U, __atomic_exchange_n, true)                                         \
    L_atomic##w##_cmpxchg : {                                                                      \
        const uint64_t addr = R(dst) + static_cast<uint64_t>(static_cast<int64_t>(pc->off));       \
        CHECK_ACCESS(addr, sizeof(U), true);                                                       \
        CHECK_ALIGNED(addr, sizeof(U));                                                            \
        U expected = static_cast<U>(reg[0]);                                                       \
        __atomic_compare_exchange_n(reinterpret_cast<U*>(addr), &expected, static_cast<U>(R(src)), \
                                    false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);                    \
        reg[0] = expected;                                                                         \
        NEXT;                                                                                      \
    }
    ATOMIC_FAMILY(32, uint32_t)
    ATOMIC_FAMILY(64, uint64_t)
#undef ATOMIC_FAMILY
#undef ATOMIC

memory_fault:
    __attribute__((unused));
    return error_at(
        pc - base,
        std::string(fault_what ? fault_what : (fault_write ? "invalid write" : "invalid read")) +
            " of " + std::to_string(fault_len) + " bytes at " + hex(fault_addr) +
            (fault_what ? "" : ", outside the stack and every region the run was given"));
helper_fault:
    return error_at(pc - base, state.fault_message());
budget_exhausted:
    __attribute__((unused));
    return error_at(pc - base,
                    "instruction budget of " + std::to_string(args.insn_budget) + " exhausted");

#undef CHECK_ALIGNED
#undef CHECK_ACCESS
#undef BRANCH
#undef NEXT
#undef DISPATCH
#undef R
}

} // namespace

Result<RunResult> interpret(const Program& prog, const RunArgs& args, RunState& state) {
    const bool checked = args.mode == Mode::checked;
    state.checked = checked;
    if (state.maps.empty()) state.maps = prog.maps();
    Engine eng{&prog, &args, args.insn_budget, 0};
    state.engine = &eng;
    state.call_subprog = checked ? call_subprog<true> : call_subprog<false>;
    state.tail_call_cnt = 0;
    state.pending_tail_call = nullptr;
    const uint64_t in[5] = {args.r1, args.r2, 0, 0, 0};
    auto result = checked ? run<true>(eng, 0, in, state) : run<false>(eng, 0, in, state);
    state.engine = nullptr;
    state.call_subprog = nullptr;
    return result;
}

} // namespace ebpf
