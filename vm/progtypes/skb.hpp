// The program types whose context is struct __sk_buff: socket_filter, sched_cls, sched_act and
// cgroup_skb. Their access rules (net/core/filter.c sk_filter_is_valid_access,
// tc_cls_act_is_valid_access, cg_skb_is_valid_access over bpf_skb_is_valid_access), the rewrite
// onto our sk_buff (bpf_convert_ctx_access), and the context bpf_prog_test_run_skb builds.
#pragma once

#include "helpers/sock.hpp"
#include "vm/progtypes/prog_type_info.hpp"
#include "vm/progtypes/test_run.hpp"
#include "vm/progtypes/uapi.hpp"

namespace ebpf {

static_assert(sizeof(void*) == 8, "runtime contexts hold 64-bit pointers");

// Our sk_buff: what the rewritten __sk_buff accesses read and write. The fields programs may write
// come first and together, so that checked mode can make exactly them writable.
// The tunnel metadata a packet carries (the kernel's ip_tunnel_info in a metadata dst): what a
// collect_md tunnel device gave it on receive, which the host sets before a run, or what
// bpf_skb_set_tunnel_key gave it for the device it is sent out of, which the host reads after.
struct TunnelInfo {
    bool present = false;
    bool tx = false;   // IP_TUNNEL_INFO_TX: metadata for sending
    bool ipv6 = false; // IP_TUNNEL_INFO_IPV6
    uint64_t tun_id = 0;
    // The outer addresses, in network byte order (IPv4: the first 4 bytes). On receive src is the
    // remote end; bpf_skb_set_tunnel_key puts the remote end in dst.
    uint8_t src[16] = {};
    uint8_t dst[16] = {};
    uint8_t tos = 0;
    uint8_t ttl = 0;
    uint32_t label = 0; // the IPv6 flow label
    uint16_t flags = 0; // the IP_TUNNEL_*_BIT flags below 16 (1 << IP_TUNNEL_CSUM_BIT, ...)
    // The tunnel options (Geneve, VXLAN GBP, ERSPAN, ...), options_len bytes.
    uint8_t options[255] = {};
    uint8_t options_len = 0;
};

// One IPsec state the packet went through on receive (an xfrm_state of its sec_path), as
// bpf_skb_get_xfrm_state reports it.
struct XfrmState {
    uint32_t reqid = 0;
    uint32_t spi = 0;       // network byte order
    uint16_t family = 0;    // AF_INET or AF_INET6
    uint8_t saddr[16] = {}; // the remote end, network byte order (IPv4: the first 4 bytes)
};

struct SkBuff {
    uint32_t cb[5]; // qdisc_skb_cb's data, 8-byte aligned as the kernel's for 8-byte accesses
    uint32_t mark;
    uint32_t priority;
    uint16_t tc_index;
    uint16_t tc_classid; // qdisc_skb_cb's tc_classid
    uint64_t tstamp;
    uint16_t queue_mapping;
    // Read-only from here.
    uint8_t pkt_type;
    uint8_t tstamp_type;
    uint32_t len;        // bytes from data to data_end: the buffer is linear
    uint16_t protocol;   // network byte order
    uint16_t vlan_proto; // network byte order
    uint16_t vlan_tci;
    uint16_t gso_segs; // skb_shinfo()'s
    uint16_t gso_size; // skb_shinfo()'s
    uint32_t vlan_present;
    uint32_t skb_iif; // ingress_ifindex
    uint32_t ifindex; // skb->dev->ifindex
    uint32_t hash;
    uint32_t napi_id;
    uint32_t wire_len;  // qdisc_skb_cb's pkt_len
    uint64_t hwtstamp;  // skb_shinfo()->hwtstamps
    uint8_t* data;      // data_meta <= data <= data_end
    uint8_t* data_end;  // data + len
    uint8_t* data_meta; // metadata (from XDP) ends at data
    BpfSock* sk;        // a Sock's bpf_sock; never null when a cgroup_skb program runs
    // The buffer the packet lies in (the kernel's skb->head and skb->end): helpers that grow the
    // packet (bpf_skb_change_tail) grow it in place up to end, and fail beyond.
    uint8_t* head;
    uint8_t* end;
    uint8_t* mac_header;     // where the link layer starts (skb_mac_header)
    uint8_t* network_header; // where the network layer starts (skb_network_header)
    // The checksum state: with CHECKSUM_COMPLETE, csum sums the packet from data on, and helpers
    // that change the packet keep it so (bpf_csum_update adds to it).
    uint8_t ip_summed;  // CHECKSUM_NONE, _UNNECESSARY, _COMPLETE, _PARTIAL
    uint8_t csum_level; // with CHECKSUM_UNNECESSARY: how many checksums were verified, less one
    uint32_t csum;
    uint8_t encapsulation; // bpf_skb_adjust_room pushed an outer header (skb->encapsulation)
    TunnelInfo tunnel;
    std::span<const XfrmState> sec_path; // the host's; empty: the packet came through no IPsec
    uint8_t sw_hash;        // hash was set in software (skb->sw_hash): bpf_get_hash_recalc keeps it
    uint32_t route_classid; // the tclassid of the route the packet took (skb_dst's); 0: none, as
                            // in a test run
};

// skb_clear_hash: no hash, to be computed again when asked.
inline void clear_hash(SkBuff& skb) {
    skb.hash = 0;
    skb.sw_hash = 0;
}

inline constexpr uint8_t checksum_none = 0, checksum_unnecessary = 1, checksum_complete = 2;

// The part of SkBuff a program type may write: [offsetof(SkBuff, cb), end).
struct SkBuffWritable {
    size_t begin;
    size_t end;
};
std::span<const SkBuffWritable> skb_writable(ProgType type);

// The context of the skb program types; null for other types.
const ProgTypeInfo* skb_prog_type_info(ProgType type);

// What bpf_prog_test_run_skb builds: a linear sk_buff over data_in with NET_SKB_PAD of headroom
// and room to grow to the largest packet bpf_skb_change_tail makes (as the kernel reallocates),
// its protocol and pkt_type from the Ethernet header as eth_type_trans sets them on the loopback
// device (ifindex 1), data at the Ethernet header for sched_cls and sched_act and past it for the
// others, a socket with the packet's family and IP addresses, and mark, priority, cb, tstamp,
// wire_len, gso_segs, gso_size, hwtstamp and ingress_ifindex from a ctx_in __sk_buff.
class SkbTestRun final : public RunContext {
  public:
    static Result<std::unique_ptr<SkbTestRun>> create(ProgType type, const TestRunInput& input);

    SkBuff& skb() { return skb_; }
    // The test run's socket (skb->sk): the host may set what it does not take from the packet
    // (its cgroup path).
    Sock& sock() { return sk_; }
    const Sock& sock() const { return sk_; }

    void* ctx() override { return &skb_; }
    Status attach(RunState& state) override;
    // For the types that see the packet from its network header, the kernel puts back a zeroed
    // Ethernet header before copying it out.
    std::vector<uint8_t> data_out() const override;
    std::optional<std::vector<uint8_t>> ctx_out() const override;

  private:
    SkbTestRun() = default;

    ProgType type_ = ProgType::unspec;
    bool is_l2_ = false;
    std::vector<uint8_t> buf_; // headroom, packet, tailroom
    SkBuff skb_{};
    Sock sk_{};
    std::optional<uapi::SkBuffMd> ctx_; // the ctx_in (or zeroed) __sk_buff, for ctx_out
};

} // namespace ebpf
