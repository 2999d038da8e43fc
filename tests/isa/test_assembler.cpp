#include "vm/isa/assembler.hpp"
#include "vm/isa/disasm.hpp"
#include "vm/isa/opcodes.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace ebpf;

namespace {

// Slots as hex words, so that a mismatch shows which field differs.
std::string words(Insns prog) {
    std::string out;
    for (const Insn& insn : prog) {
        uint64_t word = 0;
        std::memcpy(&word, &insn, sizeof word);
        char buf[24];
        std::snprintf(buf, sizeof buf, "%016llx ", static_cast<unsigned long long>(word));
        out += buf;
    }
    return out;
}

std::vector<Insn> assembled(std::string_view text) {
    const auto result = assemble(text);
    INFO("text: " << text);
    INFO("error: " << (result.ok() ? "" : result.error().message));
    REQUIRE(result.ok());
    return *result;
}

std::string error_of(std::string_view text) {
    const auto result = assemble(text);
    INFO("text: " << text);
    REQUIRE_FALSE(result.ok());
    return result.error().message;
}

// Text -> bytes -> text for one instruction (one or two slots).
void check_line(const std::string& text, std::vector<Insn> expected) {
    INFO("line: " << text);
    const auto prog = assembled(text);
    CHECK(words(prog) == words(expected));
    CHECK(disasm_insn(prog, 0) == text);
}

std::vector<Insn> from_hex(const std::string& hex) {
    std::vector<uint8_t> bytes;
    for (size_t i = 0; i + 1 < hex.size(); i += 2)
        bytes.push_back(static_cast<uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
    std::vector<Insn> prog(bytes.size() / sizeof(Insn));
    std::memcpy(prog.data(), bytes.data(), prog.size() * sizeof(Insn));
    return prog;
}

void check_round_trip(Insns prog) {
    const std::string text = disasm_program(prog);
    INFO(text);
    CHECK(text.find("invalid") == std::string::npos);
    const auto back = assembled(text);
    CHECK(words(back) == words(prog));
}

} // namespace

TEST_CASE("assemble: kernel syntax, text to bytes to text", "[assembler]") {
    check_line("r0 = 1", {make_insn(0xb7, 0, 0, 0, 1)});
    check_line("w3 = -5", {make_insn(0xb4, 3, 0, 0, -5)});
    check_line("r6 = r1", {make_insn(0xbf, 6, 1, 0, 0)});
    check_line("w1 += w2", {make_insn(0x0c, 1, 2, 0, 0)});
    check_line("r1 += -1", {make_insn(0x07, 1, 0, 0, -1)});
    check_line("r2 s>>= 63", {make_insn(0xc7, 2, 0, 0, 63)});
    check_line("w3 <<= 5", {make_insn(0x64, 3, 0, 0, 5)});
    check_line("r3 >>= r4", {make_insn(0x7f, 3, 4, 0, 0)});
    check_line("r1 ^= r2", {make_insn(0xaf, 1, 2, 0, 0)});
    check_line("r1 = -r1", {make_insn(0x87, 1, 0, 0, 0)});
    check_line("w1 = -w1", {make_insn(0x84, 1, 0, 0, 0)});
    check_line("r1 s/= r2", {make_insn(0x3f, 1, 2, 1, 0)});
    check_line("r1 s%= 3", {make_insn(0x97, 1, 0, 1, 3)});
    check_line("r1 %= 3", {make_insn(0x97, 1, 0, 0, 3)});
    check_line("r1 = (s8)r2", {make_insn(0xbf, 1, 2, 8, 0)});
    check_line("w1 = (s16)w2", {make_insn(0xbc, 1, 2, 16, 0)});
    check_line("r1 = be16 r1", {make_insn(0xdc, 1, 0, 0, 16)});
    check_line("r1 = le32 r1", {make_insn(0xd4, 1, 0, 0, 32)});
    check_line("r1 = bswap64 r1", {make_insn(0xd7, 1, 0, 0, 64)});
    check_line("*(u32 *)(r10 -8) = r1", {make_insn(0x63, 10, 1, -8, 0)});
    check_line("*(u64 *)(r10 -8) = 7", {make_insn(0x7a, 10, 0, -8, 7)});
    check_line("r0 = *(u32 *)(r1 +0)", {make_insn(0x61, 0, 1, 0, 0)});
    check_line("r0 = *(s8 *)(r1 +2)", {make_insn(0x91, 0, 1, 2, 0)});
    check_line("if r1 > 0x3 goto pc+2", {make_insn(0x25, 1, 0, 2, 3)});
    check_line("if r1 > 0xffffffff goto pc+2", {make_insn(0x25, 1, 0, 2, -1)});
    check_line("if w1 s< w2 goto pc-4", {make_insn(0xce, 1, 2, -4, 0)});
    check_line("if r1 & 0x3 goto pc+2", {make_insn(0x45, 1, 0, 2, 3)});
    check_line("goto pc+2", {make_insn(0x05, 0, 0, 2, 0)});
    check_line("gotol pc+70000", {make_insn(0x06, 0, 0, 0, 70000)});
    check_line("exit", {make_insn(0x95, 0, 0, 0, 0)});
    check_line("call unknown#1", {make_insn(0x85, 0, 0, 0, 1)});
    check_line("call pc+3", {make_insn(0x85, 0, 1, 0, 3)});
    check_line("callx r2", {make_insn(0x8d, 2, 0, 0, 0)});
    check_line("call kernel-function#7", {make_insn(0x85, 0, 2, 0, 7)});
    check_line("call kernel-function#7 (off 2)", {make_insn(0x85, 0, 2, 2, 7)});
    check_line("r1 = 0x1234", {make_insn(0x18, 1, 0, 0, 0x1234), make_insn(0, 0, 0, 0, 0)});
    check_line("r1 = 0xffffffffffffffff",
               {make_insn(0x18, 1, 0, 0, -1), make_insn(0, 0, 0, 0, -1)});
    check_line("r1 = map[id:3]", {make_insn(0x18, 1, 1, 0, 3), make_insn(0, 0, 0, 0, 0)});
    check_line("r1 = map[id:3][0]+8", {make_insn(0x18, 1, 2, 0, 3), make_insn(0, 0, 0, 0, 8)});
    check_line("r1 = btf_id[77]", {make_insn(0x18, 1, 3, 0, 77), make_insn(0, 0, 0, 0, 0)});
    check_line("r1 = subprog[-5]", {make_insn(0x18, 1, 4, 0, -5), make_insn(0, 0, 0, 0, 0)});
    check_line("r1 = map[idx:2]", {make_insn(0x18, 1, 5, 0, 2), make_insn(0, 0, 0, 0, 0)});
    check_line("r1 = map[idx:2]+16", {make_insn(0x18, 1, 6, 0, 2), make_insn(0, 0, 0, 0, 16)});
    check_line("r1 = pseudo[src:1] 0x500000003",
               {make_insn(0x18, 1, 1, 0, 3), make_insn(0, 0, 0, 0, 5)});
    check_line("lock *(u64 *)(r1 +0) += r2", {make_insn(0xdb, 1, 2, 0, BPF_ADD)});
    check_line("lock *(u32 *)(r1 +0) |= r2", {make_insn(0xc3, 1, 2, 0, BPF_OR)});
    check_line("lock *(u64 *)(r1 -8) &= r2", {make_insn(0xdb, 1, 2, -8, BPF_AND)});
    check_line("lock *(u32 *)(r1 +4) ^= r2", {make_insn(0xc3, 1, 2, 4, BPF_XOR)});
    check_line("r2 = atomic64_fetch_add((u64 *)(r1 +0), r2)",
               {make_insn(0xdb, 1, 2, 0, BPF_ADD | BPF_FETCH)});
    check_line("r2 = atomic_fetch_add((u32 *)(r1 +0), r2)",
               {make_insn(0xc3, 1, 2, 0, BPF_ADD | BPF_FETCH)});
    check_line("r3 = atomic64_fetch_xor((u64 *)(r1 +0), r3)",
               {make_insn(0xdb, 1, 3, 0, BPF_XOR | BPF_FETCH)});
    check_line("r2 = atomic64_xchg((u64 *)(r1 +0), r2)", {make_insn(0xdb, 1, 2, 0, BPF_XCHG)});
    check_line("r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)",
               {make_insn(0xdb, 1, 2, 0, BPF_CMPXCHG)});
    check_line("r0 = *(u8 *)skb[12]", {make_insn(0x30, 0, 0, 0, 12)});
    check_line("r0 = *(u16 *)skb[r1 + 4]", {make_insn(0x48, 0, 1, 0, 4)});
}

TEST_CASE("assemble: accepted spellings beyond the printed form", "[assembler]") {
    const auto same = [](std::string_view text, std::string_view canonical) {
        INFO(text);
        CHECK(words(assembled(text)) == words(assembled(canonical)));
    };
    same("r1 = 0x1234 ll", "r1 = 0x1234");
    same("r1 = 4660 ll", "r1 = 0x1234");
    same("r1 = -1 ll", "r1 = 0xffffffffffffffff");
    same("w1 = 0x10", "w1 = 16");
    same("if r1 > 4294967295 goto pc+2", "if r1 > 0xffffffff goto pc+2");
    same("if r1 > -1 goto pc+2", "if r1 > 0xffffffff goto pc+2");
    same("r1 += 0xffffffff", "r1 += -1");
    same("lock *(u32 *)(r1 +0) += w2", "lock *(u32 *)(r1 +0) += r2");
    same("w2 = atomic_fetch_add((u32 *)(r1 +0), w2)", "r2 = atomic_fetch_add((u32 *)(r1 +0), r2)");
    same("*(u32 *)(r10 - 8) = w1", "*(u32 *)(r10 -8) = r1");
    same("r0 = *(u32 *)(r1)", "r0 = *(u32 *)(r1 +0)");
    same("  r0   =   1  ", "r0 = 1");
    same("call bpf_map_lookup_elem#1", "call unknown#1");
}

TEST_CASE("assemble: verifier log prefixes, comments and blank lines", "[assembler]") {
    const auto prog = assembled("; int f(void)\n"
                                "0: (b7) r0 = 1    ; R0_w=1\n"
                                "\n"
                                "   // a comment\n"
                                "1: (18) r1 = 0x1234\n"
                                "3: (95) exit\n");
    CHECK(words(prog) ==
          words(std::vector<Insn>{make_insn(0xb7, 0, 0, 0, 1), make_insn(0x18, 1, 0, 0, 0x1234),
                                  make_insn(0, 0, 0, 0, 0), make_insn(0x95, 0, 0, 0, 0)}));
    CHECK(assembled("").empty());
    CHECK(assembled("\n; only a comment\n\n").empty());
}

TEST_CASE("assemble: labels become pc-relative offsets", "[assembler]") {
    const auto prog = assembled("start:\n"
                                "  r0 = 0\n"
                                "loop:\n"
                                "  r0 += 1\n"
                                "  r1 = 0x100000000\n" // two slots
                                "  if r0 < 0xa goto loop\n"
                                "  if w0 == w1 goto done\n"
                                "  call func\n"
                                "  gotol done\n"
                                "  goto start\n"
                                "done:\n"
                                "  exit\n"
                                "func:\n"
                                "  r0 = 2\n"
                                "  exit\n");
    REQUIRE(prog.size() == 12);
    CHECK(prog[4].off == -4); // pc 4 -> loop at 1
    CHECK(prog[5].off == 3);  // pc 5 -> done at 9
    CHECK(prog[6].src == BPF_PSEUDO_CALL);
    CHECK(prog[6].imm == 3);  // pc 6 -> func at 10
    CHECK(prog[7].imm == 1);  // gotol, pc 7 -> done
    CHECK(prog[8].off == -9); // pc 8 -> start at 0
    CHECK(disasm_insn(prog, 6) == "call pc+3");

    // A label may be used before it is defined and a jump may target the next line.
    const auto next = assembled("goto l\nl:\nexit");
    REQUIRE(next.size() == 2);
    CHECK(next[0].off == 0);
}

TEST_CASE("assemble: errors name the line and the text", "[assembler]") {
    CHECK(error_of("r0 = 1\nfrob r1, 2\nexit") ==
          "line 2: unknown mnemonic 'frob' in 'frob r1, 2'");
    CHECK(error_of("mov r0, 1") == "line 1: unknown mnemonic 'mov' in 'mov r0, 1'");
    CHECK(error_of("r11 = 1") == "line 1: bad register 'r11' in 'r11 = 1'");
    CHECK(error_of("exit\nr1 = r11") == "line 2: bad register 'r11' in 'r1 = r11'");
    CHECK(error_of("r1 +=") == "line 1: missing operand in 'r1 +='");
    CHECK(error_of("if r1 > 3 goto") == "line 1: missing jump target in 'if r1 > 3 goto'");
    CHECK(error_of("*(u32 *)(r10 -8) =") == "line 1: missing operand in '*(u32 *)(r10 -8) ='");
    CHECK(error_of("r1 += 4294967296") ==
          "line 1: immediate out of range '4294967296' in 'r1 += 4294967296'");
    CHECK(error_of("r1 = -2147483649") ==
          "line 1: immediate out of range '-2147483649' in 'r1 = -2147483649'");
    CHECK(error_of("goto pc+32768") == "line 1: offset out of range '+32768' in 'goto pc+32768'");
    CHECK(error_of("r1 = 0x10000000000000000") ==
          "line 1: number out of range '0x10000000000000000' in 'r1 = 0x10000000000000000'");
    CHECK(error_of("w1 += r2") == "line 1: r and w registers mixed in 'w1 += r2'");
    CHECK(error_of("r1 = r2 r3") == "line 1: unexpected 'r3' in 'r1 = r2 r3'");
    CHECK(error_of("w1 = (s32)w2") == "line 1: no such instruction in 'w1 = (s32)w2'");
    CHECK(error_of("lock *(u8 *)(r1 +0) += r2") ==
          "line 1: no such instruction in 'lock *(u8 *)(r1 +0) += r2'");
    CHECK(error_of("r1 = *(u128 *)(r2 +0)") ==
          "line 1: unknown access size 'u128' in 'r1 = *(u128 *)(r2 +0)'");
    CHECK(error_of("r0 = *(u32 *)(r1 8)") ==
          "line 1: expected '+' or '-' at '8)' in 'r0 = *(u32 *)(r1 8)'");
    CHECK(error_of("r1 = -r2") == "line 1: neg names one register twice in 'r1 = -r2'");
    CHECK(error_of("goto nowhere\nexit") == "line 1: undefined label 'nowhere'");
    CHECK(error_of("a:\na:\nexit") == "line 2: label 'a' defined twice");
}

TEST_CASE("assemble: every opcode row round-trips through its text", "[assembler]") {
    struct Fields {
        uint8_t dst, src;
        int16_t off;
        int32_t imm;
    };
    const Fields samples[] = {
        {3, 4, -8, -3}, {10, 10, SHRT_MAX, INT_MIN}, {0, 0, SHRT_MIN, INT_MAX}};
    for (const OpcodeInfo& row : opcode_table) {
        for (const Fields& f : samples) {
            Insn insn =
                make_insn(row.opcode, (row.zero & Zd) ? 0 : f.dst, (row.zero & Zs) ? 0 : f.src,
                          (row.zero & Zo) ? 0 : f.off, (row.zero & Zi) ? 0 : f.imm);
            if (row.key == Key::off) insn.off = static_cast<int16_t>(row.key_value);
            if (row.key == Key::imm) insn.imm = row.key_value;
            if (row.key == Key::src) insn.src = static_cast<uint8_t>(row.key_value);
            INFO("row " << row.mnemonic);
            REQUIRE(lookup_op(insn) == row.op);
            std::vector<Insn> prog = {insn};
            if (row.op == Op::lddw) prog.push_back(make_insn(0, 0, 0, 0, f.imm));
            check_round_trip(prog);
        }
    }
}

TEST_CASE("assemble: every lddw source round-trips", "[assembler]") {
    for (uint8_t src = 0; src < 16; ++src) {
        for (const int32_t next : {0, 8, -1}) {
            const std::vector<Insn> prog = {make_insn(BPF_LDDW, 2, src, 0, -7),
                                            make_insn(0, 0, 0, 0, next)};
            check_round_trip(prog);
        }
    }
}

TEST_CASE("assemble: the conformance programs round-trip", "[assembler]") {
    const std::filesystem::path dir = std::filesystem::path(EBPF_CONFORMANCE_DIR) / "tests";
    size_t count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() != ".json") continue;
        std::ifstream in(entry.path());
        const auto json = nlohmann::json::parse(in);
        const auto prog = from_hex(json.at("program_hex").get<std::string>());
        INFO(entry.path().filename().string());
        REQUIRE(!prog.empty());
        check_round_trip(prog);
        ++count;
    }
    CHECK(count == 313);
}
