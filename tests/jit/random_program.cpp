#include "tests/jit/random_program.hpp"

#include "vm/isa/opcodes.hpp"

#include <array>
#include <cstdio>
#include <limits>
#include <random>
#include <string>

namespace ebpf::test {
namespace {

using Code = std::vector<Insn>;

constexpr uint8_t buffer_reg = 9; // R1 on entry, never written afterwards
constexpr uint8_t loop_reg = 8;   // loop counters only
constexpr int max_functions = 4;

class Generator {
  public:
    explicit Generator(uint64_t seed) : rng_(seed) {
        for (const OpcodeInfo& row : opcode_table) {
            const uint8_t cls = bpf_class(row.opcode);
            const uint8_t op = bpf_op(row.opcode);
            if (cls == BPF_ALU || cls == BPF_ALU64) alu_.push_back(&row);
            if ((cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_JA && op != BPF_CALL &&
                op != BPF_EXIT) {
                conditional_.push_back(&row);
                if (bpf_srcbit(row.opcode) == BPF_K) compare_imm_.push_back(&row);
            }
            if (cls == BPF_STX && bpf_mode(row.opcode) == BPF_ATOMIC) atomic_.push_back(&row);
            if (cls == BPF_LDX || cls == BPF_ST ||
                (cls == BPF_STX && bpf_mode(row.opcode) == BPF_MEM))
                memory_.push_back(&row);
        }
    }

    Code program() {
        const int functions = range(1, max_functions);
        std::vector<Code> code(static_cast<size_t>(functions));
        for (int f = 0; f < functions; ++f) {
            Code& out = code[static_cast<size_t>(f)];
            function_ = f;
            functions_ = functions;
            if (f == 0) {
                out.push_back(make_insn(BPF_ALU64 | BPF_MOV | BPF_X, buffer_reg, 1, 0, 0));
                for (uint8_t r = 0; r <= loop_reg; ++r)
                    set_value(out, r);
            }
            block(out, 0, false, range(8, 40));
            if (f == 0) {
                for (uint8_t r = 0; r <= loop_reg; ++r)
                    out.push_back(make_insn(BPF_STX | BPF_MEM | BPF_DW, buffer_reg, r,
                                            static_cast<int16_t>(fuzz_data_size + 8 * r), 0));
            }
            out.push_back(make_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
        }
        // Lay the functions out one after the other; a local call's imm holds its callee's
        // number until here, where it becomes the pc-relative offset.
        std::vector<int64_t> start;
        Code all;
        for (const Code& c : code) {
            start.push_back(static_cast<int64_t>(all.size()));
            all.insert(all.end(), c.begin(), c.end());
        }
        for (size_t i = 0; i < all.size(); ++i) {
            if (all[i].opcode == BPF_LDDW)
                ++i;
            else if (all[i].opcode == (BPF_JMP | BPF_CALL) && all[i].src == BPF_PSEUDO_CALL)
                all[i].imm = static_cast<int32_t>(start[static_cast<size_t>(all[i].imm)] -
                                                  static_cast<int64_t>(i) - 1);
        }
        return all;
    }

  private:
    int range(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
    bool chance(int percent) { return range(0, 99) < percent; }
    uint8_t writable_reg() { return static_cast<uint8_t>(range(0, 7)); }
    uint8_t readable_reg() { return static_cast<uint8_t>(range(0, loop_reg)); }
    template <typename T> const T& pick(const std::vector<T>& v) {
        return v[static_cast<size_t>(range(0, static_cast<int>(v.size()) - 1))];
    }

    // Edge cases of division, shifts, sign and zero extension, often; anything, sometimes.
    int32_t imm32() {
        static constexpr std::array<int32_t, 10> edges{0,
                                                       1,
                                                       -1,
                                                       2,
                                                       31,
                                                       32,
                                                       63,
                                                       std::numeric_limits<int32_t>::min(),
                                                       std::numeric_limits<int32_t>::max(),
                                                       0x8000};
        if (chance(50)) return edges[static_cast<size_t>(range(0, edges.size() - 1))];
        if (chance(30)) return range(-70, 70);
        return static_cast<int32_t>(rng_());
    }
    uint64_t imm64() {
        static constexpr std::array<uint64_t, 8> edges{0,
                                                       1,
                                                       ~0ull,
                                                       0x8000000000000000ull,
                                                       0x7fffffffffffffffull,
                                                       0xffffffffull,
                                                       0x80000000ull,
                                                       0xffffffff80000000ull};
        if (chance(40)) return edges[static_cast<size_t>(range(0, edges.size() - 1))];
        if (chance(30)) return static_cast<uint64_t>(static_cast<int64_t>(imm32()));
        return rng_();
    }

    void set_value(Code& out, uint8_t r) {
        if (chance(50)) {
            const uint64_t v = imm64();
            out.push_back(make_insn(BPF_LDDW, r, 0, 0, static_cast<int32_t>(v)));
            out.push_back(make_insn(0, 0, 0, 0, static_cast<int32_t>(v >> 32)));
        } else {
            const uint8_t cls = chance(50) ? BPF_ALU64 : BPF_ALU;
            out.push_back(make_insn(cls | BPF_MOV | BPF_K, r, 0, 0, imm32()));
        }
    }

    // An instruction of a table row, with its key and the fields it must leave zero in place.
    Insn from_row(const OpcodeInfo& row, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
        if (row.zero & Zd) dst = 0;
        if (row.zero & Zs) src = 0;
        if (row.zero & Zo) off = 0;
        if (row.zero & Zi) imm = 0;
        if (row.key == Key::off) off = static_cast<int16_t>(row.key_value);
        if (row.key == Key::imm) imm = row.key_value;
        return make_insn(row.opcode, dst, src, off, imm);
    }

    void block(Code& out, int depth, bool in_loop, int items) {
        for (int k = 0; k < items; ++k) {
            const int dice = range(0, 99);
            if (dice < 29)
                out.push_back(from_row(*pick(alu_), writable_reg(), readable_reg(), 0, imm32()));
            else if (dice < 35)
                pattern(out);
            else if (dice < 42)
                set_value(out, writable_reg());
            else if (dice < 55)
                memory(out);
            else if (dice < 62)
                atomic(out);
            else if (dice < 74 && depth < 3)
                branch(out, depth, in_loop);
            else if (dice < 78 && depth < 2 && !in_loop)
                loop(out, depth);
            else if (dice < 83)
                helper_call(out);
            else if (dice < 86)
                callx(out);
            else if (dice < 90 && function_ + 1 < functions_)
                local_call(out);
            else if (dice < 95)
                packet_load(out);
            else if (dice < 97 && depth > 0)
                out.push_back(make_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
            else
                out.push_back(from_row(*pick(alu_), writable_reg(), readable_reg(), 0, imm32()));
        }
    }

    // A base register and an offset inside the memory or this function's stack.
    std::pair<uint8_t, int16_t> address(int size, bool aligned) {
        int off;
        uint8_t base;
        if (chance(50)) {
            base = buffer_reg;
            off = range(0, static_cast<int>(fuzz_data_size) - size);
        } else {
            base = BPF_REG_10;
            off = range(-MAX_BPF_STACK, -size);
        }
        if (aligned) off &= ~(size - 1);
        return {base, static_cast<int16_t>(off)};
    }

    void memory(Code& out) {
        const OpcodeInfo& row = *pick(memory_);
        const int size = size_bytes(row.opcode);
        const auto [base, off] = address(size, chance(50));
        if (bpf_class(row.opcode) == BPF_LDX)
            out.push_back(from_row(row, writable_reg(), base, off, 0));
        else
            out.push_back(from_row(row, base, readable_reg(), off, imm32()));
    }

    // The shapes the x86-64 code generator rewrites (jit/x86_64/peephole.cpp).
    void pattern(Code& out) {
        switch (range(0, 2)) {
        case 0: address_arithmetic(out); break;
        case 1: rotation(out); break;
        default: compare_tree(out); break;
        }
    }

    // rX = base; rX += imm or rY; accesses through rX; then rX dies or becomes an offset (no
    // pointer may stay in R0-R8).
    void address_arithmetic(Code& out) {
        const uint8_t x = writable_reg();
        const bool stack = chance(50);
        const uint8_t base = stack ? BPF_REG_10 : buffer_reg;
        const int lo = stack ? -MAX_BPF_STACK : 0;
        const int hi = stack ? 0 : static_cast<int>(fuzz_data_size);
        const int at = range(lo, hi - 8);
        if (chance(50)) {
            out.push_back(make_insn(BPF_ALU64 | BPF_MOV | BPF_X, x, base, 0, 0));
            out.push_back(make_insn(BPF_ALU64 | BPF_ADD | BPF_K, x, 0, 0, at));
        } else {
            uint8_t y;
            do
                y = writable_reg();
            while (y == x);
            out.push_back(make_insn(BPF_ALU64 | BPF_MOV | BPF_K, y, 0, 0, at));
            out.push_back(make_insn(BPF_ALU64 | BPF_MOV | BPF_X, x, base, 0, 0));
            out.push_back(make_insn(BPF_ALU64 | BPF_ADD | BPF_X, x, y, 0, 0));
        }
        const int accesses = range(1, 3);
        bool x_loaded = false;
        for (int k = 0; k < accesses && !x_loaded; ++k) {
            const OpcodeInfo& row = *pick(memory_);
            const int size = size_bytes(row.opcode);
            const auto off = static_cast<int16_t>(range(lo, hi - size) - at);
            if (bpf_class(row.opcode) == BPF_LDX) {
                const uint8_t dst = writable_reg();
                x_loaded = dst == x;
                out.push_back(from_row(row, dst, x, off, 0));
            } else {
                uint8_t src;
                do
                    src = readable_reg();
                while (src == x);
                out.push_back(from_row(row, x, src, off, imm32()));
            }
        }
        if (x_loaded) return;
        if (chance(50))
            out.push_back(make_insn(BPF_ALU64 | BPF_SUB | BPF_X, x, base, 0, 0));
        else
            out.push_back(make_insn(BPF_ALU64 | BPF_MOV | BPF_K, x, 0, 0, imm32()));
    }

    // rT = rX; rT >>= r (or <<=); rX <<= l (or >>=); rX |= rT, l + r the width.
    void rotation(Code& out) {
        const uint8_t x = writable_reg();
        uint8_t t;
        do
            t = writable_reg();
        while (t == x);
        const bool is64 = chance(50);
        const uint8_t cls = is64 ? BPF_ALU64 : BPF_ALU;
        const int width = is64 ? 64 : 32;
        const int left = range(1, width - 1);
        const bool t_right = chance(50);
        out.push_back(make_insn(cls | BPF_MOV | BPF_X, t, x, 0, 0));
        out.push_back(make_insn(cls | (t_right ? BPF_RSH : BPF_LSH) | BPF_K, t, 0, 0,
                                t_right ? width - left : left));
        out.push_back(make_insn(cls | (t_right ? BPF_LSH : BPF_RSH) | BPF_K, x, 0, 0,
                                t_right ? left : width - left));
        out.push_back(make_insn(cls | BPF_OR | BPF_X, x, t, 0, 0));
    }

    // A switch-like tree of compares of one register with small constants, often on a small
    // value; its leaves change another register.
    void compare_tree(Code& out) {
        const uint8_t v = writable_reg();
        if (chance(70)) out.push_back(make_insn(BPF_ALU | BPF_MOV | BPF_K, v, 0, 0, range(-4, 24)));
        const bool is64 = chance(50);
        std::vector<const OpcodeInfo*> rows;
        for (const OpcodeInfo* row : compare_imm_)
            if ((bpf_class(row->opcode) == BPF_JMP) == is64) rows.push_back(row);
        const Code tree = subtree(v, rows, range(2, 3));
        out.insert(out.end(), tree.begin(), tree.end());
    }
    Code subtree(uint8_t v, const std::vector<const OpcodeInfo*>& rows, int depth) {
        if (depth == 0) {
            uint8_t w;
            do
                w = writable_reg();
            while (w == v);
            return {make_insn(BPF_ALU64 | BPF_XOR | BPF_K, w, 0, 0, imm32())};
        }
        const Code left = subtree(v, rows, depth - 1), right = subtree(v, rows, depth - 1);
        Code out{from_row(*pick(rows), v, 0, static_cast<int16_t>(left.size() + 1), range(-4, 24))};
        out.insert(out.end(), left.begin(), left.end());
        out.push_back(make_insn(BPF_JMP | BPF_JA, 0, 0, static_cast<int16_t>(right.size()), 0));
        out.insert(out.end(), right.begin(), right.end());
        return out;
    }

    void atomic(Code& out) {
        const OpcodeInfo& row = *pick(atomic_);
        const auto [base, off] = address(size_bytes(row.opcode), true);
        out.push_back(from_row(row, base, writable_reg(), off, 0)); // fetch forms write src
    }

    // A forward jump over a nested block: conditional (JMP and JMP32, every condition), ja or
    // gotol.
    void branch(Code& out, int depth, bool in_loop) {
        Code inner;
        block(inner, depth + 1, in_loop, range(1, 6));
        const auto skip = static_cast<int16_t>(inner.size());
        const int kind = range(0, 19);
        if (kind == 0) {
            out.push_back(make_insn(BPF_JMP | BPF_JA, 0, 0, skip, 0));
        } else if (kind == 1) {
            out.push_back(make_insn(BPF_JMP32 | BPF_JA, 0, 0, 0, skip));
        } else {
            out.push_back(
                from_row(*pick(conditional_), readable_reg(), readable_reg(), skip, imm32()));
        }
        out.insert(out.end(), inner.begin(), inner.end());
    }

    // r8 = n; do { body } while (--r8 != 0). Bodies never write r8, and callees restore it.
    void loop(Code& out, int depth) {
        Code body;
        block(body, depth + 1, true, range(2, 10));
        out.push_back(make_insn(BPF_ALU64 | BPF_MOV | BPF_K, loop_reg, 0, 0, range(1, 4)));
        out.insert(out.end(), body.begin(), body.end());
        out.push_back(make_insn(BPF_ALU64 | BPF_SUB | BPF_K, loop_reg, 0, 0, 1));
        out.push_back(make_insn(BPF_JMP | BPF_JNE | BPF_K, loop_reg, 0,
                                static_cast<int16_t>(-static_cast<int>(body.size()) - 2), 0));
    }

    void arguments(Code& out) {
        for (uint8_t r = 1; r <= 5; ++r) {
            if (chance(50))
                out.push_back(make_insn(BPF_ALU64 | BPF_MOV | BPF_X, r, readable_reg(), 0, 0));
            else
                out.push_back(make_insn(BPF_ALU64 | BPF_MOV | BPF_K, r, 0, 0, imm32()));
        }
        if (chance(10)) // sometimes the value that makes fault_on_5a fault
            out.push_back(make_insn(BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 0, 0x125a));
    }
    void clobber_arguments(Code& out) {
        for (uint8_t r = 1; r <= 5; ++r)
            set_value(out, r);
    }
    int32_t helper_id() { return chance(85) ? fuzz_mix_helper : fuzz_fault_helper; }

    void helper_call(Code& out) {
        arguments(out);
        out.push_back(make_insn(BPF_JMP | BPF_CALL, 0, 0, 0, helper_id()));
        clobber_arguments(out);
    }

    void callx(Code& out) {
        arguments(out);
        const uint8_t reg = writable_reg();
        const int32_t id = chance(95) ? helper_id() : 0x7ffe0000 + range(0, 99); // or none
        out.push_back(make_insn(BPF_ALU64 | BPF_MOV | BPF_K, reg, 0, 0, id));
        out.push_back(make_insn(BPF_JMP | BPF_CALL | BPF_X, reg, 0, 0, 0));
        clobber_arguments(out);
    }

    // Calls go to later functions only, so frames never exceed max_functions.
    void local_call(Code& out) {
        const int callee = range(function_ + 1, functions_ - 1);
        out.push_back(make_insn(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, callee));
    }

    // Mostly inside the packet, sometimes past it (the run then ends with r0 = 0).
    void packet_load(Code& out) {
        static constexpr uint8_t sizes[] = {BPF_B, BPF_H, BPF_W};
        const uint8_t size = sizes[range(0, 2)];
        const int bytes = size_bytes(size);
        const int last = static_cast<int>(fuzz_packet_size) - bytes;
        if (chance(50)) {
            const int32_t at = chance(98) ? range(0, last) : range(last + 1, last + 8);
            out.push_back(make_insn(BPF_LD | BPF_ABS | size, 0, 0, 0, at));
        } else {
            const uint8_t index = writable_reg();
            out.push_back(make_insn(BPF_ALU | BPF_MOV | BPF_K, index, 0, 0, range(0, last / 2)));
            const int32_t imm = chance(98) ? range(0, last / 2) : range(-8, last + 8);
            out.push_back(make_insn(BPF_LD | BPF_IND | size, 0, index, 0, imm));
        }
    }

    std::mt19937_64 rng_;
    std::vector<const OpcodeInfo*> alu_, conditional_, compare_imm_, atomic_, memory_;
    int function_ = 0, functions_ = 1; // the function being made, of how many
};

uint64_t mix(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, RunState* state) {
    auto* host = static_cast<FuzzHost*>(state->host);
    uint64_t h = host->trace;
    for (uint64_t v : {r1, r2, r3, r4, r5})
        h = (h ^ v) * 0x100000001b3ull;
    host->trace = h;
    ++host->calls;
    return h ^ (h >> 29);
}

uint64_t fault_on_5a(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, RunState* state) {
    ++static_cast<FuzzHost*>(state->host)->calls;
    if ((r1 & 0xff) == 0x5a) {
        char text[64];
        std::snprintf(text, sizeof text, "fault_on_5a: r1 = %#llx",
                      static_cast<unsigned long long>(r1));
        state->fault(text);
        return 0;
    }
    return r1 ^ r2;
}

} // namespace

void register_fuzz_helpers(HelperRegistry& registry) {
    registry.add(fuzz_mix_helper, "mix", &mix);
    registry.add(fuzz_fault_helper, "fault_on_5a", &fault_on_5a);
}

std::vector<Insn> random_program(uint64_t seed) {
    return Generator(seed).program();
}

} // namespace ebpf::test
