// The one opcode table. Every instruction form of RFC 9669 is one row; the validator, the
// disassembler, the assembler, the interpreter's dispatch and the tests all read it.
//
// A row is X(name, opcode, key, key_value, mnemonic, zero, version, group):
//  - key/key_value: the field that tells apart forms sharing an opcode (sdiv is div with off 1,
//    movsx is mov with off 8/16/32, atomics differ by imm, calls by src, byte swaps by imm);
//  - zero: the fields that must be zero (Zd dst, Zs src, Zo off, Zi imm);
//  - version: the ISA version (v1-v4) that introduced it; group: its RFC 9669 conformance group.
#pragma once

#include "vm/isa/insn.hpp"

#include <array>
#include <cstdint>
#include <optional>

namespace ebpf {

enum class Key : uint8_t { none, off, imm, src };
enum class Group : uint8_t {
    base32,
    base64,
    atomic32,
    atomic64,
    divmul32,
    divmul64,
    callx,
    packet
};
inline constexpr uint8_t Zd = 1, Zs = 2, Zo = 4, Zi = 8;

// clang-format off
#define EBPF_ALU_PAIR(X, n, op, grp32, grp64)                                                      \
    X(n##32_imm, BPF_ALU | op | BPF_K,   Key::none, 0, #n "32", Zs | Zo, 1, grp32)                   \
    X(n##32_reg, BPF_ALU | op | BPF_X,   Key::none, 0, #n "32", Zi | Zo, 1, grp32)                   \
    X(n##64_imm, BPF_ALU64 | op | BPF_K, Key::none, 0, #n,      Zs | Zo, 1, grp64)                   \
    X(n##64_reg, BPF_ALU64 | op | BPF_X, Key::none, 0, #n,      Zi | Zo, 1, grp64)

// Forms keyed by off: the unsigned op (off 0) and its signed twin (off 1).
#define EBPF_DIV_PAIR(X, n, op)                                                                    \
    X(n##32_imm,  BPF_ALU | op | BPF_K,   Key::off, 0, #n "32",    Zs, 1, Group::divmul32)          \
    X(s##n##32_imm, BPF_ALU | op | BPF_K, Key::off, 1, "s" #n "32", Zs, 4, Group::divmul32)         \
    X(n##32_reg,  BPF_ALU | op | BPF_X,   Key::off, 0, #n "32",    Zi, 1, Group::divmul32)          \
    X(s##n##32_reg, BPF_ALU | op | BPF_X, Key::off, 1, "s" #n "32", Zi, 4, Group::divmul32)         \
    X(n##64_imm,  BPF_ALU64 | op | BPF_K, Key::off, 0, #n,         Zs, 1, Group::divmul64)          \
    X(s##n##64_imm, BPF_ALU64 | op | BPF_K, Key::off, 1, "s" #n,   Zs, 4, Group::divmul64)          \
    X(n##64_reg,  BPF_ALU64 | op | BPF_X, Key::off, 0, #n,         Zi, 1, Group::divmul64)          \
    X(s##n##64_reg, BPF_ALU64 | op | BPF_X, Key::off, 1, "s" #n,   Zi, 4, Group::divmul64)

#define EBPF_JMP_FAMILY(X, n, op, ver)                                                             \
    X(n##_imm,   BPF_JMP | op | BPF_K,   Key::none, 0, #n,      Zs, ver, Group::base64)             \
    X(n##_reg,   BPF_JMP | op | BPF_X,   Key::none, 0, #n,      Zi, ver, Group::base64)             \
    X(n##32_imm, BPF_JMP32 | op | BPF_K, Key::none, 0, #n "32", Zs, 3, Group::base32)               \
    X(n##32_reg, BPF_JMP32 | op | BPF_X, Key::none, 0, #n "32", Zi, 3, Group::base32)

#define EBPF_MEM_FAMILY(X, sz, SZ, grp)                                                            \
    X(ldx##sz,  BPF_LDX | BPF_MEM | SZ,   Key::none, 0, "ldx" #sz,  Zi, 1, grp)                     \
    X(st##sz,   BPF_ST | BPF_MEM | SZ,    Key::none, 0, "st" #sz,   Zs, 1, grp)                     \
    X(stx##sz,  BPF_STX | BPF_MEM | SZ,   Key::none, 0, "stx" #sz,  Zi, 1, grp)

#define EBPF_ATOMIC_FAMILY(X, w, SZ, grp, v)                                                       \
    X(atomic##w##_add,       BPF_STX | BPF_ATOMIC | SZ, Key::imm, BPF_ADD,             "lock add" #w,  0, v, grp) \
    X(atomic##w##_or,        BPF_STX | BPF_ATOMIC | SZ, Key::imm, BPF_OR,              "lock or" #w,   0, 3, grp) \
    X(atomic##w##_and,       BPF_STX | BPF_ATOMIC | SZ, Key::imm, BPF_AND,             "lock and" #w,  0, 3, grp) \
    X(atomic##w##_xor,       BPF_STX | BPF_ATOMIC | SZ, Key::imm, BPF_XOR,             "lock xor" #w,  0, 3, grp) \
    X(atomic##w##_fetch_add, BPF_STX | BPF_ATOMIC | SZ, Key::imm, BPF_ADD | BPF_FETCH, "lock fetch_add" #w, 0, 3, grp) \
    X(atomic##w##_fetch_or,  BPF_STX | BPF_ATOMIC | SZ, Key::imm, BPF_OR | BPF_FETCH,  "lock fetch_or" #w,  0, 3, grp) \
    X(atomic##w##_fetch_and, BPF_STX | BPF_ATOMIC | SZ, Key::imm, BPF_AND | BPF_FETCH, "lock fetch_and" #w, 0, 3, grp) \
    X(atomic##w##_fetch_xor, BPF_STX | BPF_ATOMIC | SZ, Key::imm, BPF_XOR | BPF_FETCH, "lock fetch_xor" #w, 0, 3, grp) \
    X(atomic##w##_xchg,      BPF_STX | BPF_ATOMIC | SZ, Key::imm, BPF_XCHG,            "lock xchg" #w,    0, 3, grp) \
    X(atomic##w##_cmpxchg,   BPF_STX | BPF_ATOMIC | SZ, Key::imm, BPF_CMPXCHG,         "lock cmpxchg" #w, 0, 3, grp)

#define EBPF_OPCODES(X)                                                                            \
    EBPF_ALU_PAIR(X, add, BPF_ADD, Group::base32, Group::base64)                                   \
    EBPF_ALU_PAIR(X, sub, BPF_SUB, Group::base32, Group::base64)                                   \
    EBPF_ALU_PAIR(X, mul, BPF_MUL, Group::divmul32, Group::divmul64)                               \
    EBPF_DIV_PAIR(X, div, BPF_DIV)                                                                 \
    EBPF_DIV_PAIR(X, mod, BPF_MOD)                                                                 \
    EBPF_ALU_PAIR(X, or, BPF_OR, Group::base32, Group::base64)                                     \
    EBPF_ALU_PAIR(X, and, BPF_AND, Group::base32, Group::base64)                                   \
    EBPF_ALU_PAIR(X, lsh, BPF_LSH, Group::base32, Group::base64)                                   \
    EBPF_ALU_PAIR(X, rsh, BPF_RSH, Group::base32, Group::base64)                                   \
    EBPF_ALU_PAIR(X, xor, BPF_XOR, Group::base32, Group::base64)                                   \
    EBPF_ALU_PAIR(X, arsh, BPF_ARSH, Group::base32, Group::base64)                                 \
    X(neg32,      BPF_ALU | BPF_NEG,            Key::none, 0,  "neg32",    Zs | Zo | Zi, 1, Group::base32) \
    X(neg64,      BPF_ALU64 | BPF_NEG,          Key::none, 0,  "neg",      Zs | Zo | Zi, 1, Group::base64) \
    X(mov32_imm,  BPF_ALU | BPF_MOV | BPF_K,    Key::none, 0,  "mov32",    Zs | Zo, 1, Group::base32)      \
    X(mov32_reg,  BPF_ALU | BPF_MOV | BPF_X,    Key::off,  0,  "mov32",    Zi, 1, Group::base32)           \
    X(movsx8_32,  BPF_ALU | BPF_MOV | BPF_X,    Key::off,  8,  "movsx832", Zi, 4, Group::base32)           \
    X(movsx16_32, BPF_ALU | BPF_MOV | BPF_X,    Key::off,  16, "movsx1632", Zi, 4, Group::base32)          \
    X(mov64_imm,  BPF_ALU64 | BPF_MOV | BPF_K,  Key::none, 0,  "mov",      Zs | Zo, 1, Group::base64)      \
    X(mov64_reg,  BPF_ALU64 | BPF_MOV | BPF_X,  Key::off,  0,  "mov",      Zi, 1, Group::base64)           \
    X(movsx8_64,  BPF_ALU64 | BPF_MOV | BPF_X,  Key::off,  8,  "movsx864", Zi, 4, Group::base64)           \
    X(movsx16_64, BPF_ALU64 | BPF_MOV | BPF_X,  Key::off,  16, "movsx1664", Zi, 4, Group::base64)          \
    X(movsx32_64, BPF_ALU64 | BPF_MOV | BPF_X,  Key::off,  32, "movsx3264", Zi, 4, Group::base64)          \
    X(le16,       BPF_ALU | BPF_END | BPF_TO_LE, Key::imm, 16, "le16",     Zs | Zo, 1, Group::base32)      \
    X(le32,       BPF_ALU | BPF_END | BPF_TO_LE, Key::imm, 32, "le32",     Zs | Zo, 1, Group::base32)      \
    X(le64,       BPF_ALU | BPF_END | BPF_TO_LE, Key::imm, 64, "le64",     Zs | Zo, 1, Group::base64)      \
    X(be16,       BPF_ALU | BPF_END | BPF_TO_BE, Key::imm, 16, "be16",     Zs | Zo, 1, Group::base32)      \
    X(be32,       BPF_ALU | BPF_END | BPF_TO_BE, Key::imm, 32, "be32",     Zs | Zo, 1, Group::base32)      \
    X(be64,       BPF_ALU | BPF_END | BPF_TO_BE, Key::imm, 64, "be64",     Zs | Zo, 1, Group::base64)      \
    X(bswap16,    BPF_ALU64 | BPF_END,           Key::imm, 16, "bswap16",  Zs | Zo, 4, Group::base32)      \
    X(bswap32,    BPF_ALU64 | BPF_END,           Key::imm, 32, "bswap32",  Zs | Zo, 4, Group::base32)      \
    X(bswap64,    BPF_ALU64 | BPF_END,           Key::imm, 64, "bswap64",  Zs | Zo, 4, Group::base64)      \
    X(ja,         BPF_JMP | BPF_JA,              Key::none, 0, "ja",       Zd | Zs | Zi, 1, Group::base32) \
    X(gotol,      BPF_JMP32 | BPF_JA,            Key::none, 0, "gotol",    Zd | Zs | Zo, 4, Group::base32) \
    EBPF_JMP_FAMILY(X, jeq, BPF_JEQ, 1)                                                            \
    EBPF_JMP_FAMILY(X, jgt, BPF_JGT, 1)                                                            \
    EBPF_JMP_FAMILY(X, jge, BPF_JGE, 1)                                                            \
    EBPF_JMP_FAMILY(X, jset, BPF_JSET, 1)                                                          \
    EBPF_JMP_FAMILY(X, jne, BPF_JNE, 1)                                                            \
    EBPF_JMP_FAMILY(X, jsgt, BPF_JSGT, 1)                                                          \
    EBPF_JMP_FAMILY(X, jsge, BPF_JSGE, 1)                                                          \
    EBPF_JMP_FAMILY(X, jlt, BPF_JLT, 2)                                                            \
    EBPF_JMP_FAMILY(X, jle, BPF_JLE, 2)                                                            \
    EBPF_JMP_FAMILY(X, jslt, BPF_JSLT, 2)                                                          \
    EBPF_JMP_FAMILY(X, jsle, BPF_JSLE, 2)                                                          \
    X(call_helper, BPF_JMP | BPF_CALL,           Key::src, 0, "call",      Zd | Zo, 1, Group::base32)      \
    X(call_local,  BPF_JMP | BPF_CALL,           Key::src, BPF_PSEUDO_CALL, "call", Zd | Zo, 3, Group::base32) \
    X(call_kfunc,  BPF_JMP | BPF_CALL,           Key::src, BPF_PSEUDO_KFUNC_CALL, "call", Zd, 4, Group::base32) \
    X(callx,       BPF_JMP | BPF_CALL | BPF_X,   Key::none, 0, "callx",    Zs | Zo | Zi, 1, Group::callx)  \
    X(exit,        BPF_JMP | BPF_EXIT,           Key::none, 0, "exit",     Zd | Zs | Zo | Zi, 1, Group::base32) \
    X(lddw,        BPF_LDDW,                     Key::none, 0, "lddw",     Zo, 1, Group::base64)            \
    X(ldabsb,      BPF_LD | BPF_ABS | BPF_B,     Key::none, 0, "ldabsb",   Zd | Zs | Zo, 1, Group::packet)  \
    X(ldabsh,      BPF_LD | BPF_ABS | BPF_H,     Key::none, 0, "ldabsh",   Zd | Zs | Zo, 1, Group::packet)  \
    X(ldabsw,      BPF_LD | BPF_ABS | BPF_W,     Key::none, 0, "ldabsw",   Zd | Zs | Zo, 1, Group::packet)  \
    X(ldindb,      BPF_LD | BPF_IND | BPF_B,     Key::none, 0, "ldindb",   Zd | Zo, 1, Group::packet)       \
    X(ldindh,      BPF_LD | BPF_IND | BPF_H,     Key::none, 0, "ldindh",   Zd | Zo, 1, Group::packet)       \
    X(ldindw,      BPF_LD | BPF_IND | BPF_W,     Key::none, 0, "ldindw",   Zd | Zo, 1, Group::packet)       \
    EBPF_MEM_FAMILY(X, b, BPF_B, Group::base32)                                                    \
    EBPF_MEM_FAMILY(X, h, BPF_H, Group::base32)                                                    \
    EBPF_MEM_FAMILY(X, w, BPF_W, Group::base32)                                                    \
    EBPF_MEM_FAMILY(X, dw, BPF_DW, Group::base64)                                                  \
    X(ldxsb,  BPF_LDX | BPF_MEMSX | BPF_B,  Key::none, 0, "ldxsb", Zi, 4, Group::base32)           \
    X(ldxsh,  BPF_LDX | BPF_MEMSX | BPF_H,  Key::none, 0, "ldxsh", Zi, 4, Group::base32)           \
    X(ldxsw,  BPF_LDX | BPF_MEMSX | BPF_W,  Key::none, 0, "ldxsw", Zi, 4, Group::base32)           \
    EBPF_ATOMIC_FAMILY(X, 32, BPF_W, Group::atomic32, 1)                                           \
    EBPF_ATOMIC_FAMILY(X, 64, BPF_DW, Group::atomic64, 1)
// clang-format on

// One enumerator per row, in table order.
enum class Op : uint16_t {
#define EBPF_X_ENUM(name, ...) name,
    EBPF_OPCODES(EBPF_X_ENUM)
#undef EBPF_X_ENUM
        count_
};
inline constexpr size_t op_count = static_cast<size_t>(Op::count_);

struct OpcodeInfo {
    Op op;
    uint8_t opcode;
    Key key;
    int32_t key_value;
    const char* mnemonic;
    uint8_t zero;
    uint8_t version;
    Group group;
};

inline constexpr std::array<OpcodeInfo, op_count> opcode_table{{
#define EBPF_X_ROW(name, opcode, key, kv, mnem, zero, ver, grp)                                    \
    {Op::name, static_cast<uint8_t>(opcode), key, kv, mnem, zero, ver, grp},
    EBPF_OPCODES(EBPF_X_ROW)
#undef EBPF_X_ROW
}};

inline constexpr const OpcodeInfo& info(Op op) {
    return opcode_table[static_cast<size_t>(op)];
}

// The row an instruction belongs to; nullopt when no row has its opcode and key value.
std::optional<Op> lookup_op(const Insn& insn);

// True when the opcode byte appears in any row (the key value may still be wrong).
bool opcode_known(uint8_t opcode);

const char* group_name(Group g);

} // namespace ebpf
