#include "vm/isa/assembler.hpp"

#include "vm/isa/opcodes.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>

namespace ebpf {
namespace {

struct Reg {
    uint8_t num;
    bool wide; // written rN rather than wN
};

// The field a label reference fills once the label's position is known.
enum class Field : uint8_t { off, imm };

struct LabelRef {
    std::string name;
    Field field;
};

// A number as written: its sign and magnitude, and its text for messages.
struct Number {
    bool negative;
    uint64_t magnitude;
    bool hex;
    std::string_view text;
};

struct Access {
    uint8_t size; // BPF_B .. BPF_DW
    bool sx;      // s8/s16/s32
};

struct Address {
    uint8_t base;
    int16_t off;
};

struct Symbol {
    std::string_view text;
    uint8_t op;
    int16_t off;
};

// Longest first, so that a prefix never wins over the whole operator.
constexpr Symbol alu_symbols[] = {
    {"s>>=", BPF_ARSH, 0}, {"s/=", BPF_DIV, 1}, {"s%=", BPF_MOD, 1}, {"<<=", BPF_LSH, 0},
    {">>=", BPF_RSH, 0},   {"+=", BPF_ADD, 0},  {"-=", BPF_SUB, 0},  {"*=", BPF_MUL, 0},
    {"/=", BPF_DIV, 0},    {"|=", BPF_OR, 0},   {"&=", BPF_AND, 0},  {"%=", BPF_MOD, 0},
    {"^=", BPF_XOR, 0},    {"=", BPF_MOV, 0},
};
constexpr Symbol jmp_symbols[] = {
    {"s>=", BPF_JSGE, 0}, {"s<=", BPF_JSLE, 0}, {"s>", BPF_JSGT, 0}, {"s<", BPF_JSLT, 0},
    {"==", BPF_JEQ, 0},   {"!=", BPF_JNE, 0},   {">=", BPF_JGE, 0},  {"<=", BPF_JLE, 0},
    {">", BPF_JGT, 0},    {"<", BPF_JLT, 0},    {"&", BPF_JSET, 0},
};
constexpr Symbol lock_symbols[] = {
    {"+=", BPF_ADD, 0}, {"&=", BPF_AND, 0}, {"|=", BPF_OR, 0}, {"^=", BPF_XOR, 0}};

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r';
}
bool is_ident_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_ident_char(char c) {
    return is_ident_start(c) || is_digit(c);
}

// "r7"- or "w11"-shaped; the number is checked when the register is read.
bool looks_like_reg(std::string_view w) {
    return w.size() >= 2 && (w[0] == 'r' || w[0] == 'w') &&
           std::all_of(w.begin() + 1, w.end(), is_digit);
}

// Parses one statement (comments, prefix and labels already removed) into one instruction, or
// two for lddw. Every method returns false or nullopt after recording the first error.
class LineParser {
  public:
    explicit LineParser(std::string_view text) : s_(text) {}

    bool parse();
    const std::string& error() const { return error_; }
    const std::vector<Insn>& insns() const { return insns_; }
    const std::optional<LabelRef>& label_ref() const { return label_; }

  private:
    void skip_ws() {
        while (pos_ < s_.size() && is_space(s_[pos_]))
            ++pos_;
    }
    std::string_view rest() {
        skip_ws();
        return s_.substr(pos_);
    }
    bool at_end() { return rest().empty(); }
    bool eat(std::string_view lit) {
        if (!rest().starts_with(lit)) return false;
        pos_ += lit.size();
        return true;
    }
    // A sign right after the current word, as in "pc+2".
    bool sign_follows() const { return pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-'); }
    std::string_view word() {
        skip_ws();
        const size_t start = pos_;
        while (pos_ < s_.size() && is_ident_char(s_[pos_]))
            ++pos_;
        return s_.substr(start, pos_ - start);
    }
    bool next_is_reg() {
        const size_t start = pos_;
        const bool reg = looks_like_reg(word());
        pos_ = start;
        return reg;
    }
    bool fail(const std::string& msg) {
        if (error_.empty()) error_ = msg;
        return false;
    }
    bool fail_expected(std::string_view what) {
        if (at_end()) return fail("missing " + std::string(what));
        return fail("expected " + std::string(what) + " at '" + std::string(rest()) + "'");
    }
    bool expect(std::string_view lit) {
        return eat(lit) || fail_expected("'" + std::string(lit) + "'");
    }
    bool expect_word(std::string_view w) {
        const size_t start = pos_;
        if (word() == w) return true;
        pos_ = start;
        return fail_expected("'" + std::string(w) + "'");
    }
    const Symbol* symbol(std::span<const Symbol> table) {
        for (const Symbol& sym : table)
            if (eat(sym.text)) return &sym;
        return nullptr;
    }

    std::optional<Reg> reg();
    std::optional<Reg> value_reg(const Access& access);
    std::optional<Number> number();
    std::optional<int32_t> imm32();
    std::optional<int16_t> off16();
    std::optional<uint64_t> imm64();
    std::optional<int32_t> target(Field field);
    std::optional<Access> access();
    std::optional<Address> address();

    bool emit(const Insn& insn, int32_t next_imm = 0);
    bool jump_always(bool long_jump);
    bool call();
    bool kfunc_call();
    bool conditional();
    bool lock();
    bool store();
    bool assignment();
    bool alu(Reg dst, uint8_t op, int16_t off);
    bool move(Reg dst);
    bool neg(Reg dst);
    bool movsx(Reg dst);
    bool byte_swap(Reg dst, std::string_view w);
    bool immediate(Reg dst);
    bool load(Reg dst);
    bool packet_load(Reg dst, const Access& acc);
    bool atomic_fetch(Reg dst, std::string_view w);
    bool pseudo_load(Reg dst, std::string_view w);

    std::string_view s_;
    size_t pos_ = 0;
    std::string error_;
    std::vector<Insn> insns_;
    std::optional<LabelRef> label_;
};

std::optional<Reg> LineParser::reg() {
    const size_t start = pos_;
    const std::string_view w = word();
    if (!looks_like_reg(w)) {
        pos_ = start;
        fail_expected("register");
        return std::nullopt;
    }
    unsigned num = 0;
    const auto [ptr, ec] = std::from_chars(w.data() + 1, w.data() + w.size(), num);
    if (ec != std::errc() || num >= MAX_BPF_REG) {
        fail("bad register '" + std::string(w) + "'");
        return std::nullopt;
    }
    return Reg{static_cast<uint8_t>(num), w[0] == 'r'};
}

std::optional<Reg> LineParser::value_reg(const Access& acc) {
    const auto r = reg();
    if (r && !r->wide && acc.size == BPF_DW) {
        fail("w register in a 64-bit access");
        return std::nullopt;
    }
    return r;
}

std::optional<Number> LineParser::number() {
    skip_ws();
    const size_t start = pos_;
    const bool negative = pos_ < s_.size() && s_[pos_] == '-';
    if (sign_follows()) ++pos_;
    skip_ws();
    const bool hex = s_.substr(pos_).starts_with("0x") || s_.substr(pos_).starts_with("0X");
    if (hex) pos_ += 2;
    const char* const end = s_.data() + s_.size();
    uint64_t magnitude = 0;
    const auto [ptr, ec] = std::from_chars(s_.data() + pos_, end, magnitude, hex ? 16 : 10);
    if (ec == std::errc::invalid_argument || (ptr != end && is_ident_char(*ptr))) {
        pos_ = start;
        fail_expected("operand");
        return std::nullopt;
    }
    pos_ = static_cast<size_t>(ptr - s_.data());
    const std::string_view text = s_.substr(start, pos_ - start);
    if (ec == std::errc::result_out_of_range) {
        fail("number out of range '" + std::string(text) + "'");
        return std::nullopt;
    }
    return Number{negative, magnitude, hex, text};
}

// Signed or unsigned 32-bit: the kernel prints ALU immediates with %d and compares with 0x%x.
std::optional<int32_t> LineParser::imm32() {
    const auto n = number();
    if (!n) return std::nullopt;
    if (n->negative ? n->magnitude <= uint64_t{1} << 31 : n->magnitude <= UINT32_MAX)
        return static_cast<int32_t>(n->negative ? 0 - n->magnitude : n->magnitude);
    fail("immediate out of range '" + std::string(n->text) + "'");
    return std::nullopt;
}

std::optional<int16_t> LineParser::off16() {
    const auto n = number();
    if (!n) return std::nullopt;
    if (n->magnitude <= (n->negative ? 32768u : 32767u))
        return static_cast<int16_t>(n->negative ? -static_cast<int32_t>(n->magnitude)
                                                : static_cast<int32_t>(n->magnitude));
    fail("offset out of range '" + std::string(n->text) + "'");
    return std::nullopt;
}

std::optional<uint64_t> LineParser::imm64() {
    const auto n = number();
    if (!n) return std::nullopt;
    if (!n->negative || n->magnitude <= uint64_t{1} << 63)
        return n->negative ? 0 - n->magnitude : n->magnitude;
    fail("immediate out of range '" + std::string(n->text) + "'");
    return std::nullopt;
}

// "pc+N" or a label; a label leaves 0 and is patched once all labels are known.
std::optional<int32_t> LineParser::target(Field field) {
    const size_t start = pos_;
    const std::string_view w = word();
    if (w == "pc" && sign_follows()) {
        if (field == Field::imm) return imm32();
        const auto off = off16();
        return off ? std::optional<int32_t>(*off) : std::nullopt;
    }
    if (!w.empty() && is_ident_start(w[0])) {
        label_ = LabelRef{std::string(w), field};
        return 0;
    }
    pos_ = start;
    fail_expected("jump target");
    return std::nullopt;
}

// "(u32 *)"
std::optional<Access> LineParser::access() {
    if (!expect("(")) return std::nullopt;
    const std::string_view w = word();
    constexpr std::pair<std::string_view, Access> sizes[] = {
        {"u8", {BPF_B, false}},   {"u16", {BPF_H, false}}, {"u32", {BPF_W, false}},
        {"u64", {BPF_DW, false}}, {"s8", {BPF_B, true}},   {"s16", {BPF_H, true}},
        {"s32", {BPF_W, true}},
    };
    const auto* it = std::find_if(std::begin(sizes), std::end(sizes),
                                  [&](const auto& s) { return s.first == w; });
    if (it == std::end(sizes)) {
        fail(w.empty() ? "missing access size" : "unknown access size '" + std::string(w) + "'");
        return std::nullopt;
    }
    if (!expect("*") || !expect(")")) return std::nullopt;
    return it->second;
}

// "(r10 -8)"; llvm's "(r10 - 8)" too.
std::optional<Address> LineParser::address() {
    if (!expect("(")) return std::nullopt;
    const auto base = reg();
    if (!base) return std::nullopt;
    int16_t off = 0;
    if (!eat(")")) {
        if (!rest().starts_with("+") && !rest().starts_with("-")) {
            fail_expected("'+' or '-'");
            return std::nullopt;
        }
        const auto o = off16();
        if (!o || !expect(")")) return std::nullopt;
        off = *o;
    }
    return Address{base->num, off};
}

bool LineParser::emit(const Insn& insn, int32_t next_imm) {
    if (!at_end()) return fail("unexpected '" + std::string(rest()) + "'");
    if (!lookup_op(insn)) return fail("no such instruction");
    insns_.push_back(insn);
    if (insn.opcode == BPF_LDDW) insns_.push_back(make_insn(0, 0, 0, 0, next_imm));
    return true;
}

bool LineParser::parse() {
    const size_t start = pos_;
    const std::string_view w = word();
    if (w == "exit") return emit(make_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    if (w == "goto" || w == "gotol") return jump_always(w == "gotol");
    if (w == "call") return call();
    if (w == "callx") {
        const auto r = reg();
        return r && emit(make_insn(BPF_JMP | BPF_CALL | BPF_X, r->num, 0, 0, 0));
    }
    if (w == "if") return conditional();
    if (w == "lock") return lock();
    if (looks_like_reg(w)) {
        pos_ = start;
        return assignment();
    }
    if (w.empty() && eat("*")) return store();
    if (w.empty()) return fail_expected("instruction");
    return fail("unknown mnemonic '" + std::string(w) + "'");
}

bool LineParser::jump_always(bool long_jump) {
    const auto t = target(long_jump ? Field::imm : Field::off);
    if (!t) return false;
    if (long_jump) return emit(make_insn(BPF_JMP32 | BPF_JA, 0, 0, 0, *t));
    return emit(make_insn(BPF_JMP | BPF_JA, 0, 0, static_cast<int16_t>(*t), 0));
}

// "call pc+3", "call name" (local), "call bpf_map_lookup_elem#1" (helper; the name is not
// checked), "call kernel-function#5".
bool LineParser::call() {
    const size_t start = pos_;
    const std::string_view w = word();
    const uint8_t code = BPF_JMP | BPF_CALL;
    if (w == "pc" && sign_follows()) {
        const auto imm = imm32();
        return imm && emit(make_insn(code, 0, BPF_PSEUDO_CALL, 0, *imm));
    }
    if (w == "kernel" && eat("-function")) return kfunc_call();
    if (w.empty() || !is_ident_start(w[0])) {
        pos_ = start;
        return fail_expected("call target");
    }
    if (!eat("#")) {
        label_ = LabelRef{std::string(w), Field::imm};
        return emit(make_insn(code, 0, BPF_PSEUDO_CALL, 0, 0));
    }
    const auto id = imm32();
    return id && emit(make_insn(code, 0, 0, 0, *id));
}

bool LineParser::kfunc_call() {
    if (!expect("#")) return false;
    const auto id = imm32();
    if (!id) return false;
    std::optional<int16_t> off = 0;
    if (eat("(")) {
        if (!expect_word("off")) return false;
        off = off16();
        if (!off || !expect(")")) return false;
    }
    return emit(make_insn(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, *off, *id));
}

bool LineParser::conditional() {
    const auto dst = reg();
    if (!dst) return false;
    const Symbol* sym = symbol(jmp_symbols);
    if (!sym) return fail_expected("comparison");
    uint8_t code = (dst->wide ? BPF_JMP : BPF_JMP32) | sym->op;
    uint8_t src = 0;
    int32_t imm = 0;
    if (next_is_reg()) {
        const auto r = reg();
        if (!r) return false;
        if (r->wide != dst->wide) return fail("r and w registers mixed");
        code |= BPF_X;
        src = r->num;
    } else {
        const auto k = imm32();
        if (!k) return false;
        imm = *k;
    }
    if (!expect_word("goto")) return false;
    const auto off = target(Field::off);
    return off && emit(make_insn(code, dst->num, src, static_cast<int16_t>(*off), imm));
}

// "lock *(u64 *)(r1 +0) += r2"
bool LineParser::lock() {
    if (!expect("*")) return false;
    const auto acc = access();
    const auto addr = acc ? address() : std::nullopt;
    if (!addr) return false;
    const Symbol* sym = symbol(lock_symbols);
    if (!sym) return fail_expected("atomic operator");
    const auto src = value_reg(*acc);
    return src && emit(make_insn(BPF_STX | BPF_ATOMIC | acc->size, addr->base, src->num, addr->off,
                                 sym->op));
}

// "*(u32 *)(r10 -8) = r1" or "... = 7"
bool LineParser::store() {
    const auto acc = access();
    const auto addr = acc ? address() : std::nullopt;
    if (!addr || !expect("=")) return false;
    if (acc->sx) return fail("a store has no sign-extending form");
    if (next_is_reg()) {
        const auto src = value_reg(*acc);
        return src &&
               emit(make_insn(BPF_STX | BPF_MEM | acc->size, addr->base, src->num, addr->off, 0));
    }
    const auto imm = imm32();
    return imm && emit(make_insn(BPF_ST | BPF_MEM | acc->size, addr->base, 0, addr->off, *imm));
}

bool LineParser::assignment() {
    const auto dst = reg();
    if (!dst) return false;
    const Symbol* sym = symbol(alu_symbols);
    if (!sym) return fail_expected("operator");
    if (sym->op == BPF_MOV) return move(*dst);
    return alu(*dst, sym->op, sym->off);
}

bool LineParser::alu(Reg dst, uint8_t op, int16_t off) {
    const uint8_t cls = dst.wide ? BPF_ALU64 : BPF_ALU;
    if (next_is_reg()) {
        const auto src = reg();
        if (!src) return false;
        if (src->wide != dst.wide) return fail("r and w registers mixed");
        return emit(make_insn(cls | op | BPF_X, dst.num, src->num, off, 0));
    }
    const auto imm = imm32();
    return imm && emit(make_insn(cls | op | BPF_K, dst.num, 0, off, *imm));
}

// Everything of the form "rN = ...".
bool LineParser::move(Reg dst) {
    if (eat("*")) return load(dst);
    if (rest().starts_with("(")) return movsx(dst);
    const size_t start = pos_;
    if (eat("-") && next_is_reg()) return neg(dst);
    pos_ = start;
    const std::string_view w = word();
    if (looks_like_reg(w)) {
        pos_ = start;
        return alu(dst, BPF_MOV, 0);
    }
    if (w.starts_with("atomic")) return atomic_fetch(dst, w);
    if (w == "map" || w == "btf_id" || w == "subprog" || w == "pseudo") return pseudo_load(dst, w);
    if (w.starts_with("be") || w.starts_with("le") || w.starts_with("bswap"))
        return byte_swap(dst, w);
    pos_ = start;
    return immediate(dst);
}

bool LineParser::neg(Reg dst) {
    const auto r = reg();
    if (!r) return false;
    if (r->num != dst.num || r->wide != dst.wide) return fail("neg names one register twice");
    return emit(make_insn((dst.wide ? BPF_ALU64 : BPF_ALU) | BPF_NEG, dst.num, 0, 0, 0));
}

// "r1 = (s8)r2"
bool LineParser::movsx(Reg dst) {
    eat("(");
    const std::string_view w = word();
    const int16_t off = w == "s8" ? 8 : w == "s16" ? 16 : w == "s32" ? 32 : 0;
    if (off == 0) return fail("unknown cast '" + std::string(w) + "'");
    if (!expect(")")) return false;
    const auto src = reg();
    if (!src) return false;
    if (src->wide != dst.wide) return fail("r and w registers mixed");
    const uint8_t cls = dst.wide ? BPF_ALU64 : BPF_ALU;
    return emit(make_insn(cls | BPF_MOV | BPF_X, dst.num, src->num, off, 0));
}

// "r1 = be16 r1", "r1 = le32 r1", "r1 = bswap64 r1"
bool LineParser::byte_swap(Reg dst, std::string_view w) {
    uint8_t code = BPF_ALU | BPF_END | BPF_TO_LE;
    if (w.starts_with("be")) code = BPF_ALU | BPF_END | BPF_TO_BE;
    if (w.starts_with("bswap")) code = BPF_ALU64 | BPF_END;
    const std::string_view bits = w.substr(code == (BPF_ALU64 | BPF_END) ? 5 : 2);
    int32_t width = 0;
    const auto [ptr, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), width);
    if (ec != std::errc() || ptr != bits.data() + bits.size())
        return fail("unknown operation '" + std::string(w) + "'");
    const auto r = reg();
    if (!r) return false;
    if (r->num != dst.num) return fail("byte swap names one register twice");
    return emit(make_insn(code, dst.num, 0, 0, width));
}

// "r1 = 5" is a mov; "r1 = 0x5" and "r1 = 5 ll" are lddw, as the kernel prints them.
bool LineParser::immediate(Reg dst) {
    const size_t start = pos_;
    const auto n = number();
    if (!n) return false;
    if (eat("ll") || (n->hex && dst.wide)) {
        pos_ = start;
        const auto v = imm64();
        eat("ll");
        return v && emit(make_insn(BPF_LDDW, dst.num, 0, 0, static_cast<int32_t>(*v)),
                         static_cast<int32_t>(*v >> 32));
    }
    pos_ = start;
    const auto imm = imm32();
    const uint8_t cls = dst.wide ? BPF_ALU64 : BPF_ALU;
    return imm && emit(make_insn(cls | BPF_MOV | BPF_K, dst.num, 0, 0, *imm));
}

// "r0 = *(u32 *)(r1 +0)", "r0 = *(s8 *)(r1 +2)", "r0 = *(u8 *)skb[12]"
bool LineParser::load(Reg dst) {
    const auto acc = access();
    if (!acc) return false;
    if (eat("skb")) return packet_load(dst, *acc);
    const auto addr = address();
    if (!addr) return false;
    if (!dst.wide && acc->size == BPF_DW) return fail("w register in a 64-bit access");
    const uint8_t mode = acc->sx ? BPF_MEMSX : BPF_MEM;
    return emit(make_insn(BPF_LDX | mode | acc->size, dst.num, addr->base, addr->off, 0));
}

// "skb[12]" (BPF_ABS) or "skb[r1 + 4]" (BPF_IND)
bool LineParser::packet_load(Reg dst, const Access& acc) {
    if (!expect("[")) return false;
    uint8_t mode = BPF_ABS, src = 0;
    if (next_is_reg()) {
        const auto r = reg();
        if (!r || !expect("+")) return false;
        mode = BPF_IND;
        src = r->num;
    }
    const auto imm = imm32();
    if (!imm || !expect("]")) return false;
    if (dst.num != 0 || acc.sx) return fail("packet loads are 'r0 = *(uN *)skb[...]'");
    return emit(make_insn(BPF_LD | mode | acc.size, 0, src, 0, *imm));
}

// "r2 = atomic64_fetch_add((u64 *)(r1 +0), r2)", "r0 = atomic_cmpxchg((u32 *)(r1 +0), r0, r2)"
bool LineParser::atomic_fetch(Reg dst, std::string_view w) {
    std::string_view name = w.substr(6);
    const bool dw = name.starts_with("64");
    if (dw) name.remove_prefix(2);
    constexpr std::pair<std::string_view, int32_t> ops[] = {
        {"_fetch_add", BPF_ADD | BPF_FETCH},
        {"_fetch_and", BPF_AND | BPF_FETCH},
        {"_fetch_or", BPF_OR | BPF_FETCH},
        {"_fetch_xor", BPF_XOR | BPF_FETCH},
        {"_xchg", BPF_XCHG},
        {"_cmpxchg", BPF_CMPXCHG},
    };
    const auto* op = std::find_if(std::begin(ops), std::end(ops),
                                  [&](const auto& o) { return o.first == name; });
    if (op == std::end(ops)) return fail("unknown atomic operation '" + std::string(w) + "'");
    if (!expect("(")) return false;
    const auto acc = access();
    const auto addr = acc ? address() : std::nullopt;
    if (!addr || !expect(",")) return false;
    if (acc->sx || (acc->size == BPF_DW) != dw)
        return fail("access size does not match '" + std::string(w) + "'");
    const bool cmpxchg = op->second == BPF_CMPXCHG;
    if (cmpxchg) {
        const auto r0 = reg();
        if (!r0 || !expect(",")) return false;
        if (r0->num != 0 || dst.num != 0) return fail("cmpxchg compares with and returns r0");
    }
    const auto src = value_reg(*acc);
    if (!src || !expect(")")) return false;
    if (!cmpxchg && src->num != dst.num)
        return fail("the fetched value goes to the source register");
    return emit(
        make_insn(BPF_STX | BPF_ATOMIC | acc->size, addr->base, src->num, addr->off, op->second));
}

// The lddw pseudo sources, in the forms disasm prints.
bool LineParser::pseudo_load(Reg dst, std::string_view w) {
    if (!expect("[")) return false;
    uint8_t src = 0;
    std::optional<int32_t> imm, next = 0;
    if (w == "map") {
        const std::string_view kind = word();
        if (kind != "id" && kind != "idx") return fail_expected("'id:' or 'idx:'");
        imm = expect(":") ? imm32() : std::nullopt;
        if (!imm || !expect("]")) return false;
        if (kind == "id") {
            src = BPF_PSEUDO_MAP_FD;
            if (eat("[")) {
                if (!expect("0") || !expect("]") || !expect("+")) return false;
                src = BPF_PSEUDO_MAP_VALUE;
                next = imm32();
            }
        } else {
            src = BPF_PSEUDO_MAP_IDX;
            if (eat("+")) {
                src = BPF_PSEUDO_MAP_IDX_VALUE;
                next = imm32();
            }
        }
    } else if (w == "pseudo") {
        const auto n = expect_word("src") && expect(":") ? imm32() : std::nullopt;
        if (!n || !expect("]")) return false;
        if (*n < 0 || *n > 15) return fail("lddw source out of range");
        src = static_cast<uint8_t>(*n);
        const auto v = imm64();
        if (!v) return false;
        imm = static_cast<int32_t>(*v);
        next = static_cast<int32_t>(*v >> 32);
    } else {
        src = w == "btf_id" ? BPF_PSEUDO_BTF_ID : BPF_PSEUDO_FUNC;
        imm = imm32();
        if (!imm || !expect("]")) return false;
    }
    return imm && next && emit(make_insn(BPF_LDDW, dst.num, src, 0, *imm), *next);
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_space(s.back()))
        s.remove_suffix(1);
    return s;
}

// The statement of a line: without comment and without the verifier log's "N: (xx) " prefix.
std::string_view statement(std::string_view line) {
    line = trim(line.substr(0, std::min(line.find(';'), line.find("//"))));
    size_t digits = 0;
    while (digits < line.size() && is_digit(line[digits]))
        ++digits;
    if (digits == 0 || digits == line.size() || line[digits] != ':') return line;
    line = trim(line.substr(digits + 1));
    const auto is_hex = [](char c) {
        return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    };
    if (line.size() >= 4 && line[0] == '(' && is_hex(line[1]) && is_hex(line[2]) && line[3] == ')')
        line = trim(line.substr(4));
    return line;
}

bool is_label(std::string_view s) {
    return s.size() >= 2 && s.back() == ':' && is_ident_start(s[0]) &&
           std::all_of(s.begin(), s.end() - 1, is_ident_char);
}

Error line_error(size_t line, const std::string& msg) {
    return Error{"line " + std::to_string(line) + ": " + msg, std::nullopt};
}

} // namespace

Result<std::vector<Insn>> assemble(std::string_view text) {
    struct Pending {
        LabelRef ref;
        size_t pc;
        size_t line;
    };
    std::vector<Insn> prog;
    std::map<std::string, size_t, std::less<>> labels;
    std::vector<Pending> pending;
    size_t line_no = 0;
    for (size_t begin = 0; begin <= text.size();) {
        const size_t end = std::min(text.find('\n', begin), text.size());
        const std::string_view stmt = statement(text.substr(begin, end - begin));
        begin = end + 1;
        ++line_no;
        if (stmt.empty()) continue;
        if (is_label(stmt)) {
            const std::string name(stmt.substr(0, stmt.size() - 1));
            if (!labels.emplace(name, prog.size()).second)
                return line_error(line_no, "label '" + name + "' defined twice");
            continue;
        }
        LineParser parser(stmt);
        if (!parser.parse())
            return line_error(line_no, parser.error() + " in '" + std::string(stmt) + "'");
        if (parser.label_ref()) pending.push_back({*parser.label_ref(), prog.size(), line_no});
        prog.insert(prog.end(), parser.insns().begin(), parser.insns().end());
    }
    for (const Pending& p : pending) {
        const auto it = labels.find(p.ref.name);
        if (it == labels.end()) return line_error(p.line, "undefined label '" + p.ref.name + "'");
        const int64_t delta = static_cast<int64_t>(it->second) - static_cast<int64_t>(p.pc) - 1;
        Insn& insn = prog[p.pc];
        if (p.ref.field == Field::imm) {
            insn.imm = static_cast<int32_t>(delta);
        } else if (delta >= std::numeric_limits<int16_t>::min() &&
                   delta <= std::numeric_limits<int16_t>::max()) {
            insn.off = static_cast<int16_t>(delta);
        } else {
            return line_error(p.line,
                              "label '" + p.ref.name + "' is out of reach of a 16-bit offset");
        }
    }
    return prog;
}

} // namespace ebpf
