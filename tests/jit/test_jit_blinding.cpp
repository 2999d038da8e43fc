// Constant blinding: with it, no immediate of the program appears in the machine code, and the
// program computes what it computes without it. (The conformance test runs the whole suite
// blinded too.)
#include "jit/jit.hpp"
#include "vm/interpreter.hpp"
#include "vm/isa/opcodes.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

using namespace ebpf;

namespace {

// A program with one instruction of every form that carries a 32- or 64-bit immediate into the
// code, each with its own immediate: no zero byte, too wide for a short encoding.
struct Sample {
    std::vector<Insn> insns;
    std::vector<uint32_t> imm32;
    std::vector<uint64_t> imm64;
};

Sample sample_program() {
    std::mt19937 rng(7);
    const auto distinct = [&] {
        uint32_t v = 0;
        for (int b = 0; b < 4; ++b)
            v |= (0x11 + rng() % 0xdd) << (8 * b);
        return v;
    };
    Sample s;
    const auto with_imm = [&](uint8_t opcode, uint8_t dst, uint8_t src, int16_t off) {
        const uint32_t imm = distinct();
        s.imm32.push_back(imm);
        s.insns.push_back(make_insn(opcode, dst, src, off, static_cast<int32_t>(imm)));
    };
    for (uint8_t r = 0; r <= 5; ++r)
        with_imm(BPF_ALU64 | BPF_MOV | BPF_K, r, 0, 0);
    uint8_t dst = 0;
    for (const OpcodeInfo& row : opcode_table) {
        const uint8_t cls = bpf_class(row.opcode), op = bpf_op(row.opcode);
        if (bpf_srcbit(row.opcode) != BPF_K) continue;
        if ((cls == BPF_ALU || cls == BPF_ALU64) && op != BPF_LSH && op != BPF_RSH &&
            op != BPF_ARSH && op != BPF_NEG && op != BPF_END)
            with_imm(row.opcode, dst, 0,
                     row.key == Key::off ? static_cast<int16_t>(row.key_value) : 0);
        if ((cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_JA && op != BPF_CALL &&
            op != BPF_EXIT)
            with_imm(row.opcode, dst, 0, 0); // a jump to the next instruction either way
        dst = static_cast<uint8_t>((dst + 1) % 6);
    }
    with_imm(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -8);
    with_imm(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, -16);
    const uint64_t wide = (static_cast<uint64_t>(distinct()) << 32) | distinct();
    s.imm64.push_back(wide);
    s.insns.push_back(make_insn(BPF_LDDW, 6, 0, 0, static_cast<int32_t>(wide)));
    s.insns.push_back(make_insn(0, 0, 0, 0, static_cast<int32_t>(wide >> 32)));
    // Packet loads, jumped over: their offsets would end the run.
    s.insns.push_back(make_insn(BPF_JMP | BPF_JA, 0, 0, 2, 0));
    with_imm(BPF_LD | BPF_ABS | BPF_W, 0, 0, 0);
    with_imm(BPF_LD | BPF_IND | BPF_W, 0, 1, 0);
    // r0 = the sum of r0-r6 and both stack slots.
    for (uint8_t r = 1; r <= 6; ++r)
        s.insns.push_back(make_insn(BPF_ALU64 | BPF_ADD | BPF_X, 0, r, 0, 0));
    for (int16_t off : {-8, -16}) {
        s.insns.push_back(make_insn(BPF_LDX | BPF_MEM | BPF_DW, 1, BPF_REG_10, off, 0));
        s.insns.push_back(make_insn(BPF_ALU64 | BPF_ADD | BPF_X, 0, 1, 0, 0));
    }
    s.insns.push_back(make_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    return s;
}

template <typename T> bool contains(std::span<const uint8_t> code, T value) {
    uint8_t bytes[sizeof value];
    std::memcpy(bytes, &value, sizeof value);
    return std::search(code.begin(), code.end(), std::begin(bytes), std::end(bytes)) != code.end();
}

} // namespace

TEST_CASE("blinded code holds none of the program's immediates and computes the same") {
    const Sample s = sample_program();
    HelperRegistry helpers;
    auto prog = Program::load(s.insns, helpers);
    INFO((prog ? std::string() : prog.error().to_string()));
    REQUIRE(prog.ok());
    REQUIRE(s.imm32.size() >= 50); // 22 ALU, 22 jumps, stores, packet loads

    auto plain = jit_compile(*prog);
    auto blinded = jit_compile(*prog, JitOptions{true});
    REQUIRE(plain.ok());
    REQUIRE(blinded.ok());
    for (uint32_t imm : s.imm32) {
        INFO("imm " << std::hex << imm);
        CHECK(contains(plain->code(), imm)); // the search can see them
        CHECK_FALSE(contains(blinded->code(), imm));
    }
    for (uint64_t imm : s.imm64) {
        CHECK(contains(plain->code(), imm));
        CHECK_FALSE(contains(blinded->code(), imm));
        CHECK_FALSE(contains(blinded->code(), static_cast<uint32_t>(imm)));
        CHECK_FALSE(contains(blinded->code(), static_cast<uint32_t>(imm >> 32)));
    }

    RunState state;
    auto expected = interpret(*prog, RunArgs{}, state);
    REQUIRE(expected.ok());
    for (const JitProgram* jitted : {&*plain, &*blinded}) {
        auto got = jitted->run(RunArgs{}, state);
        REQUIRE(got.ok());
        CHECK(got->r0 == expected->r0);
    }
}

TEST_CASE("every compilation blinds with new keys") {
    const Sample s = sample_program();
    HelperRegistry helpers;
    auto prog = Program::load(s.insns, helpers);
    REQUIRE(prog.ok());
    auto first = jit_compile(*prog, JitOptions{true});
    auto second = jit_compile(*prog, JitOptions{true});
    REQUIRE(first.ok());
    REQUIRE(second.ok());
    CHECK_FALSE(std::equal(first->code().begin(), first->code().end(), second->code().begin(),
                           second->code().end()));
}
