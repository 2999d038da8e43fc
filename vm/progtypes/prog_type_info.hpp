// Everything the verifier, the interpreter, the JIT and the CLI need to know about a program type,
// as data: the kernel's bpf_verifier_ops (is_valid_access, convert_ctx_access, get_func_proto)
// plus the return-code rules of check_return_code and the names the CLI prints.
//
// The rules are the kernel's (Linux 6.18) for a privileged loader (CAP_BPF, CAP_PERFMON,
// CAP_SYS_ADMIN) and the program type's default expected_attach_type.
#pragma once

#include "helpers/kernel_ids.hpp"
#include "vm/isa/insn.hpp"
#include "vm/isa/result.hpp"
#include "vm/progtypes/prog_type.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace ebpf {

// enum bpf_access_type
enum class BpfAccess : uint8_t { read, write };

// What a context load gives the verifier (bpf_insn_access_aux.reg_type): a scalar, or one of the
// pointer types below (the kernel's PTR_TO_PACKET, PTR_TO_PACKET_META, PTR_TO_PACKET_END,
// PTR_TO_SOCK_COMMON_OR_NULL).
enum class CtxRegType : uint8_t { scalar, packet, packet_meta, packet_end, sock_common_or_null };

// The verifier log's name for it ("scalar", "pkt", "pkt_meta", "pkt_end", "sock_common_or_null").
const char* ctx_reg_type_name(CtxRegType type);

// The answer of is_valid_access. ctx_field_size is the kernel's bpf_ctx_record_field_size(): the
// size of the field a narrow load reads part of (0 when the access must be of the field's own size
// and is never narrowed); convert_ctx_access() widens narrow loads to it.
struct CtxAccess {
    bool ok = false;
    CtxRegType reg_type = CtxRegType::scalar;
    uint8_t ctx_field_size = 0;
};

// is_valid_access(off, size, type, is_ldsx): may the program read or write size bytes at this
// offset of its context? is_ldsx for sign-extending loads (BPF_MEMSX), which no pointer field
// allows.
using IsValidAccess = CtxAccess (*)(int off, int size, BpfAccess type, bool is_ldsx);

// What a program type's convert_ctx_access produces for one access: the instructions that do it
// on the runtime context, and target_size, the size of the runtime field read (0 when the rewrite
// states none, as the kernel's does for fields that are never narrowed).
struct CtxRewrite {
    static constexpr size_t max_insns = 8;
    std::array<Insn, max_insns> insns{};
    uint8_t cnt = 0;
    uint32_t target_size = 0;

    void emit(const Insn& insn) { insns[cnt++] = insn; }
};

// The per-type rewrite, as the kernel's convert_ctx_access: si is the access with a narrow load
// already widened to the field (offset aligned down, size the field's).
using ConvertCtxAccess = void (*)(BpfAccess type, const Insn& si, CtxRewrite& out);

// A set of helper ids: what the type's get_func_proto returns a prototype for.
class HelperSet {
  public:
    constexpr HelperSet() = default;
    constexpr HelperSet(std::initializer_list<KernelHelper> ids) {
        for (KernelHelper id : ids) {
            auto n = static_cast<uint32_t>(id);
            bits_[n / 64] |= uint64_t{1} << (n % 64);
        }
    }
    constexpr bool contains(int32_t id) const {
        return id >= 0 && id < max_id && (bits_[id / 64] >> (id % 64)) & 1;
    }
    constexpr HelperSet operator|(const HelperSet& other) const {
        HelperSet r;
        for (size_t i = 0; i < bits_.size(); ++i)
            r.bits_[i] = bits_[i] | other.bits_[i];
        return r;
    }

    static constexpr int32_t max_id = 256;

  private:
    std::array<uint64_t, max_id / 64> bits_{};
};

// The kernel's struct bpf_retval_range: the values check_return_code accepts in R0 at exit.
struct RetvalRange {
    int32_t minval;
    int32_t maxval;
};

// A named return value ("XDP_DROP", "TC_ACT_SHOT").
struct ReturnCode {
    int32_t value;
    const char* name;
};

// may_access_direct_pkt_data: what the program may do with packet pointers.
enum class PacketAccess : uint8_t { none, read, read_write };

struct ProgTypeInfo {
    ProgType type;
    const char* name;  // the name libbpf and bpftool use: "xdp", "sched_cls", "kprobe", ...
    uint32_t ctx_size; // the UAPI context's size: no access reaches past it
    IsValidAccess is_valid_access;
    // Null when programs read the kernel's own struct and nothing is rewritten (kprobe,
    // tracepoint, raw_tracepoint).
    ConvertCtxAccess convert_ctx_access;
    HelperSet helpers;
    PacketAccess packet_access;
    bool ld_abs; // may_access_skb: LD_ABS and LD_IND are allowed
    // check_return_code's range for the default attach type; none when any value may be
    // returned. retval_range() gives it for other attach types.
    std::optional<RetvalRange> retval;
    std::span<const ReturnCode> return_codes;

    bool helper_allowed(int32_t helper_id) const { return helpers.contains(helper_id); }
};

// Which struct pt_regs a kprobe or perf_event program reads: it depends on the architecture the
// program was built for (__TARGET_ARCH_x86 or __TARGET_ARCH_arm64), not on the host.
enum class RegsArch : uint8_t { x86_64, arm64 };
#if defined(__aarch64__) || defined(_M_ARM64)
inline constexpr RegsArch host_regs_arch = RegsArch::arm64;
#else
inline constexpr RegsArch host_regs_arch = RegsArch::x86_64;
#endif

// The description of a program type; null for the types this build does not describe.
const ProgTypeInfo* prog_type_info(ProgType type, RegsArch arch = host_regs_arch);

// The type named as libbpf names it ("xdp", "sched_cls", ...).
std::optional<ProgType> prog_type_by_name(std::string_view name);

// check_return_code's range for a type and expected_attach_type (cgroup_skb egress programs may
// return 0-3: bit 1 asks for congestion notification).
std::optional<RetvalRange> retval_range(ProgType type, uint32_t expected_attach_type);

// The name of a return value ("XDP_PASS"), or null when the type names none or not this one.
const char* return_code_name(const ProgTypeInfo& info, uint64_t r0);

// The kernel's bpf_ctx_narrow_access_ok: a load narrower than its field is a power of two.
constexpr bool bpf_ctx_narrow_access_ok(int size, int size_default) {
    return size <= size_default && (size & (size - 1)) == 0;
}

// Rewrites one verified context access (a load of ctx + insn.off into insn.dst, or a store of
// insn.src / insn.imm at insn.dst + insn.off) into instructions on the runtime context, as the
// verifier's convert_ctx_accesses does with the type's convert_ctx_access: a narrow load becomes a
// load of the whole field and a shift and mask, a sign-extending load gets a movsx. A type without
// a rewrite gives the instruction back. Fails, with the kernel's message, on an access
// is_valid_access refuses.
Result<std::vector<Insn>> convert_ctx_access(const ProgTypeInfo& info, const Insn& insn);

// The same over a whole program: is_ctx_access(i) says that instruction i accesses the context
// (the verifier knows which). Jump, local-call and callback offsets are moved across the grown
// code.
Result<std::vector<Insn>> convert_ctx_accesses(Insns prog, const ProgTypeInfo& info,
                                               const std::function<bool(size_t)>& is_ctx_access);

} // namespace ebpf
