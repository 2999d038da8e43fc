// The contexts programs see, laid out as linux/bpf.h (and asm/ptrace.h, linux/bpf_perf_event.h)
// define them, and the UAPI numbers that go with them. The project's own definitions: nothing in
// vm/ includes a Linux header. tests/progtypes/test_layouts.cpp checks them against the kernel's
// headers on Linux.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ebpf::uapi {

// struct __sk_buff: the program's view of a socket buffer (socket_filter, sched_cls, sched_act,
// cgroup_skb, ...). New fields are only ever added at the end.
struct SkBuffMd {
    uint32_t len;
    uint32_t pkt_type;
    uint32_t mark;
    uint32_t queue_mapping;
    uint32_t protocol; // network byte order in its low 16 bits
    uint32_t vlan_present;
    uint32_t vlan_tci;
    uint32_t vlan_proto;
    uint32_t priority;
    uint32_t ingress_ifindex;
    uint32_t ifindex;
    uint32_t tc_index;
    uint32_t cb[5];
    uint32_t hash;
    uint32_t tc_classid;
    uint32_t data;     // a packet pointer, read as 32 bits and rewritten to a 64-bit load
    uint32_t data_end; // likewise
    uint32_t napi_id;
    // sk_skb's socket fields, from family to local_port
    uint32_t family;
    uint32_t remote_ip4; // network byte order
    uint32_t local_ip4;  // network byte order
    uint32_t remote_ip6[4];
    uint32_t local_ip6[4];
    uint32_t remote_port; // network byte order
    uint32_t local_port;  // host byte order
    uint32_t data_meta;
    alignas(8) uint64_t flow_keys; // __bpf_md_ptr(struct bpf_flow_keys *)
    uint64_t tstamp;
    uint32_t wire_len;
    uint32_t gso_segs;
    alignas(8) uint64_t sk; // __bpf_md_ptr(struct bpf_sock *)
    uint32_t gso_size;
    uint8_t tstamp_type;
    uint8_t padding[3]; // __u32 :24
    uint64_t hwtstamp;
};
static_assert(sizeof(SkBuffMd) == 192);
inline constexpr int sk_buff_cb_end = offsetof(SkBuffMd, cb) + sizeof(SkBuffMd::cb);

// struct xdp_md
struct XdpMd {
    uint32_t data;
    uint32_t data_end;
    uint32_t data_meta;
    uint32_t ingress_ifindex; // rxq->dev->ifindex
    uint32_t rx_queue_index;  // rxq->queue_index
    uint32_t egress_ifindex;  // txq->dev->ifindex (BPF_XDP_DEVMAP programs only)
};
static_assert(sizeof(XdpMd) == 24);

// struct pt_regs of x86-64 as asm/ptrace.h gives it to user space: the kprobe context, and the
// registers of bpf_perf_event_data (bpf_user_pt_regs_t) on x86-64.
struct PtRegsX86_64 {
    uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
    uint64_t rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs, eflags, rsp, ss;
};
static_assert(sizeof(PtRegsX86_64) == 168);

// struct user_pt_regs of arm64: bpf_user_pt_regs_t there, and what libbpf's PT_REGS macros read
// from a kprobe context.
struct UserPtRegsArm64 {
    uint64_t regs[31];
    uint64_t sp;
    uint64_t pc;
    uint64_t pstate;
};
static_assert(sizeof(UserPtRegsArm64) == 272);

// struct bpf_perf_event_data, for the registers of either architecture.
template <typename Regs> struct PerfEventData {
    Regs regs;
    uint64_t sample_period;
    uint64_t addr;
};

// struct bpf_raw_tracepoint_args is a flexible array of u64; the kernel lets a program read up to
// MAX_BPF_FUNC_ARGS of them.
inline constexpr int MAX_BPF_FUNC_ARGS = 12;
struct RawTracepointArgs {
    uint64_t args[MAX_BPF_FUNC_ARGS];
};

// A tracepoint program reads the perf trace record itself; its first 8 bytes (the common fields,
// where the kernel keeps a pointer to the pt_regs) are hidden from the program.
inline constexpr int PERF_MAX_TRACE_SIZE = 8192;
inline constexpr int tracepoint_hidden_bytes = 8;

// The numbers below are the kernel's, under lower-case names: their kernel spellings are macros
// in system headers (sys/socket.h, net/ethernet.h, linux/pkt_cls.h) that a file including this
// one may also include.

// enum xdp_action
enum class XdpAction : int32_t { aborted = 0, drop = 1, pass = 2, tx = 3, redirect = 4 };

// linux/pkt_cls.h TC_ACT_*
enum class TcAction : int32_t {
    unspec = -1,
    ok = 0,
    reclassify = 1,
    shot = 2,
    pipe = 3,
    stolen = 4,
    queued = 5,
    repeat = 6,
    redirect = 7,
    trap = 8,
};

// linux/if_packet.h PACKET_*: sk_buff's pkt_type
inline constexpr uint8_t packet_host = 0, packet_broadcast = 1, packet_multicast = 2,
                         packet_otherhost = 3;

// linux/if_ether.h
inline constexpr int eth_alen = 6, eth_hlen = 14;
inline constexpr uint16_t eth_p_802_3 = 0x0001, eth_p_802_2 = 0x0004, eth_p_ip = 0x0800,
                          eth_p_ipv6 = 0x86DD, eth_p_802_3_min = 0x0600;

// Socket families (sock_common's skc_family)
inline constexpr uint16_t af_unspec = 0, af_inet = 2, af_inet6 = 10;

// enum bpf_attach_type values that change a program type's rules.
inline constexpr uint32_t bpf_cgroup_inet_ingress = 0, bpf_cgroup_inet_egress = 1;

} // namespace ebpf::uapi
