// The x86-64 code generator's state and its emitters, split by concern over codegen.cpp
// (program structure: frames, calls, exits, jumps, early exits), alu.cpp and memory.cpp.
//
// Registers: BPF R0-R10 sit where the kernel's x86-64 JIT puts them. R1-R5 are the System V
// argument registers, so a helper call needs no moves; R6-R9 and the frame pointer R10 are
// callee-saved, so helpers keep them. r12 holds the JitRunContext for the whole run; r9, r10
// and r11 are scratch within one instruction's code (r9 also carries the sixth helper argument).
//
// Frames: every BPF function (the program's body and each local-call target) starts with
//   push rbp; mov rbp, rsp; sub rsp, 512; <zero [rbp-N, rbp)>; push rbx, r13, r14, r15
// so R10 = rbp is the top of its own 512-byte stack, zeroed as far as the function can read it
// (N from jit/stack_usage.hpp), and exit undoes it whatever function the exit belongs to. rsp stays 16-byte aligned at every call. Every program's frames look
// alike, so a tail call keeps the frame and jumps past the prologue of the target's first
// function (the body, at offset 0); the entry points follow the functions.
//
// Entry points: JitEntry and CallbackEntry save rbp, r12 and the previous ctx->host_sp and call a
// function's frame stub (the body's, or the callback's), which records its stack pointer in
// ctx->host_sp (at the return address into the entry), builds the function's frame and enters
// it. Whatever exits early below restores that stack pointer and leaves the stub's frame as
// exit does: a callback that ends early thus returns to Runtime::call_subprog, inside the helper
// that called it, rather than past the helper.
#pragma once

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
    Codegen(asmjit::CodeHolder& code, const Program& prog, const JitOptions& options);
    Result<GeneratedCode> generate();

  private:
    // codegen.cpp
    void emit_insn(size_t i, const Slot& s);
    void emit_prologue(uint32_t zero);
    void emit_exit();
    void emit_jump(const Slot& s);
    void emit_lddw(const Slot& s);
    void emit_call_helper(size_t i, const Slot& s);
    void emit_callx(size_t i, const Slot& s);
    void emit_call_local(size_t i, const Slot& s);
    void emit_tail_call_check(size_t i);
    void emit_entries(GeneratedCode& out, std::span<const uint32_t> zero);
    void emit_early_exits();
    asmjit::Label early_exit(size_t insn, JitExit exit);

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

    // The immediate of `s` as an operand of a 32- or 64-bit instruction (sign-extended to 64
    // bits); blinded, it is rebuilt in the scratch register r10 and that register is returned.
    asmjit::Operand imm_operand(const Slot& s, bool is64);
    // Loads a sign-extended 32-bit immediate into `reg` (blinded when asked).
    void load_imm(const x86::Gp& reg, int32_t imm);
    void mov_imm64(const x86::Gp& reg, uint64_t value);

    x86::Assembler a_;
    const Program& prog_;
    std::optional<BlindingKeys> keys_;     // set when blinding
    bool has_bmi2_;                        // shlx, shrx, sarx
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
    asmjit::Label unwind_;     // returns through the innermost entry point
    asmjit::Label packet_oob_; // r0 = 0, then unwind
    asmjit::Label tail_call_;  // Runtime::tail_call, then its target or a fault
};

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
