#include "vm/isa/disasm.hpp"

#include "vm/isa/opcodes.hpp"

#include <cstdarg>
#include <cstdio>

namespace ebpf {
namespace {

__attribute__((format(printf, 1, 2))) std::string fmt(const char* spec, ...) {
    char buf[160];
    va_list args;
    va_start(args, spec);
    std::vsnprintf(buf, sizeof buf, spec, args);
    va_end(args);
    return buf;
}

// 32-bit arithmetic and jumps name the w view of a register.
char reg_letter(uint8_t code) {
    const uint8_t cls = bpf_class(code);
    return cls == BPF_ALU || cls == BPF_JMP32 ? 'w' : 'r';
}

const char* alu_symbol(uint8_t op, int16_t off) {
    switch (op) {
    case BPF_ADD: return "+=";
    case BPF_SUB: return "-=";
    case BPF_MUL: return "*=";
    case BPF_DIV: return off == 1 ? "s/=" : "/=";
    case BPF_OR: return "|=";
    case BPF_AND: return "&=";
    case BPF_LSH: return "<<=";
    case BPF_RSH: return ">>=";
    case BPF_MOD: return off == 1 ? "s%=" : "%=";
    case BPF_XOR: return "^=";
    case BPF_MOV: return "=";
    case BPF_ARSH: return "s>>=";
    default: return "?";
    }
}

const char* atomic_name(int32_t op) {
    switch (op) {
    case BPF_ADD: return "add";
    case BPF_AND: return "and";
    case BPF_OR: return "or";
    case BPF_XOR: return "xor";
    default: return "?";
    }
}

const char* jmp_symbol(uint8_t op) {
    switch (op) {
    case BPF_JEQ: return "==";
    case BPF_JGT: return ">";
    case BPF_JGE: return ">=";
    case BPF_JSET: return "&";
    case BPF_JNE: return "!=";
    case BPF_JSGT: return "s>";
    case BPF_JSGE: return "s>=";
    case BPF_JLT: return "<";
    case BPF_JLE: return "<=";
    case BPF_JSLT: return "s<";
    case BPF_JSLE: return "s<=";
    default: return "?";
    }
}

const char* size_name(uint8_t code) {
    const bool sx = bpf_mode(code) == BPF_MEMSX;
    switch (bpf_size(code)) {
    case BPF_B: return sx ? "s8" : "u8";
    case BPF_H: return sx ? "s16" : "u16";
    case BPF_W: return sx ? "s32" : "u32";
    default: return "u64";
    }
}

const char* movsx_cast(int16_t off) {
    switch (off) {
    case 8: return "(s8)";
    case 16: return "(s16)";
    case 32: return "(s32)";
    default: return "";
    }
}

std::string alu(const Insn& in) {
    const uint8_t op = bpf_op(in.opcode);
    const char r = reg_letter(in.opcode);
    if (op == BPF_END) {
        if (bpf_class(in.opcode) == BPF_ALU64)
            return fmt("r%d = bswap%d r%d", in.dst, in.imm, in.dst);
        const char* order = bpf_srcbit(in.opcode) == BPF_TO_BE ? "be" : "le";
        return fmt("r%d = %s%d r%d", in.dst, order, in.imm, in.dst);
    }
    if (op == BPF_NEG) return fmt("%c%d = -%c%d", r, in.dst, r, in.dst);
    const char* sym = alu_symbol(op, in.off);
    if (bpf_srcbit(in.opcode) == BPF_K) return fmt("%c%d %s %d", r, in.dst, sym, in.imm);
    const char* cast = op == BPF_MOV ? movsx_cast(in.off) : "";
    return fmt("%c%d %s %s%c%d", r, in.dst, sym, cast, r, in.src);
}

std::string atomic(const Insn& in) {
    const char* size = size_name(in.opcode);
    const char* width = bpf_size(in.opcode) == BPF_DW ? "64" : "";
    switch (in.imm) {
    case BPF_CMPXCHG:
        return fmt("r0 = atomic%s_cmpxchg((%s *)(r%d %+d), r0, r%d)", width, size, in.dst, in.off,
                   in.src);
    case BPF_XCHG:
        return fmt("r%d = atomic%s_xchg((%s *)(r%d %+d), r%d)", in.src, width, size, in.dst, in.off,
                   in.src);
    default: break;
    }
    const int32_t op = in.imm & ~BPF_FETCH;
    if (in.imm & BPF_FETCH)
        return fmt("r%d = atomic%s_fetch_%s((%s *)(r%d %+d), r%d)", in.src, width, atomic_name(op),
                   size, in.dst, in.off, in.src);
    return fmt("lock *(%s *)(r%d %+d) %s r%d", size, in.dst, in.off,
               alu_symbol(static_cast<uint8_t>(op), 0), in.src);
}

std::string memory(const Insn& in) {
    const char* size = size_name(in.opcode);
    switch (bpf_class(in.opcode)) {
    case BPF_LDX: return fmt("r%d = *(%s *)(r%d %+d)", in.dst, size, in.src, in.off);
    case BPF_ST: return fmt("*(%s *)(r%d %+d) = %d", size, in.dst, in.off, in.imm);
    default: break;
    }
    if (bpf_mode(in.opcode) == BPF_ATOMIC) return atomic(in);
    return fmt("*(%s *)(r%d %+d) = r%d", size, in.dst, in.off, in.src);
}

std::string packet_load(const Insn& in) {
    const char* size = size_name(in.opcode);
    if (bpf_mode(in.opcode) == BPF_ABS) return fmt("r0 = *(%s *)skb[%d]", size, in.imm);
    return fmt("r0 = *(%s *)skb[r%d + %d]", size, in.src, in.imm);
}

std::string lddw(const Insn& lo, const Insn& hi) {
    const auto imm = static_cast<uint32_t>(lo.imm), next = static_cast<uint32_t>(hi.imm);
    const unsigned long long full = (static_cast<unsigned long long>(next) << 32) | imm;
    const int d = lo.dst;
    switch (lo.src) {
    case 0: return fmt("r%d = 0x%llx", d, full);
    case BPF_PSEUDO_MAP_VALUE: return fmt("r%d = map[id:%u][0]+%u", d, imm, next);
    case BPF_PSEUDO_MAP_IDX_VALUE: return fmt("r%d = map[idx:%u]+%u", d, imm, next);
    default: break;
    }
    if (next == 0) {
        switch (lo.src) {
        case BPF_PSEUDO_MAP_FD: return fmt("r%d = map[id:%u]", d, imm);
        case BPF_PSEUDO_BTF_ID: return fmt("r%d = btf_id[%u]", d, imm);
        case BPF_PSEUDO_FUNC: return fmt("r%d = subprog[%+d]", d, lo.imm);
        case BPF_PSEUDO_MAP_IDX: return fmt("r%d = map[idx:%u]", d, imm);
        default: break;
        }
    }
    return fmt("r%d = pseudo[src:%d] 0x%llx", d, lo.src, full);
}

std::string call(const Insn& in, const DisasmOptions& opts) {
    if (bpf_srcbit(in.opcode) == BPF_X) return fmt("callx r%d", in.dst);
    switch (in.src) {
    case BPF_PSEUDO_CALL: return fmt("call pc%+d", in.imm);
    case BPF_PSEUDO_KFUNC_CALL:
        if (in.off == 0) return fmt("call kernel-function#%d", in.imm);
        return fmt("call kernel-function#%d (off %d)", in.imm, in.off);
    default: break;
    }
    std::string name = opts.helper_name ? opts.helper_name(in.imm) : std::string();
    if (name.empty()) name = "unknown";
    return "call " + name + fmt("#%d", in.imm);
}

std::string jump(const Insn& in, const DisasmOptions& opts) {
    const uint8_t op = bpf_op(in.opcode);
    const bool jmp32 = bpf_class(in.opcode) == BPF_JMP32;
    switch (op) {
    case BPF_CALL: return call(in, opts);
    case BPF_EXIT: return "exit";
    case BPF_JA: return jmp32 ? fmt("gotol pc%+d", in.imm) : fmt("goto pc%+d", in.off);
    default: break;
    }
    const char r = reg_letter(in.opcode);
    if (bpf_srcbit(in.opcode) == BPF_X)
        return fmt("if %c%d %s %c%d goto pc%+d", r, in.dst, jmp_symbol(op), r, in.src, in.off);
    return fmt("if %c%d %s 0x%x goto pc%+d", r, in.dst, jmp_symbol(op),
               static_cast<unsigned>(in.imm), in.off);
}

} // namespace

std::string disasm_insn(Insns prog, size_t index, const DisasmOptions& opts) {
    if (index >= prog.size()) return "invalid insn (past the end)";
    const Insn& in = prog[index];
    if (!lookup_op(in)) return fmt("invalid insn (op 0x%02x)", in.opcode);
    switch (bpf_class(in.opcode)) {
    case BPF_ALU:
    case BPF_ALU64: return alu(in);
    case BPF_JMP:
    case BPF_JMP32: return jump(in, opts);
    case BPF_LD:
        if (in.opcode != BPF_LDDW) return packet_load(in);
        if (index + 1 >= prog.size()) return "invalid insn (lddw without its second slot)";
        return lddw(in, prog[index + 1]);
    default: return memory(in);
    }
}

std::string disasm_program(Insns prog, const DisasmOptions& opts) {
    std::string out;
    for (size_t i = 0; i < prog.size(); i += prog[i].opcode == BPF_LDDW ? 2 : 1)
        out += fmt("%zu: (%02x) ", i, prog[i].opcode) + disasm_insn(prog, i, opts) + '\n';
    return out;
}

} // namespace ebpf
