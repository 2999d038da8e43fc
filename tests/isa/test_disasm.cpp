#include "vm/isa/disasm.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace ebpf;

namespace {

std::string dis(const Insn& insn, const DisasmOptions& opts = {}) {
    return disasm_insn(Insns(&insn, 1), 0, opts);
}

std::string dis_lddw(uint8_t dst, uint8_t src, int32_t imm, int32_t next) {
    const Insn slots[] = {make_insn(BPF_LDDW, dst, src, 0, imm), make_insn(0, 0, 0, 0, next)};
    return disasm_insn(slots, 0);
}

} // namespace

TEST_CASE("disasm: arithmetic in the kernel's syntax", "[disasm]") {
    CHECK(dis(make_insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1)) == "r0 = 1");
    CHECK(dis(make_insn(BPF_ALU | BPF_MOV | BPF_K, 3, 0, 0, -5)) == "w3 = -5");
    CHECK(dis(make_insn(BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0)) == "r6 = r1");
    CHECK(dis(make_insn(BPF_ALU | BPF_ADD | BPF_X, 1, 2, 0, 0)) == "w1 += w2");
    CHECK(dis(make_insn(BPF_ALU64 | BPF_ADD | BPF_K, 1, 0, 0, -1)) == "r1 += -1");
    CHECK(dis(make_insn(BPF_ALU64 | BPF_SUB | BPF_X, 1, 2, 0, 0)) == "r1 -= r2");
    CHECK(dis(make_insn(BPF_ALU | BPF_MUL | BPF_K, 1, 0, 0, 7)) == "w1 *= 7");
    CHECK(dis(make_insn(BPF_ALU64 | BPF_DIV | BPF_X, 1, 2, 0, 0)) == "r1 /= r2");
    CHECK(dis(make_insn(BPF_ALU64 | BPF_OR | BPF_K, 1, 0, 0, 16)) == "r1 |= 16");
    CHECK(dis(make_insn(BPF_ALU64 | BPF_AND | BPF_K, 1, 0, 0, 255)) == "r1 &= 255");
    CHECK(dis(make_insn(BPF_ALU | BPF_LSH | BPF_K, 3, 0, 0, 5)) == "w3 <<= 5");
    CHECK(dis(make_insn(BPF_ALU64 | BPF_RSH | BPF_X, 3, 4, 0, 0)) == "r3 >>= r4");
    CHECK(dis(make_insn(BPF_ALU64 | BPF_MOD | BPF_K, 1, 0, 0, 3)) == "r1 %= 3");
    CHECK(dis(make_insn(BPF_ALU64 | BPF_XOR | BPF_X, 1, 2, 0, 0)) == "r1 ^= r2");
    CHECK(dis(make_insn(BPF_ALU64 | BPF_ARSH | BPF_K, 2, 0, 0, 63)) == "r2 s>>= 63");
    CHECK(dis(make_insn(BPF_ALU64 | BPF_NEG, 1, 0, 0, 0)) == "r1 = -r1");
    CHECK(dis(make_insn(BPF_ALU | BPF_NEG, 1, 0, 0, 0)) == "w1 = -w1");
    CHECK(dis(make_insn(BPF_ALU64 | BPF_DIV | BPF_X, 1, 2, 1, 0)) == "r1 s/= r2");
    CHECK(dis(make_insn(BPF_ALU64 | BPF_MOD | BPF_K, 1, 0, 1, 3)) == "r1 s%= 3");
    CHECK(dis(make_insn(BPF_ALU | BPF_DIV | BPF_K, 1, 0, 1, -7)) == "w1 s/= -7");
    CHECK(dis(make_insn(BPF_ALU64 | BPF_MOV | BPF_X, 1, 2, 8, 0)) == "r1 = (s8)r2");
    CHECK(dis(make_insn(BPF_ALU | BPF_MOV | BPF_X, 1, 2, 16, 0)) == "w1 = (s16)w2");
    CHECK(dis(make_insn(BPF_ALU64 | BPF_MOV | BPF_X, 3, 4, 32, 0)) == "r3 = (s32)r4");
    CHECK(dis(make_insn(BPF_ALU | BPF_END | BPF_TO_BE, 1, 0, 0, 16)) == "r1 = be16 r1");
    CHECK(dis(make_insn(BPF_ALU | BPF_END | BPF_TO_LE, 1, 0, 0, 32)) == "r1 = le32 r1");
    CHECK(dis(make_insn(BPF_ALU64 | BPF_END, 1, 0, 0, 64)) == "r1 = bswap64 r1");
}

TEST_CASE("disasm: loads, stores and atomics", "[disasm]") {
    CHECK(dis(make_insn(BPF_STX | BPF_MEM | BPF_W, 10, 1, -8, 0)) == "*(u32 *)(r10 -8) = r1");
    CHECK(dis(make_insn(BPF_ST | BPF_MEM | BPF_DW, 10, 0, -8, 7)) == "*(u64 *)(r10 -8) = 7");
    CHECK(dis(make_insn(BPF_ST | BPF_MEM | BPF_B, 1, 0, 3, -1)) == "*(u8 *)(r1 +3) = -1");
    CHECK(dis(make_insn(BPF_LDX | BPF_MEM | BPF_W, 0, 1, 0, 0)) == "r0 = *(u32 *)(r1 +0)");
    CHECK(dis(make_insn(BPF_LDX | BPF_MEM | BPF_H, 0, 1, 6, 0)) == "r0 = *(u16 *)(r1 +6)");
    CHECK(dis(make_insn(BPF_LDX | BPF_MEMSX | BPF_B, 0, 1, 2, 0)) == "r0 = *(s8 *)(r1 +2)");
    CHECK(dis(make_insn(BPF_LDX | BPF_MEMSX | BPF_W, 0, 1, 2, 0)) == "r0 = *(s32 *)(r1 +2)");
    CHECK(dis(make_insn(BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, 12)) == "r0 = *(u8 *)skb[12]");
    CHECK(dis(make_insn(BPF_LD | BPF_IND | BPF_H, 0, 1, 0, 4)) == "r0 = *(u16 *)skb[r1 + 4]");

    const auto atomic = [](uint8_t size, int32_t imm) {
        return dis(make_insn(BPF_STX | BPF_ATOMIC | size, 1, 2, 0, imm));
    };
    CHECK(atomic(BPF_DW, BPF_ADD) == "lock *(u64 *)(r1 +0) += r2");
    CHECK(atomic(BPF_W, BPF_ADD) == "lock *(u32 *)(r1 +0) += r2");
    CHECK(atomic(BPF_DW, BPF_AND) == "lock *(u64 *)(r1 +0) &= r2");
    CHECK(atomic(BPF_W, BPF_OR) == "lock *(u32 *)(r1 +0) |= r2");
    CHECK(atomic(BPF_DW, BPF_XOR) == "lock *(u64 *)(r1 +0) ^= r2");
    CHECK(atomic(BPF_DW, BPF_ADD | BPF_FETCH) == "r2 = atomic64_fetch_add((u64 *)(r1 +0), r2)");
    CHECK(atomic(BPF_W, BPF_ADD | BPF_FETCH) == "r2 = atomic_fetch_add((u32 *)(r1 +0), r2)");
    CHECK(atomic(BPF_W, BPF_AND | BPF_FETCH) == "r2 = atomic_fetch_and((u32 *)(r1 +0), r2)");
    CHECK(atomic(BPF_DW, BPF_OR | BPF_FETCH) == "r2 = atomic64_fetch_or((u64 *)(r1 +0), r2)");
    CHECK(atomic(BPF_DW, BPF_XOR | BPF_FETCH) == "r2 = atomic64_fetch_xor((u64 *)(r1 +0), r2)");
    CHECK(atomic(BPF_DW, BPF_XCHG) == "r2 = atomic64_xchg((u64 *)(r1 +0), r2)");
    CHECK(atomic(BPF_W, BPF_XCHG) == "r2 = atomic_xchg((u32 *)(r1 +0), r2)");
    CHECK(atomic(BPF_DW, BPF_CMPXCHG) == "r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)");
    CHECK(atomic(BPF_W, BPF_CMPXCHG) == "r0 = atomic_cmpxchg((u32 *)(r1 +0), r0, r2)");
}

TEST_CASE("disasm: jumps and calls", "[disasm]") {
    CHECK(dis(make_insn(BPF_JMP | BPF_JGT | BPF_K, 1, 0, 2, 3)) == "if r1 > 0x3 goto pc+2");
    CHECK(dis(make_insn(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1, 0)) == "if r1 == 0x0 goto pc+1");
    CHECK(dis(make_insn(BPF_JMP | BPF_JNE | BPF_K, 1, 0, 0, -1)) ==
          "if r1 != 0xffffffff goto pc+0");
    CHECK(dis(make_insn(BPF_JMP32 | BPF_JSLT | BPF_X, 1, 2, -4, 0)) == "if w1 s< w2 goto pc-4");
    CHECK(dis(make_insn(BPF_JMP | BPF_JSET | BPF_K, 1, 0, 2, 3)) == "if r1 & 0x3 goto pc+2");
    CHECK(dis(make_insn(BPF_JMP | BPF_JSGE | BPF_X, 3, 4, 5, 0)) == "if r3 s>= r4 goto pc+5");
    CHECK(dis(make_insn(BPF_JMP32 | BPF_JLE | BPF_K, 3, 0, 1, 9)) == "if w3 <= 0x9 goto pc+1");
    CHECK(dis(make_insn(BPF_JMP | BPF_JA, 0, 0, 2, 0)) == "goto pc+2");
    CHECK(dis(make_insn(BPF_JMP32 | BPF_JA, 0, 0, 0, 70000)) == "gotol pc+70000");
    CHECK(dis(make_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)) == "exit");
    CHECK(dis(make_insn(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 3)) == "call pc+3");
    CHECK(dis(make_insn(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, -7)) == "call pc-7");
    CHECK(dis(make_insn(BPF_JMP | BPF_CALL | BPF_X, 2, 0, 0, 0)) == "callx r2");
    CHECK(dis(make_insn(BPF_JMP | BPF_CALL, 0, 2, 0, 1234)) == "call kernel-function#1234");
    CHECK(dis(make_insn(BPF_JMP | BPF_CALL, 0, 2, 3, 1234)) == "call kernel-function#1234 (off 3)");

    const Insn helper = make_insn(BPF_JMP | BPF_CALL, 0, 0, 0, 1);
    CHECK(dis(helper) == "call unknown#1");
    DisasmOptions opts;
    opts.helper_name = [](int32_t id) { return id == 1 ? "bpf_map_lookup_elem" : ""; };
    CHECK(dis(helper, opts) == "call bpf_map_lookup_elem#1");
    CHECK(dis(make_insn(BPF_JMP | BPF_CALL, 0, 0, 0, 99), opts) == "call unknown#99");
}

TEST_CASE("disasm: lddw and its pseudo sources", "[disasm]") {
    CHECK(dis_lddw(1, 0, 0x1234, 0) == "r1 = 0x1234");
    CHECK(dis_lddw(1, 0, -1, -1) == "r1 = 0xffffffffffffffff");
    CHECK(dis_lddw(2, 0, 0, 1) == "r2 = 0x100000000");
    CHECK(dis_lddw(1, BPF_PSEUDO_MAP_FD, 3, 0) == "r1 = map[id:3]");
    CHECK(dis_lddw(1, BPF_PSEUDO_MAP_VALUE, 3, 8) == "r1 = map[id:3][0]+8");
    CHECK(dis_lddw(1, BPF_PSEUDO_BTF_ID, 77, 0) == "r1 = btf_id[77]");
    CHECK(dis_lddw(1, BPF_PSEUDO_FUNC, 5, 0) == "r1 = subprog[+5]");
    CHECK(dis_lddw(1, BPF_PSEUDO_MAP_IDX, 2, 0) == "r1 = map[idx:2]");
    CHECK(dis_lddw(1, BPF_PSEUDO_MAP_IDX_VALUE, 2, 16) == "r1 = map[idx:2]+16");
    // Pairs no kernel form shows in full.
    CHECK(dis_lddw(1, BPF_PSEUDO_MAP_FD, 3, 5) == "r1 = pseudo[src:1] 0x500000003");
    CHECK(dis_lddw(1, 9, 1, 0) == "r1 = pseudo[src:9] 0x1");

    const Insn alone = make_insn(BPF_LDDW, 1, 0, 0, 5);
    CHECK(disasm_insn(Insns(&alone, 1), 0) == "invalid insn (lddw without its second slot)");
}

TEST_CASE("disasm: instructions without a row", "[disasm]") {
    CHECK(dis(make_insn(0xff, 0, 0, 0, 0)) == "invalid insn (op 0xff)");
    CHECK(dis(make_insn(BPF_ALU64 | BPF_DIV | BPF_X, 1, 2, 2, 0)) == "invalid insn (op 0x3f)");
    CHECK(dis(make_insn(BPF_STX | BPF_ATOMIC | BPF_DW, 1, 2, 0, 0x02)) == "invalid insn (op 0xdb)");
    CHECK(dis(make_insn(BPF_JMP32 | BPF_CALL, 0, 0, 0, 1)) == "invalid insn (op 0x86)");
    const Insn one = make_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
    CHECK(disasm_insn(Insns(&one, 1), 1) == "invalid insn (past the end)");
}

TEST_CASE("disasm: program listing numbers slots like the verifier log", "[disasm]") {
    const std::vector<Insn> prog = {
        make_insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1),
        make_insn(BPF_LDDW, 1, 0, 0, 0x1234),
        make_insn(0, 0, 0, 0, 0),
        make_insn(BPF_JMP | BPF_JGT | BPF_K, 1, 0, 1, 3),
        make_insn(0xff, 0, 0, 0, 0),
        make_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
    };
    CHECK(disasm_program(prog) == "0: (b7) r0 = 1\n"
                                  "1: (18) r1 = 0x1234\n"
                                  "3: (25) if r1 > 0x3 goto pc+1\n"
                                  "4: (ff) invalid insn (op 0xff)\n"
                                  "5: (95) exit\n");
    const std::vector<Insn> cut = {make_insn(BPF_LDDW, 1, 0, 0, 1)};
    CHECK(disasm_program(cut) == "0: (18) invalid insn (lddw without its second slot)\n");
    CHECK(disasm_program({}) == "");
}
