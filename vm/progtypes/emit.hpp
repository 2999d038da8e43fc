// The instruction builders the rewrites use, named after the kernel's macros (BPF_LDX_MEM,
// BPF_EMIT_STORE, BPF_ALU32_IMM, ...).
#pragma once

#include "vm/isa/insn.hpp"

namespace ebpf::progtypes {

// BPF_LDX_MEM(size, dst, src, off)
constexpr Insn ldx_mem(uint8_t size, uint8_t dst, uint8_t src, int off) {
    return make_insn(BPF_LDX | BPF_MEM | size, dst, src, static_cast<int16_t>(off), 0);
}

// BPF_EMIT_STORE(size, si, off): the store si made (register or immediate), at another offset and
// size.
constexpr Insn emit_store(uint8_t size, const Insn& si, int off) {
    return make_insn(bpf_class(si.opcode) | size | BPF_MEM, si.dst, si.src,
                     static_cast<int16_t>(off), si.imm);
}

constexpr Insn alu32_imm(uint8_t op, uint8_t dst, int32_t imm) {
    return make_insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm);
}

constexpr Insn alu64_imm(uint8_t op, uint8_t dst, int32_t imm) {
    return make_insn(BPF_ALU64 | op | BPF_K, dst, 0, 0, imm);
}

// BPF_JMP_IMM(op, dst, imm, off)
constexpr Insn jmp_imm(uint8_t op, uint8_t dst, int32_t imm, int16_t off) {
    return make_insn(BPF_JMP | op | BPF_K, dst, 0, off, imm);
}

// BPF_JMP_A(off)
constexpr Insn jmp_a(int16_t off) {
    return make_insn(BPF_JMP | BPF_JA, 0, 0, off, 0);
}

// movsx: dst = (s64)(sN)dst
constexpr Insn movsx64(uint8_t dst, int bits) {
    return make_insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, dst, static_cast<int16_t>(bits), 0);
}

// BPF_SIZE for a size in bytes (1, 2, 4 or 8).
constexpr uint8_t bpf_size_code(int bytes) {
    switch (bytes) {
    case 1: return BPF_B;
    case 2: return BPF_H;
    case 4: return BPF_W;
    default: return BPF_DW;
    }
}

} // namespace ebpf::progtypes
