// Context access rules, their rewrites, helper sets and return codes, as the kernel's sources state
// them (net/core/filter.c, kernel/trace/bpf_trace.c, kernel/bpf/verifier.c).
#include "tests/progtypes/vm_run.hpp"
#include "vm/isa/disasm.hpp"
#include "vm/progtypes/skb.hpp"
#include "vm/progtypes/tracing.hpp"
#include "vm/progtypes/xdp.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <string>

namespace {

using namespace ebpf;
using progtypes_test::asm_prog;
using uapi::SkBuffMd;
using uapi::XdpMd;

constexpr auto R = BpfAccess::read;
constexpr auto W = BpfAccess::write;
using T = CtxRegType;

struct Rule {
    ProgType type;
    int off;
    int size;
    BpfAccess access;
    bool is_ldsx;
    bool ok;
    CtxRegType reg_type = T::scalar;
    uint8_t ctx_field_size = 0;
};

constexpr int md(size_t off) {
    return static_cast<int>(off);
}

// clang-format off
const Rule rules[] = {
    // socket_filter: no packet pointers, no tc or sk_skb fields, only cb writable
    {ProgType::socket_filter, md(offsetof(SkBuffMd, len)), 4, R, false, true, T::scalar, 4},
    {ProgType::socket_filter, md(offsetof(SkBuffMd, len)) + 2, 2, R, false, true, T::scalar, 4},
    {ProgType::socket_filter, md(offsetof(SkBuffMd, len)) + 1, 2, R, false, false},
    {ProgType::socket_filter, md(offsetof(SkBuffMd, len)), 8, R, false, false},
    {ProgType::socket_filter, md(offsetof(SkBuffMd, len)), 1, R, true, true, T::scalar, 4},
    {ProgType::socket_filter, md(offsetof(SkBuffMd, mark)), 4, W, false, false},
    {ProgType::socket_filter, md(offsetof(SkBuffMd, cb)), 8, R, false, true},
    {ProgType::socket_filter, md(offsetof(SkBuffMd, cb)) + 16, 4, W, false, true},
    {ProgType::socket_filter, md(offsetof(SkBuffMd, cb)) + 16, 8, R, false, false},
    {ProgType::socket_filter, md(offsetof(SkBuffMd, cb)) + 3, 1, W, false, true},
    {ProgType::socket_filter, md(offsetof(SkBuffMd, data)), 4, R, false, false},
    {ProgType::socket_filter, md(offsetof(SkBuffMd, tc_classid)), 4, R, false, false},
    {ProgType::socket_filter, md(offsetof(SkBuffMd, family)), 4, R, false, false},
    {ProgType::socket_filter, md(offsetof(SkBuffMd, tstamp)), 8, R, false, false},
    {ProgType::socket_filter, md(offsetof(SkBuffMd, wire_len)), 4, R, false, false},
    {ProgType::socket_filter, md(offsetof(SkBuffMd, hwtstamp)), 8, R, false, false},
    {ProgType::socket_filter, md(offsetof(SkBuffMd, sk)), 8, R, false, true, T::sock_common_or_null},
    {ProgType::socket_filter, md(offsetof(SkBuffMd, sk)), 4, R, false, false},
    {ProgType::socket_filter, md(offsetof(SkBuffMd, flow_keys)), 8, R, false, false},
    {ProgType::socket_filter, md(offsetof(SkBuffMd, gso_size)), 4, R, false, true, T::scalar, 4},
    {ProgType::socket_filter, -4, 4, R, false, false},
    {ProgType::socket_filter, sizeof(SkBuffMd), 4, R, false, false},
    // sched_cls: packet pointers, tc fields, the widest write set
    {ProgType::sched_cls, md(offsetof(SkBuffMd, data)), 4, R, false, true, T::packet},
    {ProgType::sched_cls, md(offsetof(SkBuffMd, data_meta)), 4, R, false, true, T::packet_meta},
    {ProgType::sched_cls, md(offsetof(SkBuffMd, data_end)), 4, R, false, true, T::packet_end},
    {ProgType::sched_cls, md(offsetof(SkBuffMd, data)), 2, R, false, false},
    {ProgType::sched_cls, md(offsetof(SkBuffMd, data)), 4, R, true, false},
    {ProgType::sched_cls, md(offsetof(SkBuffMd, data)), 4, W, false, false},
    {ProgType::sched_cls, md(offsetof(SkBuffMd, tc_classid)), 4, W, false, true},
    {ProgType::sched_cls, md(offsetof(SkBuffMd, tc_classid)), 2, W, false, false},
    {ProgType::sched_cls, md(offsetof(SkBuffMd, queue_mapping)), 4, W, false, true},
    {ProgType::sched_cls, md(offsetof(SkBuffMd, tc_index)), 4, W, false, true},
    {ProgType::sched_cls, md(offsetof(SkBuffMd, len)), 4, W, false, false},
    {ProgType::sched_cls, md(offsetof(SkBuffMd, tstamp)), 8, W, false, true},
    {ProgType::sched_cls, md(offsetof(SkBuffMd, tstamp)), 4, R, false, false},
    {ProgType::sched_cls, md(offsetof(SkBuffMd, tstamp_type)), 1, R, false, true},
    {ProgType::sched_cls, md(offsetof(SkBuffMd, tstamp_type)), 2, R, false, false},
    {ProgType::sched_cls, md(offsetof(SkBuffMd, tstamp_type)), 1, W, false, false},
    {ProgType::sched_cls, md(offsetof(SkBuffMd, padding)), 1, R, false, false},
    {ProgType::sched_cls, md(offsetof(SkBuffMd, hwtstamp)), 8, R, false, true},
    {ProgType::sched_cls, md(offsetof(SkBuffMd, hwtstamp)), 8, W, false, false},
    {ProgType::sched_cls, md(offsetof(SkBuffMd, wire_len)), 4, R, false, true, T::scalar, 4},
    {ProgType::sched_cls, md(offsetof(SkBuffMd, local_port)), 4, R, false, false},
    {ProgType::sched_act, md(offsetof(SkBuffMd, remote_ip4)), 4, R, false, false},
    {ProgType::sched_act, md(offsetof(SkBuffMd, napi_id)) + 3, 1, R, false, true, T::scalar, 4},
    // cgroup_skb: data and data_end (CAP_BPF), the socket fields, no metadata
    {ProgType::cgroup_skb, md(offsetof(SkBuffMd, data)), 4, R, false, true, T::packet},
    {ProgType::cgroup_skb, md(offsetof(SkBuffMd, data_end)), 4, R, false, true, T::packet_end},
    {ProgType::cgroup_skb, md(offsetof(SkBuffMd, data_meta)), 4, R, false, false},
    {ProgType::cgroup_skb, md(offsetof(SkBuffMd, wire_len)), 4, R, false, false},
    {ProgType::cgroup_skb, md(offsetof(SkBuffMd, family)), 4, R, false, true, T::scalar, 4},
    {ProgType::cgroup_skb, md(offsetof(SkBuffMd, remote_ip6)) + 4, 4, R, false, true},
    {ProgType::cgroup_skb, md(offsetof(SkBuffMd, remote_ip6)) + 4, 2, R, false, false},
    {ProgType::cgroup_skb, md(offsetof(SkBuffMd, local_port)) + 2, 2, R, false, true, T::scalar, 4},
    {ProgType::cgroup_skb, md(offsetof(SkBuffMd, mark)), 4, W, false, true},
    {ProgType::cgroup_skb, md(offsetof(SkBuffMd, tstamp)), 8, W, false, true},
    {ProgType::cgroup_skb, md(offsetof(SkBuffMd, tc_index)), 4, W, false, false},
    // xdp: whole 32-bit fields, read only
    {ProgType::xdp, md(offsetof(XdpMd, data)), 4, R, false, true, T::packet},
    {ProgType::xdp, md(offsetof(XdpMd, data_meta)), 4, R, false, true, T::packet_meta},
    {ProgType::xdp, md(offsetof(XdpMd, data_end)), 4, R, false, true, T::packet_end},
    {ProgType::xdp, md(offsetof(XdpMd, data)), 4, R, true, false},
    {ProgType::xdp, md(offsetof(XdpMd, data)), 8, R, false, false},
    {ProgType::xdp, md(offsetof(XdpMd, ingress_ifindex)), 4, R, false, true},
    {ProgType::xdp, md(offsetof(XdpMd, ingress_ifindex)), 4, R, true, true},
    {ProgType::xdp, md(offsetof(XdpMd, rx_queue_index)), 2, R, false, false},
    {ProgType::xdp, md(offsetof(XdpMd, rx_queue_index)), 4, W, false, false},
    {ProgType::xdp, md(offsetof(XdpMd, egress_ifindex)), 4, R, false, false},
    // kprobe (x86-64 pt_regs): any aligned read
    {ProgType::kprobe, 0, 1, R, false, true},
    {ProgType::kprobe, 160, 8, R, false, true},
    {ProgType::kprobe, 164, 4, R, false, true},
    {ProgType::kprobe, 164, 8, R, false, false},
    {ProgType::kprobe, 168, 1, R, false, false},
    {ProgType::kprobe, 8, 8, W, false, false},
    // tracepoint: the record past its first 8 bytes
    {ProgType::tracepoint, 0, 8, R, false, false},
    {ProgType::tracepoint, 4, 4, R, false, false},
    {ProgType::tracepoint, 8, 8, R, false, true},
    {ProgType::tracepoint, 10, 2, R, false, true},
    {ProgType::tracepoint, 8184, 8, R, false, true},
    {ProgType::tracepoint, 8192, 1, R, false, false},
    {ProgType::tracepoint, 16, 8, W, false, false},
    // raw_tracepoint: 12 u64 arguments
    {ProgType::raw_tracepoint, 88, 8, R, false, true},
    {ProgType::raw_tracepoint, 92, 4, R, false, true},
    {ProgType::raw_tracepoint, 92, 8, R, false, false},
    {ProgType::raw_tracepoint, 96, 1, R, false, false},
    // perf_event (x86-64): registers whole, sample_period and addr also narrow
    {ProgType::perf_event, 0, 8, R, false, true},
    {ProgType::perf_event, 0, 4, R, false, false},
    {ProgType::perf_event, 168, 8, R, false, true, T::scalar, 8},
    {ProgType::perf_event, 172, 4, R, false, true, T::scalar, 8},
    {ProgType::perf_event, 177, 1, R, false, true, T::scalar, 8},
    {ProgType::perf_event, 184, 1, R, false, false},
    {ProgType::perf_event, 168, 8, W, false, false},
};
// clang-format on

TEST_CASE("is_valid_access follows the kernel's rules", "[progtypes][access]") {
    for (const Rule& rule : rules) {
        const ProgTypeInfo* info = prog_type_info(rule.type, RegsArch::x86_64);
        REQUIRE(info);
        INFO(info->name << " off=" << rule.off << " size=" << rule.size
                        << (rule.access == W ? " write"
                            : rule.is_ldsx   ? " ldsx"
                                             : " read"));
        const CtxAccess access =
            info->is_valid_access(rule.off, rule.size, rule.access, rule.is_ldsx);
        CHECK(access.ok == rule.ok);
        if (rule.ok) {
            CHECK(access.reg_type == rule.reg_type);
            CHECK(access.ctx_field_size == rule.ctx_field_size);
        }
    }
}

TEST_CASE("arm64 programs read user_pt_regs", "[progtypes][access]") {
    const ProgTypeInfo* kprobe = prog_type_info(ProgType::kprobe, RegsArch::arm64);
    CHECK(kprobe->ctx_size == sizeof(uapi::UserPtRegsArm64));
    CHECK(kprobe->is_valid_access(264, 8, R, false).ok);
    CHECK_FALSE(kprobe->is_valid_access(272, 8, R, false).ok);
    const ProgTypeInfo* pe = prog_type_info(ProgType::perf_event, RegsArch::arm64);
    CHECK(pe->is_valid_access(272, 4, R, false).ctx_field_size == 8); // sample_period
    CHECK(pe->is_valid_access(264, 8, R, false).ctx_field_size == 0); // pstate
}

std::string rewrite(ProgType type, const std::string& access) {
    auto insns = asm_prog(access);
    auto out = convert_ctx_access(*prog_type_info(type, RegsArch::x86_64), insns[0]);
    if (!out) return out.error().message;
    std::string text;
    for (const Insn& insn : *out)
        text += disasm_insn(*out, &insn - out->data()) + "\n";
    return text;
}

TEST_CASE("context accesses become accesses of the runtime context", "[progtypes][rewrite]") {
    auto off = [](size_t o) { return std::to_string(o); };
    // A 32-bit UAPI pointer field becomes a 64-bit load.
    CHECK(rewrite(ProgType::xdp, "r2 = *(u32 *)(r1 +0)") ==
          "r2 = *(u64 *)(r1 +" + off(offsetof(XdpBuff, data)) + ")\n");
    CHECK(rewrite(ProgType::sched_cls, "r3 = *(u32 *)(r1 +80)") ==
          "r3 = *(u64 *)(r1 +" + off(offsetof(SkBuff, data_end)) + ")\n");
    // A narrow load: the runtime field, then shift and mask.
    CHECK(rewrite(ProgType::sched_cls, "r0 = *(u8 *)(r1 +17)") ==
          "r0 = *(u16 *)(r1 +" + off(offsetof(SkBuff, protocol)) + ")\nw0 >>= 8\nw0 &= 255\n");
    // As wide as the runtime field: the kernel reads the field whatever the offset in the UAPI
    // field.
    CHECK(rewrite(ProgType::sched_cls, "r0 = *(u16 *)(r1 +18)") ==
          "r0 = *(u16 *)(r1 +" + off(offsetof(SkBuff, protocol)) + ")\n");
    CHECK(rewrite(ProgType::socket_filter, "r0 = *(u8 *)(r1 +5)") ==
          "r0 = *(u8 *)(r1 +" + off(offsetof(SkBuff, pkt_type)) + ")\n");
    // A sign-extending narrow load gets a movsx.
    CHECK(rewrite(ProgType::socket_filter, "r0 = *(s16 *)(r1 +0)") ==
          "r0 = *(u32 *)(r1 +" + off(offsetof(SkBuff, len)) + ")\nw0 &= 65535\nr0 = (s16)r0\n");
    // cb at the access's own size.
    CHECK(rewrite(ProgType::socket_filter, "*(u64 *)(r1 +56) = r2") ==
          "*(u64 *)(r1 +" + off(offsetof(SkBuff, cb) + 8) + ") = r2\n");
    // A 32-bit store to a 16-bit runtime field.
    CHECK(rewrite(ProgType::sched_cls, "*(u32 *)(r1 +44) = 7") ==
          "*(u16 *)(r1 +" + off(offsetof(SkBuff, tc_index)) + ") = 7\n");
    // queue_mapping: NO_QUEUE_MAPPING and above are not stored.
    CHECK(rewrite(ProgType::sched_cls, "*(u32 *)(r1 +12) = 65535") == "goto pc+0\n");
    CHECK(rewrite(ProgType::sched_cls, "*(u32 *)(r1 +12) = r3") ==
          "if r3 >= 0xffff goto pc+1\n*(u16 *)(r1 +" + off(offsetof(SkBuff, queue_mapping)) +
              ") = r3\n");
    // Through skb->sk.
    CHECK(rewrite(ProgType::cgroup_skb, "r0 = *(u32 *)(r1 +132)") ==
          "r0 = *(u64 *)(r1 +" + off(offsetof(SkBuff, sk)) + ")\nr0 = *(u16 *)(r0 +" +
              off(offsetof(BpfSock, dst_port)) + ")\nw0 <<= 16\n");
    // perf_event: through the kernel's two pointers; a narrow part of a 64-bit field.
    CHECK(rewrite(ProgType::perf_event, "r0 = *(u32 *)(r1 +172)") ==
          "r0 = *(u64 *)(r1 +" + off(offsetof(PerfEventDataKern, data)) + ")\nr0 = *(u64 *)(r0 +" +
              off(offsetof(PerfSampleData, period)) + ")\nr0 >>= 32\nw0 &= -1\n");
    CHECK(rewrite(ProgType::perf_event, "r2 = *(u64 *)(r1 +16)") ==
          "r2 = *(u64 *)(r1 +" + off(offsetof(PerfEventDataKern, regs)) +
              ")\nr2 = *(u64 *)(r2 +16)\n");
    // Types that read the kernel's own struct keep the instruction.
    CHECK(rewrite(ProgType::kprobe, "r0 = *(u64 *)(r1 +80)") == "r0 = *(u64 *)(r1 +80)\n");
    CHECK(rewrite(ProgType::raw_tracepoint, "r0 = *(s32 *)(r1 +4)") == "r0 = *(s32 *)(r1 +4)\n");
    // Refused accesses carry the verifier's message.
    CHECK(rewrite(ProgType::xdp, "r0 = *(u16 *)(r1 +0)") ==
          "invalid bpf_context access off=0 size=2");
    CHECK(rewrite(ProgType::socket_filter, "*(u32 *)(r1 +8) = r2") ==
          "invalid bpf_context access off=8 size=4");
    CHECK(rewrite(ProgType::xdp, "r0 = r1") == "not a context load or store");
}

TEST_CASE("convert_ctx_accesses moves branches across grown code", "[progtypes][rewrite]") {
    using progtypes_test::run_in_vm;
    // A narrow load (three instructions after rewriting) between a jump and its target, and a
    // local call over both.
    const auto prog = asm_prog("r6 = r1\n"
                               "call sub\n"
                               "r7 = r0\n"
                               "if r7 == 0 goto over\n"
                               "r0 = *(u8 *)(r6 +16)\n"
                               "r7 += r0\n"
                               "over:\n"
                               "r0 = r7\n"
                               "exit\n"
                               "sub:\n"
                               "r0 = *(u8 *)(r1 +17)\n"
                               "exit\n");
    const auto frame = progtypes_test::udp_frame();
    auto ctx = progtypes_test::make_context(ProgType::sched_cls, frame);
    // protocol 0x0800 in network order: byte 16 is 0x08, byte 17 is 0x00.
    auto r0 = run_in_vm(ProgType::sched_cls, prog, {4, 8}, *ctx);
    REQUIRE(r0);
    CHECK(*r0 == 0); // byte 17 is zero: the jump is taken
    auto lldp = frame;
    lldp[12] = 0x88;
    lldp[13] = 0xcc;
    auto ctx2 = progtypes_test::make_context(ProgType::sched_cls, lldp);
    r0 = run_in_vm(ProgType::sched_cls, prog, {4, 8}, *ctx2);
    REQUIRE(r0);
    CHECK(*r0 == 0xcc + 0x88);

    auto bad = convert_ctx_accesses(prog, *prog_type_info(ProgType::sched_cls),
                                    [](size_t i) { return i == 2; });
    REQUIRE_FALSE(bad);
    CHECK(bad.error().to_string() == "insn 2: not a context load or store");
}

TEST_CASE("helper sets follow the types' get_func_proto", "[progtypes][helpers]") {
    auto allowed = [](ProgType type, KernelHelper id) {
        return prog_type_info(type)->helper_allowed(static_cast<int32_t>(id));
    };
    using H = KernelHelper;
    for (ProgType type :
         {ProgType::socket_filter, ProgType::sched_cls, ProgType::cgroup_skb, ProgType::xdp,
          ProgType::kprobe, ProgType::tracepoint, ProgType::raw_tracepoint, ProgType::perf_event}) {
        CHECK(allowed(type, H::map_lookup_elem));
        CHECK(allowed(type, H::tail_call));
        CHECK(allowed(type, H::ringbuf_output));
        CHECK_FALSE(allowed(type, H::unspec));
    }
    CHECK(allowed(ProgType::socket_filter, H::skb_load_bytes));
    CHECK_FALSE(allowed(ProgType::socket_filter, H::skb_store_bytes));
    CHECK(allowed(ProgType::sched_act, H::skb_store_bytes));
    CHECK(allowed(ProgType::sched_cls, H::redirect));
    CHECK_FALSE(allowed(ProgType::sched_cls, H::xdp_adjust_head));
    CHECK(allowed(ProgType::xdp, H::xdp_adjust_head));
    CHECK_FALSE(allowed(ProgType::xdp, H::skb_load_bytes));
    CHECK(allowed(ProgType::cgroup_skb, H::get_local_storage));
    CHECK(allowed(ProgType::cgroup_skb, H::skb_load_bytes));
    CHECK_FALSE(allowed(ProgType::cgroup_skb, H::get_retval));
    CHECK(allowed(ProgType::kprobe, H::override_return));
    CHECK(allowed(ProgType::kprobe, H::probe_read_kernel));
    CHECK_FALSE(allowed(ProgType::tracepoint, H::override_return));
    CHECK(allowed(ProgType::perf_event, H::perf_prog_read_value));
    CHECK_FALSE(allowed(ProgType::kprobe, H::perf_prog_read_value));
    CHECK_FALSE(allowed(ProgType::kprobe, H::skb_load_bytes));
    CHECK_FALSE(prog_type_info(ProgType::xdp)->helper_allowed(-1));
    CHECK_FALSE(prog_type_info(ProgType::xdp)->helper_allowed(4096));
}

TEST_CASE("program types are named and judged as the kernel does", "[progtypes][info]") {
    CHECK(prog_type_by_name("sched_cls") == ProgType::sched_cls);
    CHECK(prog_type_by_name("raw_tracepoint") == ProgType::raw_tracepoint);
    CHECK_FALSE(prog_type_by_name("lsm"));
    CHECK(prog_type_info(ProgType::lsm) == nullptr);

    const ProgTypeInfo& xdp = *prog_type_info(ProgType::xdp);
    CHECK(std::string(return_code_name(xdp, 2)) == "XDP_PASS");
    CHECK(return_code_name(xdp, 5) == nullptr);
    const ProgTypeInfo& tc = *prog_type_info(ProgType::sched_cls);
    CHECK(std::string(return_code_name(tc, 0xffffffff)) == "TC_ACT_UNSPEC");
    CHECK(std::string(return_code_name(tc, 2)) == "TC_ACT_SHOT");
    CHECK(return_code_name(*prog_type_info(ProgType::socket_filter), 0) == nullptr);

    CHECK_FALSE(xdp.retval);
    auto ingress = retval_range(ProgType::cgroup_skb, uapi::bpf_cgroup_inet_ingress);
    REQUIRE(ingress);
    CHECK((ingress->minval == 0 && ingress->maxval == 1));
    auto egress = retval_range(ProgType::cgroup_skb, uapi::bpf_cgroup_inet_egress);
    REQUIRE(egress);
    CHECK(egress->maxval == 3);
    CHECK_FALSE(retval_range(ProgType::kprobe, 0));

    CHECK(prog_type_info(ProgType::socket_filter)->ld_abs);
    CHECK(prog_type_info(ProgType::sched_act)->ld_abs);
    CHECK_FALSE(prog_type_info(ProgType::cgroup_skb)->ld_abs);
    CHECK_FALSE(prog_type_info(ProgType::xdp)->ld_abs);
    CHECK(prog_type_info(ProgType::cgroup_skb)->packet_access == PacketAccess::read);
    CHECK(prog_type_info(ProgType::xdp)->packet_access == PacketAccess::read_write);
    CHECK(prog_type_info(ProgType::socket_filter)->packet_access == PacketAccess::none);
    CHECK(std::string(ctx_reg_type_name(CtxRegType::packet_end)) == "pkt_end");
}

} // namespace
