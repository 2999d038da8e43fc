#include "vm/progtypes/prog_type_info.hpp"

#include "vm/progtypes/emit.hpp"
#include "vm/progtypes/skb.hpp"
#include "vm/progtypes/tracing.hpp"
#include "vm/progtypes/uapi.hpp"
#include "vm/progtypes/xdp.hpp"

#include <string>

namespace ebpf {

using namespace progtypes;

const char* ctx_reg_type_name(CtxRegType type) {
    switch (type) {
    case CtxRegType::scalar: return "scalar";
    case CtxRegType::packet: return "pkt";
    case CtxRegType::packet_meta: return "pkt_meta";
    case CtxRegType::packet_end: return "pkt_end";
    case CtxRegType::sock_common_or_null: return "sock_common_or_null";
    }
    return "?";
}

const ProgTypeInfo* prog_type_info(ProgType type, RegsArch arch) {
    if (const ProgTypeInfo* info = skb_prog_type_info(type)) return info;
    if (type == ProgType::xdp) return &xdp_prog_type_info;
    return tracing_prog_type_info(type, arch);
}

std::optional<ProgType> prog_type_by_name(std::string_view name) {
    for (ProgType type : {ProgType::socket_filter, ProgType::kprobe, ProgType::sched_cls,
                          ProgType::sched_act, ProgType::tracepoint, ProgType::xdp,
                          ProgType::perf_event, ProgType::cgroup_skb, ProgType::raw_tracepoint}) {
        if (name == prog_type_info(type)->name) return type;
    }
    return std::nullopt;
}

std::optional<RetvalRange> retval_range(ProgType type, uint32_t expected_attach_type) {
    // The kernel also makes a cgroup_skb program returning 2 or 3 attachable to egress only.
    if (type == ProgType::cgroup_skb && expected_attach_type == uapi::bpf_cgroup_inet_egress) {
        return RetvalRange{0, 3};
    }
    const ProgTypeInfo* info = prog_type_info(type);
    return info ? info->retval : std::nullopt;
}

const char* return_code_name(const ProgTypeInfo& info, uint64_t r0) {
    // Programs return an int: the verdicts are compared as the kernel's callers compare them.
    auto value = static_cast<int32_t>(r0);
    for (const ReturnCode& code : info.return_codes) {
        if (code.value == value) return code.name;
    }
    return nullptr;
}

Result<std::vector<Insn>> convert_ctx_access(const ProgTypeInfo& info, const Insn& insn) {
    const uint8_t cls = bpf_class(insn.opcode), mode = bpf_mode(insn.opcode);
    BpfAccess type;
    if (cls == BPF_LDX && (mode == BPF_MEM || mode == BPF_MEMSX)) {
        type = BpfAccess::read;
    } else if ((cls == BPF_ST || cls == BPF_STX) && mode == BPF_MEM) {
        type = BpfAccess::write;
    } else {
        return Error{"not a context load or store", std::nullopt};
    }
    const bool is_ldsx = mode == BPF_MEMSX;
    const int size = size_bytes(insn.opcode);
    const int off = insn.off;
    const CtxAccess access = info.is_valid_access(off, size, type, is_ldsx);
    if (!access.ok) {
        return Error{"invalid bpf_context access off=" + std::to_string(off) +
                         " size=" + std::to_string(size),
                     std::nullopt};
    }
    if (!info.convert_ctx_access) return std::vector<Insn>{insn};

    // A load of part of a field becomes a load of the whole field (the runtime field may be of
    // another size), then the part is shifted down and masked.
    const int field_size = access.ctx_field_size;
    const bool is_narrower_load = size < field_size;
    Insn si = insn;
    if (is_narrower_load) {
        if (type == BpfAccess::write)
            return Error{"bpf verifier narrow ctx access misconfigured", std::nullopt};
        si.off = static_cast<int16_t>(off & ~(field_size - 1));
        si.opcode = BPF_LDX | BPF_MEM | bpf_size_code(field_size);
    }
    CtxRewrite rewrite;
    info.convert_ctx_access(type, si, rewrite);
    if (rewrite.cnt == 0 || (field_size && !rewrite.target_size)) {
        return Error{"bpf verifier is misconfigured", std::nullopt};
    }
    std::vector<Insn> out(rewrite.insns.begin(), rewrite.insns.begin() + rewrite.cnt);
    // As the kernel: only when the runtime field is wider than the load. A load narrower than the
    // UAPI field but as wide as the runtime field reads the runtime field whole, whatever its
    // offset in the UAPI field (a 2-byte load of __sk_buff->protocol + 2 gives the protocol).
    if (is_narrower_load && size < static_cast<int>(rewrite.target_size)) {
        const int shift = (off & (field_size - 1)) * 8; // little-endian
        const auto mask = static_cast<int32_t>((uint64_t{1} << (size * 8)) - 1);
        if (shift) {
            out.push_back(field_size <= 4 ? alu32_imm(BPF_RSH, insn.dst, shift)
                                          : alu64_imm(BPF_RSH, insn.dst, shift));
        }
        out.push_back(alu32_imm(BPF_AND, insn.dst, mask));
    }
    if (is_ldsx) out.push_back(movsx64(insn.dst, size * 8));
    return out;
}

namespace {

// Where a branch of instruction i points, as an instruction index, and how to set it; none for
// instructions that do not branch.
struct Branch {
    bool uses_imm; // gotol, local calls and callback addresses count in imm, jumps in off
    int64_t target;
};

std::optional<Branch> branch_of(const Insn& insn, size_t i) {
    const uint8_t cls = bpf_class(insn.opcode), op = bpf_op(insn.opcode);
    const auto next = static_cast<int64_t>(i) + 1;
    if (insn.opcode == BPF_LDDW) {
        if (insn.src == BPF_PSEUDO_FUNC) return Branch{true, next + insn.imm};
        return std::nullopt;
    }
    if (cls != BPF_JMP && cls != BPF_JMP32) return std::nullopt;
    if (op == BPF_EXIT) return std::nullopt;
    if (op == BPF_CALL) {
        if (cls == BPF_JMP && insn.src == BPF_PSEUDO_CALL) return Branch{true, next + insn.imm};
        return std::nullopt;
    }
    if (cls == BPF_JMP32 && op == BPF_JA) return Branch{true, next + insn.imm};
    return Branch{false, next + insn.off};
}

} // namespace

Result<std::vector<Insn>> convert_ctx_accesses(Insns prog, const ProgTypeInfo& info,
                                               const std::function<bool(size_t)>& is_ctx_access) {
    std::vector<bool> ctx_access(prog.size());
    for (size_t i = 0; i < prog.size(); ++i)
        ctx_access[i] = is_ctx_access(i);
    std::vector<Insn> out;
    out.reserve(prog.size());
    std::vector<size_t> new_index(prog.size() + 1);
    for (size_t i = 0; i < prog.size(); ++i) {
        new_index[i] = out.size();
        if (!ctx_access[i]) {
            out.push_back(prog[i]);
            continue;
        }
        auto rewritten = convert_ctx_access(info, prog[i]);
        if (!rewritten) return error_at(i, rewritten.error().message);
        out.insert(out.end(), rewritten->begin(), rewritten->end());
    }
    new_index[prog.size()] = out.size();

    for (size_t i = 0; i < prog.size(); ++i) {
        if (ctx_access[i]) continue;
        const auto branch = branch_of(prog[i], i);
        if (!branch) continue;
        if (branch->target < 0 || branch->target > static_cast<int64_t>(prog.size())) {
            return error_at(i, "jump out of range");
        }
        Insn& insn = out[new_index[i]];
        const int64_t delta = static_cast<int64_t>(new_index[branch->target]) -
                              static_cast<int64_t>(new_index[i] + 1);
        if (branch->uses_imm) {
            insn.imm = static_cast<int32_t>(delta);
        } else if (delta < INT16_MIN || delta > INT16_MAX) {
            return error_at(i, "jump offset out of range after context rewriting");
        } else {
            insn.off = static_cast<int16_t>(delta);
        }
    }
    return out;
}

} // namespace ebpf
