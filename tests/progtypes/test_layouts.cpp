// The project's UAPI layouts against the kernel's own headers. Only here may a Linux header be
// included.
#include "vm/progtypes/uapi.hpp"

#include <catch2/catch.hpp>

#if defined(__linux__)
#include <asm/ptrace.h>
#include <linux/bpf.h>
#include <linux/bpf_perf_event.h>

namespace {

// Each field at the kernel's offset and of the kernel's size.
#define SAME_FIELD(ours, theirs, field)                                                            \
    do {                                                                                           \
        CHECK(offsetof(ours, field) == offsetof(theirs, field));                                   \
        CHECK(sizeof(ours::field) == sizeof(theirs::field));                                       \
    } while (0)

TEST_CASE("__sk_buff matches linux/bpf.h", "[progtypes][layout]") {
    using ebpf::uapi::SkBuffMd;
    CHECK(sizeof(SkBuffMd) == sizeof(__sk_buff));
    CHECK(alignof(SkBuffMd) == alignof(__sk_buff));
    SAME_FIELD(SkBuffMd, __sk_buff, len);
    SAME_FIELD(SkBuffMd, __sk_buff, pkt_type);
    SAME_FIELD(SkBuffMd, __sk_buff, mark);
    SAME_FIELD(SkBuffMd, __sk_buff, queue_mapping);
    SAME_FIELD(SkBuffMd, __sk_buff, protocol);
    SAME_FIELD(SkBuffMd, __sk_buff, vlan_present);
    SAME_FIELD(SkBuffMd, __sk_buff, vlan_tci);
    SAME_FIELD(SkBuffMd, __sk_buff, vlan_proto);
    SAME_FIELD(SkBuffMd, __sk_buff, priority);
    SAME_FIELD(SkBuffMd, __sk_buff, ingress_ifindex);
    SAME_FIELD(SkBuffMd, __sk_buff, ifindex);
    SAME_FIELD(SkBuffMd, __sk_buff, tc_index);
    SAME_FIELD(SkBuffMd, __sk_buff, cb);
    SAME_FIELD(SkBuffMd, __sk_buff, hash);
    SAME_FIELD(SkBuffMd, __sk_buff, tc_classid);
    SAME_FIELD(SkBuffMd, __sk_buff, data);
    SAME_FIELD(SkBuffMd, __sk_buff, data_end);
    SAME_FIELD(SkBuffMd, __sk_buff, napi_id);
    SAME_FIELD(SkBuffMd, __sk_buff, family);
    SAME_FIELD(SkBuffMd, __sk_buff, remote_ip4);
    SAME_FIELD(SkBuffMd, __sk_buff, local_ip4);
    SAME_FIELD(SkBuffMd, __sk_buff, remote_ip6);
    SAME_FIELD(SkBuffMd, __sk_buff, local_ip6);
    SAME_FIELD(SkBuffMd, __sk_buff, remote_port);
    SAME_FIELD(SkBuffMd, __sk_buff, local_port);
    SAME_FIELD(SkBuffMd, __sk_buff, data_meta);
    SAME_FIELD(SkBuffMd, __sk_buff, flow_keys);
    SAME_FIELD(SkBuffMd, __sk_buff, tstamp);
    SAME_FIELD(SkBuffMd, __sk_buff, wire_len);
    SAME_FIELD(SkBuffMd, __sk_buff, gso_segs);
    SAME_FIELD(SkBuffMd, __sk_buff, sk);
    SAME_FIELD(SkBuffMd, __sk_buff, gso_size);
    SAME_FIELD(SkBuffMd, __sk_buff, tstamp_type);
    SAME_FIELD(SkBuffMd, __sk_buff, hwtstamp);
}

TEST_CASE("xdp_md matches linux/bpf.h", "[progtypes][layout]") {
    using ebpf::uapi::XdpMd;
    CHECK(sizeof(XdpMd) == sizeof(xdp_md));
    SAME_FIELD(XdpMd, xdp_md, data);
    SAME_FIELD(XdpMd, xdp_md, data_end);
    SAME_FIELD(XdpMd, xdp_md, data_meta);
    SAME_FIELD(XdpMd, xdp_md, ingress_ifindex);
    SAME_FIELD(XdpMd, xdp_md, rx_queue_index);
    SAME_FIELD(XdpMd, xdp_md, egress_ifindex);
}

TEST_CASE("UAPI numbers match linux/bpf.h", "[progtypes][layout]") {
    using namespace ebpf::uapi;
    CHECK(static_cast<int>(XdpAction::aborted) == XDP_ABORTED);
    CHECK(static_cast<int>(XdpAction::drop) == XDP_DROP);
    CHECK(static_cast<int>(XdpAction::pass) == XDP_PASS);
    CHECK(static_cast<int>(XdpAction::tx) == XDP_TX);
    CHECK(static_cast<int>(XdpAction::redirect) == XDP_REDIRECT);
    CHECK(bpf_cgroup_inet_ingress == BPF_CGROUP_INET_INGRESS);
    CHECK(bpf_cgroup_inet_egress == BPF_CGROUP_INET_EGRESS);
}

#if defined(__x86_64__)
TEST_CASE("x86-64 pt_regs and bpf_perf_event_data match asm/ptrace.h", "[progtypes][layout]") {
    using ebpf::uapi::PtRegsX86_64;
    CHECK(sizeof(PtRegsX86_64) == sizeof(pt_regs));
    SAME_FIELD(PtRegsX86_64, pt_regs, r15);
    SAME_FIELD(PtRegsX86_64, pt_regs, r14);
    SAME_FIELD(PtRegsX86_64, pt_regs, r13);
    SAME_FIELD(PtRegsX86_64, pt_regs, r12);
    SAME_FIELD(PtRegsX86_64, pt_regs, rbp);
    SAME_FIELD(PtRegsX86_64, pt_regs, rbx);
    SAME_FIELD(PtRegsX86_64, pt_regs, r11);
    SAME_FIELD(PtRegsX86_64, pt_regs, r10);
    SAME_FIELD(PtRegsX86_64, pt_regs, r9);
    SAME_FIELD(PtRegsX86_64, pt_regs, r8);
    SAME_FIELD(PtRegsX86_64, pt_regs, rax);
    SAME_FIELD(PtRegsX86_64, pt_regs, rcx);
    SAME_FIELD(PtRegsX86_64, pt_regs, rdx);
    SAME_FIELD(PtRegsX86_64, pt_regs, rsi);
    SAME_FIELD(PtRegsX86_64, pt_regs, rdi);
    SAME_FIELD(PtRegsX86_64, pt_regs, orig_rax);
    SAME_FIELD(PtRegsX86_64, pt_regs, rip);
    SAME_FIELD(PtRegsX86_64, pt_regs, cs);
    SAME_FIELD(PtRegsX86_64, pt_regs, eflags);
    SAME_FIELD(PtRegsX86_64, pt_regs, rsp);
    SAME_FIELD(PtRegsX86_64, pt_regs, ss);

    using Data = ebpf::uapi::PerfEventData<PtRegsX86_64>;
    CHECK(sizeof(Data) == sizeof(bpf_perf_event_data));
    SAME_FIELD(Data, bpf_perf_event_data, regs);
    SAME_FIELD(Data, bpf_perf_event_data, sample_period);
    SAME_FIELD(Data, bpf_perf_event_data, addr);
}
#endif

#if defined(__aarch64__)
TEST_CASE("arm64 user_pt_regs and bpf_perf_event_data match asm/ptrace.h", "[progtypes][layout]") {
    using ebpf::uapi::UserPtRegsArm64;
    CHECK(sizeof(UserPtRegsArm64) == sizeof(user_pt_regs));
    SAME_FIELD(UserPtRegsArm64, user_pt_regs, regs);
    SAME_FIELD(UserPtRegsArm64, user_pt_regs, sp);
    SAME_FIELD(UserPtRegsArm64, user_pt_regs, pc);
    SAME_FIELD(UserPtRegsArm64, user_pt_regs, pstate);

    using Data = ebpf::uapi::PerfEventData<UserPtRegsArm64>;
    CHECK(sizeof(Data) == sizeof(bpf_perf_event_data));
    SAME_FIELD(Data, bpf_perf_event_data, regs);
    SAME_FIELD(Data, bpf_perf_event_data, sample_period);
    SAME_FIELD(Data, bpf_perf_event_data, addr);
}
#endif

} // namespace
#endif
