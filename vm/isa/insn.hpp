// The eBPF instruction as the kernel lays it out (struct bpf_insn), and the field encodings of
// RFC 9669 that every other part of the project names.
#pragma once

#include <cstdint>
#include <span>

namespace ebpf {

struct Insn {
    uint8_t opcode;
    uint8_t dst : 4;
    uint8_t src : 4;
    int16_t off;
    int32_t imm;
};
static_assert(sizeof(Insn) == 8);

inline constexpr Insn make_insn(uint8_t opcode, uint8_t dst, uint8_t src, int16_t off,
                                int32_t imm) {
    Insn i{};
    i.opcode = opcode;
    i.dst = dst & 0xf;
    i.src = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
}

// Instruction classes (low 3 bits).
inline constexpr uint8_t BPF_LD = 0x00, BPF_LDX = 0x01, BPF_ST = 0x02, BPF_STX = 0x03,
                         BPF_ALU = 0x04, BPF_JMP = 0x05, BPF_JMP32 = 0x06, BPF_ALU64 = 0x07;
inline constexpr uint8_t bpf_class(uint8_t code) {
    return code & 0x07;
}

// Arithmetic and jump fields.
inline constexpr uint8_t BPF_K = 0x00, BPF_X = 0x08;
inline constexpr uint8_t BPF_ADD = 0x00, BPF_SUB = 0x10, BPF_MUL = 0x20, BPF_DIV = 0x30,
                         BPF_OR = 0x40, BPF_AND = 0x50, BPF_LSH = 0x60, BPF_RSH = 0x70,
                         BPF_NEG = 0x80, BPF_MOD = 0x90, BPF_XOR = 0xa0, BPF_MOV = 0xb0,
                         BPF_ARSH = 0xc0, BPF_END = 0xd0;
inline constexpr uint8_t BPF_TO_LE = 0x00, BPF_TO_BE = 0x08;
inline constexpr uint8_t BPF_JA = 0x00, BPF_JEQ = 0x10, BPF_JGT = 0x20, BPF_JGE = 0x30,
                         BPF_JSET = 0x40, BPF_JNE = 0x50, BPF_JSGT = 0x60, BPF_JSGE = 0x70,
                         BPF_CALL = 0x80, BPF_EXIT = 0x90, BPF_JLT = 0xa0, BPF_JLE = 0xb0,
                         BPF_JSLT = 0xc0, BPF_JSLE = 0xd0;
inline constexpr uint8_t bpf_op(uint8_t code) {
    return code & 0xf0;
}
inline constexpr uint8_t bpf_srcbit(uint8_t code) {
    return code & 0x08;
}

// Load/store fields.
inline constexpr uint8_t BPF_W = 0x00, BPF_H = 0x08, BPF_B = 0x10, BPF_DW = 0x18;
inline constexpr uint8_t BPF_IMM = 0x00, BPF_ABS = 0x20, BPF_IND = 0x40, BPF_MEM = 0x60,
                         BPF_MEMSX = 0x80, BPF_ATOMIC = 0xc0;
inline constexpr uint8_t bpf_size(uint8_t code) {
    return code & 0x18;
}
inline constexpr uint8_t bpf_mode(uint8_t code) {
    return code & 0xe0;
}
inline constexpr int size_bytes(uint8_t code) {
    switch (bpf_size(code)) {
    case BPF_B: return 1;
    case BPF_H: return 2;
    case BPF_W: return 4;
    default: return 8;
    }
}

// Atomic operations (imm of a BPF_ATOMIC store).
inline constexpr int32_t BPF_FETCH = 0x01;
inline constexpr int32_t BPF_XCHG = 0xe0 | BPF_FETCH, BPF_CMPXCHG = 0xf0 | BPF_FETCH;

// src_reg of BPF_CALL.
inline constexpr uint8_t BPF_PSEUDO_CALL = 1, BPF_PSEUDO_KFUNC_CALL = 2;

// src_reg of the lddw (BPF_LD | BPF_IMM | BPF_DW) forms.
inline constexpr uint8_t BPF_PSEUDO_MAP_FD = 1, BPF_PSEUDO_MAP_VALUE = 2, BPF_PSEUDO_BTF_ID = 3,
                         BPF_PSEUDO_FUNC = 4, BPF_PSEUDO_MAP_IDX = 5, BPF_PSEUDO_MAP_IDX_VALUE = 6;
inline constexpr uint8_t BPF_LDDW = BPF_LD | BPF_IMM | BPF_DW;

// Registers and limits.
inline constexpr int BPF_REG_0 = 0, BPF_REG_1 = 1, BPF_REG_10 = 10, MAX_BPF_REG = 11;
inline constexpr int MAX_BPF_STACK = 512;
inline constexpr int MAX_CALL_FRAMES = 8;
inline constexpr int MAX_TAIL_CALL_CNT = 33;
inline constexpr uint32_t BPF_COMPLEXITY_LIMIT_INSNS = 1'000'000;

using Insns = std::span<const Insn>;

} // namespace ebpf
