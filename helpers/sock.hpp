// Sockets as the socket helpers (net/core/filter.c: bpf_sk_lookup_*, bpf_sk_fullsock,
// bpf_tcp_sock, bpf_get_listener_sock, bpf_skc_to_*) hand them to programs. A program reads a
// socket through a pointer the verifier types as bpf_sock, bpf_sock_common or bpf_tcp_sock, and the
// kernel rewrites those loads onto struct sock (bpf_sock_convert_ctx_access). Here the loads are
// not rewritten: a Sock holds the UAPI structs themselves, and a helper returns the address of the
// one the verifier's type names. The host keeps them current (sk_state in sk.state, ...).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace ebpf {

// struct bpf_sock of linux/bpf.h
struct BpfSock {
    uint32_t bound_dev_if;
    uint32_t family;
    uint32_t type;
    uint32_t protocol;
    uint32_t mark;
    uint32_t priority;
    uint32_t src_ip4; // network byte order (sk_rcv_saddr)
    uint32_t src_ip6[4];
    uint32_t src_port; // host byte order (sk_num)
    uint16_t dst_port; // network byte order; the 16 bits after it stay zero
    uint16_t dst_port_pad;
    uint32_t dst_ip4; // network byte order (sk_daddr)
    uint32_t dst_ip6[4];
    uint32_t state; // sk_state: TCP_ESTABLISHED, TCP_LISTEN, ...
    int32_t rx_queue_mapping;
};
static_assert(sizeof(BpfSock) == 80);

// struct bpf_tcp_sock of linux/bpf.h
struct BpfTcpSock {
    uint32_t snd_cwnd, srtt_us, rtt_min, snd_ssthresh, rcv_nxt, snd_nxt, snd_una, mss_cache,
        ecn_flags, rate_delivered, rate_interval_us, packets_out, retrans_out, total_retrans,
        segs_in, data_segs_in, segs_out, data_segs_out, lost_out, sacked_out;
    uint64_t bytes_received, bytes_acked;
    uint32_t dsack_dups, delivered, delivered_ce, icsk_retransmits;
};
static_assert(sizeof(BpfTcpSock) == 112);

// include/net/tcp_states.h, and the protocols and socket types a lookup tells apart.
namespace tcp_state {
inline constexpr uint32_t established = 1, syn_sent = 2, syn_recv = 3, time_wait = 6, close = 7,
                          listen = 10, new_syn_recv = 12;
}
inline constexpr uint32_t ipproto_tcp = 6, ipproto_udp = 17;
inline constexpr uint32_t sock_stream = 1, sock_dgram = 2;
// NO_QUEUE_MAPPING, as a program reads it from rx_queue_mapping
inline constexpr int32_t sock_no_queue_mapping = -1;

// One socket. The verifier lets a helper that takes a socket take either view (bpf_sk_release of a
// bpf_tcp_sock), so each view is preceded by its offset in the Sock: a helper goes back from the
// view to the socket. A program never reads those words (the verifier refuses negative offsets).
struct Sock {
    uint64_t sk_at = 8;
    BpfSock sk{}; // the bpf_sock and bpf_sock_common view
    uint64_t tcp_at = 96;
    BpfTcpSock tcp{}; // the bpf_tcp_sock view, read only for TCP sockets
    // A request socket's (TCP_NEW_SYN_RECV) listener: what sk_to_full_sk gives for it.
    Sock* listener = nullptr;
    // The cgroup (v2) the socket was created in, as the ids of its path from the root, root first:
    // what bpf_skb_cgroup_id, bpf_sk_cgroup_id and their ancestor forms report. Empty: the root
    // cgroup alone (id 1), where a socket of a task in no other cgroup is. The host owns the ids.
    std::span<const uint64_t> cgroup_path;
    // The net_cls (cgroup v1) class id of the socket's cgroup, which bpf_skb_cgroup_classid
    // reports: 0 when the host has net_cls give it none.
    uint32_t cgroup_classid = 0;
    // bpf_get_socket_cookie's answer: 0 until a program first asks, when the socket gets the
    // next of the process's cookies (1, 2, ...), as the kernel gives them; the host may set one.
    uint64_t cookie = 0;
    // The uid bpf_get_socket_uid reports (sock_net_uid): the owner of the socket's file, or 0 for
    // a socket with no file, as the test run's.
    uint32_t uid = 0;

    // The view the verifier calls a socket (bpf_sock, bpf_sock_common, a BTF pointer).
    uint64_t sk_view() const { return reinterpret_cast<uint64_t>(&sk); }
    uint64_t tcp_view() const { return reinterpret_cast<uint64_t>(&tcp); }

    // The socket a view belongs to. Only for an address a helper got as a socket argument.
    static Sock* of_view(uint64_t view) {
        const uint64_t at = *reinterpret_cast<const uint64_t*>(view - 8);
        return reinterpret_cast<Sock*>(view - at);
    }
};
static_assert(offsetof(Sock, sk) == 8 && offsetof(Sock, tcp) == 96);

// sk_fullsock: neither a time-wait nor a request mini-socket.
inline bool sk_fullsock(const Sock& s) {
    return s.sk.state != tcp_state::time_wait && s.sk.state != tcp_state::new_syn_recv;
}

// struct bpf_sock_tuple's two forms: a lookup's length argument says which.
inline constexpr uint32_t sock_tuple_ipv4_len = 12, sock_tuple_ipv6_len = 36;

// What a socket lookup searches for (bpf_sk_lookup_tcp/udp, bpf_skc_lookup_tcp).
struct SockLookup {
    const void* tuple = nullptr; // struct bpf_sock_tuple: the packet's view (saddr is remote)
    uint32_t len = 0;            // its size: says the family
    uint32_t protocol = 0;       // ipproto_tcp or ipproto_udp
    uint64_t netns_id = 0;
    uint64_t flags = 0;
    uint32_t ifindex = 0; // the device the packet came on: sockets bound to another don't match
};

// __bpf_skc_lookup over the run's socket table: the best match, or null. Established (and
// time-wait, request) TCP sockets match the whole 4-tuple, listeners and UDP sockets what they
// are bound and connected to, the most specific winning.
Sock* skc_lookup(std::span<Sock* const> table, const SockLookup& q);
// __bpf_sk_lookup: the same lookup for full sockets only (a request socket gives its listener, a
// time-wait socket nothing), as the address of the socket's bpf_sock; 0 for none.
uint64_t sk_lookup_full(std::span<Sock* const> table, const SockLookup& q);

} // namespace ebpf
