// Loads, stores, atomics and the legacy packet loads.
#include "jit/x86_64/codegen.hpp"

namespace ebpf::jit::x86_64 {

using asmjit::Imm;
using asmjit::Label;

namespace {

x86::Gp sized(const x86::Gp& r, int bytes) {
    switch (bytes) {
    case 1: return r.r8();
    case 2: return r.r16();
    case 4: return r.r32();
    default: return r.r64();
    }
}

x86::Mem at(const x86::Gp& base, int32_t off, int bytes) {
    return x86::ptr(base, off, static_cast<uint32_t>(bytes));
}

} // namespace

void Codegen::emit_load(const Slot& s) {
    const uint8_t code = info(s.op).opcode;
    const int size = size_bytes(code);
    const x86::Mem src = memory(s.src, s.off, size);
    const x86::Gp dst = bpf_reg(s.dst);
    if (bpf_mode(code) == BPF_MEMSX) {
        if (size == 4)
            a_.movsxd(dst, src);
        else
            a_.movsx(dst, src);
    } else if (size < 4) {
        a_.movzx(dst.r32(), src);
    } else {
        a_.mov(sized(dst, size), src); // a 32-bit load zero-extends
    }
}

void Codegen::emit_store(const Slot& s) {
    const uint8_t code = info(s.op).opcode;
    const int size = size_bytes(code);
    const x86::Mem dst = memory(s.dst, s.off, size);
    if (bpf_class(code) == BPF_STX) {
        a_.mov(dst, sized(bpf_reg(s.src), size));
    } else if (keys_) {
        load_imm(scratch, static_cast<int32_t>(s.imm));
        a_.mov(dst, sized(scratch, size));
    } else {
        // The low bytes of the sign-extended immediate.
        const auto imm = static_cast<int32_t>(s.imm);
        switch (size) {
        case 1: a_.mov(dst, Imm(static_cast<int8_t>(imm))); break;
        case 2: a_.mov(dst, Imm(static_cast<int16_t>(imm))); break;
        default: a_.mov(dst, Imm(imm)); break; // 8 bytes: sign-extended by the CPU
        }
    }
}

void Codegen::emit_atomic(const Slot& s) {
    const OpcodeInfo& row = info(s.op);
    const bool is64 = bpf_size(row.opcode) == BPF_DW;
    const x86::Mem mem = at(bpf_reg(s.dst), s.off, is64 ? 8 : 4);
    const x86::Gp src = bpf_reg(s.src, is64);
    switch (row.key_value) {
    case BPF_ADD: a_.lock().add(mem, src); break;
    case BPF_OR: a_.lock().or_(mem, src); break;
    case BPF_AND: a_.lock().and_(mem, src); break;
    case BPF_XOR: a_.lock().xor_(mem, src); break;
    case BPF_ADD | BPF_FETCH: a_.lock().xadd(mem, src); break;
    case BPF_OR | BPF_FETCH: emit_fetch_loop(s, is64, x86::Inst::kIdOr); break;
    case BPF_AND | BPF_FETCH: emit_fetch_loop(s, is64, x86::Inst::kIdAnd); break;
    case BPF_XOR | BPF_FETCH: emit_fetch_loop(s, is64, x86::Inst::kIdXor); break;
    case BPF_XCHG: a_.xchg(mem, src); break; // locked by the CPU
    default:                                 // BPF_CMPXCHG: compares with and loads R0 = rax
        a_.lock().cmpxchg(mem, src, sized(x86::rax, is64 ? 8 : 4));
        // A 32-bit cmpxchg that succeeds leaves rax's upper half as it was.
        if (!is64) a_.mov(x86::eax, x86::eax);
        break;
    }
}

// No x86 instruction returns the old value of an and/or/xor: retry a cmpxchg until no other
// writer came between the load and the store. cmpxchg needs rax, so R0 waits in r10 and stands
// in for R0 where the instruction names it.
void Codegen::emit_fetch_loop(const Slot& s, bool is64, asmjit::InstId op) {
    const int size = is64 ? 8 : 4;
    const auto real = [](uint8_t r) { return r == BPF_REG_0 ? scratch : bpf_reg(r); };
    const x86::Mem mem = at(real(s.dst), s.off, size);
    const x86::Gp ax = sized(x86::rax, size), src = sized(real(s.src), size);
    const x86::Gp desired = sized(scratch2, size);
    a_.mov(scratch, x86::rax);
    const Label retry = a_.newLabel();
    a_.bind(retry);
    a_.mov(ax, mem);
    a_.mov(desired, ax);
    a_.emit(op, desired, src);
    a_.lock().cmpxchg(mem, desired, ax);
    a_.jne(retry);
    a_.mov(src, ax); // the old value, zero-extended
    a_.mov(x86::rax, scratch);
}

// R0 = the packet's big-endian value at imm (LD_ABS) or at (int32)(src + imm) (LD_IND); an
// offset outside the packet ends the run with r0 = 0. Negative offsets go out of line.
void Codegen::emit_packet_load(const Slot& s) {
    const uint8_t code = info(s.op).opcode;
    const int size = size_bytes(code);
    const RunStateLayout& layout = run_state_layout();
    const x86::Gp offset = scratch3;
    if (bpf_mode(code) == BPF_ABS) {
        load_imm(offset, static_cast<int32_t>(s.imm));
    } else {
        a_.mov(offset.r32(), bpf_reg(s.src, false));
        a_.emit(x86::Inst::kIdAdd, offset.r32(), imm_operand(s, false));
        a_.movsxd(offset, offset.r32());
    }
    const NegativeLoad negative{a_.newLabel(), a_.newLabel(), static_cast<uint32_t>(size)};
    negative_loads_.push_back(negative);
    a_.test(offset, offset);
    jump(negative.label, x86::CondCode::kS);
    a_.lea(scratch, x86::ptr(offset, size));
    a_.mov(scratch2, ctx_field(offsetof(JitRunContext, state), 8));
    a_.cmp(scratch, x86::qword_ptr(scratch2, layout.packet_len));
    jump(packet_oob_, x86::CondCode::kA);
    a_.mov(scratch2, x86::qword_ptr(scratch2, layout.packet));
    const x86::Mem src = x86::ptr(scratch2, offset, 0, 0, static_cast<uint32_t>(size));
    switch (size) {
    case 1: a_.movzx(x86::eax, src); break;
    case 2:
        a_.movzx(x86::eax, src);
        a_.rol(x86::ax, Imm(8));
        break;
    default:
        a_.mov(x86::eax, src);
        a_.bswap(x86::eax);
        break;
    }
    a_.bind(negative.resume);
}

} // namespace ebpf::jit::x86_64
