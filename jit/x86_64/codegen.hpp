// The x86-64 code generator's state and its emitters, split by concern over codegen.cpp
// (program structure: frames, calls, exits, jumps, entry points, early exits, the two passes),
// alu.cpp, memory.cpp and peephole.cpp (patterns of compiled C given better code).
//
// Registers: BPF R0-R10 sit where the kernel's x86-64 JIT puts them. R1-R5 are the System V
// argument registers, so a helper call needs no moves; R6-R9 and the frame pointer R10 are
// callee-saved, so helpers keep them. r12 holds the JitRunContext for the whole run; r9, r10
// and r11 are scratch within one instruction's code (r9 also carries the sixth helper argument).
//
// Frames: every BPF function (the program's body and each local-call target) starts with
//   push rbp; mov rbp, rsp; sub rsp, 512 (+ 8 to keep rsp 16-byte aligned);
//   <zero [rbp-N, rbp)>; push the saved R6-R9
// so R10 = rbp is the top of its own 512-byte stack, zeroed as far as the function can read it
// (N from jit/stack_usage.hpp), and exit undoes it whatever function the exit belongs to. The
// saved registers are those the program names (all four where tail calls come or go, so that
// every program's frames look alike): a tail call keeps the frame and jumps past the prologue of
// the target's first function (the body, at offset 0); the entry points follow the functions.
//
// Entry points: JitEntry and CallbackEntry save r12 (a callback's, the ctx->host_sp of the run it
// is nested in too) and call a function's frame stub (the body's, or the callback's), which
// records its stack pointer in ctx->host_sp (at the return address into the entry), builds the
// function's frame and enters it. Whatever exits early below restores that stack pointer and
// leaves the stub's frame as exit does: a callback that ends early thus returns to
// Runtime::call_subprog, inside the helper that called it, rather than past the helper.
#pragma once

#include "jit/analysis.hpp"
#include "jit/backend.hpp"
#include "jit/blinding.hpp"
#include "jit/runtime.hpp"

#include <asmjit/x86.h>

#include <optional>
#include <span>
#include <vector>

namespace ebpf::jit::x86_64 {

namespace x86 = asmjit::x86;

class Codegen {
  public:
    // `seed` keys the blinding; `short_jumps` says, jump by jump, which forward jumps a first
    // pass found close enough to their labels for a short (rel8) form.
    Codegen(asmjit::CodeHolder& code, const Program& prog, const ProgramFacts& facts,
            const JitOptions& options, bool tail_call_frames, uint64_t seed,
            const std::vector<bool>* short_jumps);
    Result<GeneratedCode> generate();
    // After generate(): the short_jumps a second pass over the same program may use.
    std::vector<bool> measured_short_jumps() const;

  private:
    // codegen.cpp
    void choose_saved(bool tail_call_frames);
    // Instructions from..to in order, but for blocks that leave loops, deferred to leaving_.
    void emit_range(size_t from, size_t to, GeneratedCode& out);
    void align_loop_head();
    void emit_insn(size_t i, const Slot& s);
    void emit_prologue(uint32_t zero);
    void emit_exit();
    // A jump to the instruction's target; or a conditional one's, inverted, to `target`.
    void emit_jump(const Slot& s, bool negate = false, asmjit::Label target = {});
    // A conditional jump's compare, and the condition it leaves in the flags.
    x86::CondCode emit_compare(const Slot& s);
    void emit_lddw(const Slot& s);
    void emit_call_helper(size_t i, const Slot& s);
    bool emit_direct_lookup(size_t i, const Slot& s);
    void emit_callx(size_t i, const Slot& s);
    void emit_call_local(size_t i, const Slot& s);
    void emit_tail_call_check(size_t i);
    void emit_entries(GeneratedCode& out, std::span<const uint32_t> zero);
    void emit_early_exits();
    asmjit::Label early_exit(size_t insn, JitExit exit);

    // peephole.cpp
    bool entered_elsewhere(size_t i) const; // a jump target or a function's first instruction
    bool emit_fused(size_t i);              // i emitted with what follows it
    bool emit_address(size_t i);
    bool emit_inverted_branch(size_t i);
    bool emit_rotate(size_t i);
    void emit_switch_dispatch(size_t tree); // before a switch tree's root: its jump table
    void emit_switch_tables();
    bool emit_small_multiply(const Slot& s);
    // The memory operand for [base + off] (folded when base holds a folded address).
    x86::Mem memory(uint8_t base, int32_t off, int size) const;

    // alu.cpp
    void emit_alu(const Slot& s);
    void emit_mov(const Slot& s, bool is64, bool by_reg);
    void emit_shift(const Slot& s, bool is64, bool by_reg);
    void emit_divmod(const Slot& s, bool is64, bool by_reg);
    void emit_divide(uint8_t dst_reg, bool is64, bool is_mod, bool is_signed);
    void emit_byte_swap(const Slot& s);

    // memory.cpp
    void emit_load(const Slot& s);
    void emit_store(const Slot& s);
    void emit_atomic(const Slot& s);
    void emit_fetch_loop(const Slot& s, bool is64, asmjit::InstId op);
    void emit_packet_load(const Slot& s);

    // A jump or conditional jump to a label, recorded for the next pass and short when the
    // previous pass found it close enough.
    void jump(const asmjit::Label& target, std::optional<x86::CondCode> cc = std::nullopt);

    // The immediate of `s` as an operand of a 32- or 64-bit instruction (sign-extended to 64
    // bits); blinded, it is rebuilt in the scratch register r10 and that register is returned.
    asmjit::Operand imm_operand(const Slot& s, bool is64);
    // Loads a sign-extended 32-bit immediate into `reg` (blinded when asked).
    void load_imm(const x86::Gp& reg, int32_t imm);
    void mov_imm64(const x86::Gp& reg, uint64_t value);

    x86::Assembler a_;
    const Program& prog_;
    const ProgramFacts& facts_;
    std::optional<BlindingKeys> keys_;     // set when blinding
    bool has_bmi2_;                        // shlx, shrx, sarx
    bool makes_tail_calls_ = false;        // bpf_tail_call or callx somewhere in the program
    std::vector<x86::Gp> saved_;           // the R6-R9 frames save, in push order
    int32_t frame_pad_ = 0;                // below the stack, to keep rsp aligned
    std::vector<asmjit::Label> targets_;   // by insn: jump targets, after any prologue
    std::vector<asmjit::Label> functions_; // by insn: function entries, before the prologue
    struct EarlyExit {
        asmjit::Label label;
        uint32_t insn;
        JitExit exit; // none: Runtime::callx already set ctx->exit
    };
    std::vector<EarlyExit> early_exits_;
    struct TailCall {
        asmjit::Label label;
        uint32_t insn;
    };
    std::vector<TailCall> tail_calls_;
    // emit_range's state: whether the last instruction emitted falls through, how many
    // functions' prologues are out, and the blocks leaving loops still to emit.
    bool falls_through_ = false;
    size_t function_ = 0;
    struct Leaving {
        asmjit::Label label;
        uint32_t from, to;
    };
    std::vector<Leaving> leaving_;
    // Loop heads (jit/loop_exits.hpp) start on a 32-byte boundary: a short loop then fits the
    // fewest fetch blocks and micro-op cache lines (strcmp's loop on an AMD EPYC: 233 ns
    // unaligned, 182 aligned). Where this pass aligned, for measured_short_jumps().
    static constexpr size_t loop_alignment = 32;
    std::vector<size_t> aligned_at_;
    // A legacy packet load's negative offset (in r9), for load_packet_neg out of line.
    struct NegativeLoad {
        asmjit::Label label;
        asmjit::Label resume;
        uint32_t size;
    };
    std::vector<NegativeLoad> negative_loads_;
    asmjit::Label unwind_;     // returns through the innermost entry point
    asmjit::Label packet_oob_; // r0 = 0, then unwind
    asmjit::Label tail_call_;  // Runtime::tail_call, then its target or a fault

    // Jumps in emission order: where each began and its label (this pass), and which may be
    // short (from the previous pass).
    struct Jump {
        size_t offset;
        uint32_t label;
    };
    std::vector<Jump> jumps_;
    const std::vector<bool>* short_jumps_;

    // peephole.cpp's state: how many of the instructions that follow were emitted with this
    // one, and the address being folded into accesses.
    size_t skip_ = 0;
    struct Fold {
        uint8_t reg;                  // rX, never computed
        uint8_t base;                 // rA
        std::optional<uint8_t> index; // rB
        int32_t disp;                 // imm
        size_t last;                  // the last access it serves
    };
    std::optional<Fold> fold_;
    // Each switch tree's jump table (facts_.trees).
    std::vector<asmjit::Label> tables_;
    std::vector<int32_t> tree_at_; // by insn: the tree rooted there, or -1
};

bool is_jump(Op op); // a conditional or unconditional jump (not a call or exit)

// Register views.
x86::Gp bpf_reg(uint8_t r);                   // 64-bit
x86::Gp bpf_reg(uint8_t r, bool is64);        // 64 or 32-bit
inline constexpr x86::Gp ctx_reg = x86::r12;  // JitRunContext*
inline constexpr x86::Gp scratch = x86::r10;  // rebuilt immediates, saved R0
inline constexpr x86::Gp scratch2 = x86::r11; // divisors, shift saves, addresses
inline constexpr x86::Gp scratch3 = x86::r9;  // saved R3, packet offsets; helper argument 6

// A JitRunContext field as a memory operand.
x86::Mem ctx_field(size_t offset, uint32_t size);

} // namespace ebpf::jit::x86_64
