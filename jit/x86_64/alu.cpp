// ALU and ALU64: 32-bit forms work on the low halves, whose x86 writes zero-extend; shift counts
// are masked by x86 as by BPF; division never traps.
#include "jit/x86_64/codegen.hpp"

namespace ebpf::jit::x86_64 {

using asmjit::Imm;
using asmjit::Label;

void Codegen::emit_alu(const Slot& s) {
    const uint8_t code = info(s.op).opcode;
    const bool is64 = bpf_class(code) == BPF_ALU64;
    const bool by_reg = bpf_srcbit(code) == BPF_X;
    const x86::Gp dst = bpf_reg(s.dst, is64);
    const auto binary = [&](asmjit::InstId id) {
        const asmjit::Operand rhs =
            by_reg ? asmjit::Operand(bpf_reg(s.src, is64)) : imm_operand(s, is64);
        a_.emit(id, dst, rhs);
    };
    switch (bpf_op(code)) {
    case BPF_ADD: binary(x86::Inst::kIdAdd); break;
    case BPF_SUB: binary(x86::Inst::kIdSub); break;
    case BPF_MUL: binary(x86::Inst::kIdImul); break; // the low half is the same signed or not
    case BPF_OR: binary(x86::Inst::kIdOr); break;
    case BPF_AND: binary(x86::Inst::kIdAnd); break;
    case BPF_XOR: binary(x86::Inst::kIdXor); break;
    case BPF_NEG: a_.neg(dst); break;
    case BPF_MOV: emit_mov(s, is64, by_reg); break;
    case BPF_LSH:
    case BPF_RSH:
    case BPF_ARSH: emit_shift(s, is64, by_reg); break;
    case BPF_DIV:
    case BPF_MOD: emit_divmod(s, is64, by_reg); break;
    default: emit_byte_swap(s); break; // BPF_END
    }
}

void Codegen::emit_mov(const Slot& s, bool is64, bool by_reg) {
    const x86::Gp dst = bpf_reg(s.dst, is64);
    if (!by_reg) {
        const auto imm = static_cast<int32_t>(s.imm);
        if (imm == 0)
            a_.xor_(dst.r32(), dst.r32()); // zeroes all 64 bits
        else
            load_imm(dst, imm);
        return;
    }
    const x86::Gp src = bpf_reg(s.src);
    switch (s.op) {
    case Op::movsx8_32:
    case Op::movsx8_64: a_.movsx(dst, src.r8()); break;
    case Op::movsx16_32:
    case Op::movsx16_64: a_.movsx(dst, src.r16()); break;
    case Op::movsx32_64: a_.movsxd(dst, src.r32()); break;
    default: a_.mov(dst, is64 ? src : src.r32()); break; // mov32 zero-extends, even onto itself
    }
}

void Codegen::emit_shift(const Slot& s, bool is64, bool by_reg) {
    const uint8_t op = bpf_op(info(s.op).opcode);
    const asmjit::InstId id = op == BPF_LSH   ? x86::Inst::kIdShl
                              : op == BPF_RSH ? x86::Inst::kIdShr
                                              : x86::Inst::kIdSar;
    const x86::Gp dst = bpf_reg(s.dst, is64);
    if (!by_reg) {
        // A masked count fits a byte; the kernel does not blind shift counts either.
        const uint32_t count = static_cast<uint32_t>(s.imm) & (is64 ? 63 : 31);
        if (count != 0)
            a_.emit(id, dst, Imm(count));
        else if (!is64)
            a_.mov(dst, dst); // a 32-bit shift by 0 still zero-extends
        return;
    }
    // BMI2 shifts by any register (the count masked as by BPF), as the kernel's JIT does.
    if (has_bmi2_) {
        const asmjit::InstId bmi2 = op == BPF_LSH   ? x86::Inst::kIdShlx
                                    : op == BPF_RSH ? x86::Inst::kIdShrx
                                                    : x86::Inst::kIdSarx;
        a_.emit(bmi2, dst, dst, bpf_reg(s.src, is64));
        return;
    }
    // x86 shifts by cl, and rcx is R4: park R4 in r11 unless the count is already there.
    if (bpf_reg(s.src) == x86::rcx) {
        a_.emit(id, dst, x86::cl);
        return;
    }
    a_.mov(scratch2, x86::rcx);
    a_.mov(x86::ecx, bpf_reg(s.src, false));
    if (bpf_reg(s.dst) == x86::rcx) {
        a_.emit(id, is64 ? scratch2 : scratch2.r32(), x86::cl); // r11 holds R4's value
    } else {
        a_.emit(id, dst, x86::cl);
    }
    a_.mov(x86::rcx, scratch2);
}

// The kernel's results where x86 would trap: x / 0 = 0, x % 0 = x, and for the signed forms
// x / -1 = -x (INT_MIN / -1 = INT_MIN) and x % -1 = 0.
void Codegen::emit_divmod(const Slot& s, bool is64, bool by_reg) {
    const OpcodeInfo& row = info(s.op);
    const bool is_mod = bpf_op(row.opcode) == BPF_MOD;
    const bool is_signed = row.key == Key::off && row.key_value == 1; // sdiv, smod
    const x86::Gp dst = bpf_reg(s.dst, is64);
    const x86::Gp divisor = is64 ? scratch2 : scratch2.r32();
    const auto by_zero = [&] {
        if (!is_mod)
            a_.xor_(dst.r32(), dst.r32());
        else if (!is64)
            a_.mov(dst, dst);
    };
    const auto by_minus_one = [&] {
        if (is_mod)
            a_.xor_(dst.r32(), dst.r32());
        else
            a_.neg(dst);
    };
    if (!by_reg) {
        // The divisor is known here, blinded or not: only the general case reaches the code.
        const auto imm = static_cast<int32_t>(s.imm);
        if (imm == 0) return by_zero();
        if (is_signed && imm == -1) return by_minus_one();
        load_imm(divisor, imm);
        emit_divide(s.dst, is64, is_mod, is_signed);
        return;
    }
    a_.mov(divisor, bpf_reg(s.src, is64));
    const Label zero = a_.newLabel(), minus_one = a_.newLabel(), done = a_.newLabel();
    a_.test(divisor, divisor);
    jump(zero, x86::CondCode::kZ);
    if (is_signed) {
        a_.cmp(divisor, Imm(-1));
        jump(minus_one, x86::CondCode::kE);
    }
    emit_divide(s.dst, is64, is_mod, is_signed);
    jump(done);
    a_.bind(zero);
    by_zero();
    if (is_signed) {
        jump(done);
        a_.bind(minus_one);
        by_minus_one();
    }
    a_.bind(done);
}

// dst = dst / r11 or dst % r11, with a divisor that cannot trap.
void Codegen::emit_divide(uint8_t dst_reg, bool is64, bool is_mod, bool is_signed) {
    // div works on rdx:rax, which hold R3 and R0: keep them in r10 and r9 meanwhile.
    const x86::Gp ax = is64 ? x86::Gp(x86::rax) : x86::Gp(x86::eax);
    const x86::Gp dx = is64 ? x86::Gp(x86::rdx) : x86::Gp(x86::edx);
    const x86::Gp divisor = is64 ? scratch2 : scratch2.r32();
    a_.mov(scratch, x86::rax);
    a_.mov(scratch3, x86::rdx);
    if (dst_reg != BPF_REG_0 || !is64) a_.mov(ax, bpf_reg(dst_reg, is64)); // 32-bit: zero-extends
    if (is_signed) {
        if (is64)
            a_.cqo(x86::rdx, x86::rax);
        else
            a_.cdq(x86::edx, x86::eax);
        a_.idiv(dx, ax, divisor);
    } else {
        a_.xor_(x86::edx, x86::edx);
        a_.div(dx, ax, divisor);
    }
    a_.mov(divisor, is_mod ? dx : ax); // a 32-bit result is zero-extended here
    a_.mov(x86::rax, scratch);
    a_.mov(x86::rdx, scratch3);
    a_.mov(bpf_reg(dst_reg), scratch2);
}

void Codegen::emit_byte_swap(const Slot& s) {
    const x86::Gp dst = bpf_reg(s.dst);
    switch (s.op) {
    case Op::le16: a_.movzx(dst.r32(), dst.r16()); break;
    case Op::le32: a_.mov(dst.r32(), dst.r32()); break;
    case Op::le64: break; // the host is little-endian
    case Op::be16:
    case Op::bswap16:
        a_.rol(dst.r16(), Imm(8));
        a_.movzx(dst.r32(), dst.r16());
        break;
    case Op::be32:
    case Op::bswap32: a_.bswap(dst.r32()); break;
    default: a_.bswap(dst); break; // be64, bswap64
    }
}

} // namespace ebpf::jit::x86_64
