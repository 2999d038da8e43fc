// The socket lookup and the socket helpers that need no context (net/core/filter.c): release,
// fullsock, tcp_sock, the listener, and the bpf_skc_to_* casts.
#include "helpers/sock.hpp"

#include "helpers/kernel_helpers.hpp"
#include "helpers/run_state.hpp"

#include <cstring>

namespace ebpf {
namespace {

constexpr uint16_t af_inet = 2, af_inet6 = 10;

uint16_t ntohs(uint16_t v) {
    return static_cast<uint16_t>(v << 8 | v >> 8);
}

// The tuple's two ends, addresses as 16 bytes (IPv4 in the first 4).
struct Tuple {
    uint16_t family = 0;
    uint32_t remote[4] = {}, local[4] = {};
    uint16_t remote_port = 0, local_port = 0; // network byte order
};

bool parse_tuple(const SockLookup& q, Tuple& t) {
    const auto* p = static_cast<const uint8_t*>(q.tuple);
    size_t addr_len = 0;
    if (q.len == sock_tuple_ipv4_len) {
        t.family = af_inet;
        addr_len = 4;
    } else if (q.len == sock_tuple_ipv6_len) {
        t.family = af_inet6;
        addr_len = 16;
    } else {
        return false;
    }
    std::memcpy(t.remote, p, addr_len);
    std::memcpy(t.local, p + addr_len, addr_len);
    std::memcpy(&t.remote_port, p + 2 * addr_len, 2);
    std::memcpy(&t.local_port, p + 2 * addr_len + 2, 2);
    return true;
}

bool is_any(const uint32_t* a, size_t n) {
    for (size_t i = 0; i < n; ++i)
        if (a[i]) return false;
    return true;
}

// How well a socket fits the tuple: -1 for no match, higher for more specific (compute_score of
// the TCP and UDP lookups, reduced to what the socket states).
int score(const Sock& s, const Tuple& t, uint32_t protocol, uint32_t ifindex) {
    const BpfSock& k = s.sk;
    if (k.family != t.family || k.protocol != protocol || k.src_port != ntohs(t.local_port))
        return -1;
    if (k.bound_dev_if && k.bound_dev_if != ifindex) return -1;
    const bool v4 = t.family == af_inet;
    const size_t n = v4 ? 1 : 4;
    const uint32_t* local = v4 ? &k.src_ip4 : k.src_ip6;
    const uint32_t* remote = v4 ? &k.dst_ip4 : k.dst_ip6;
    const bool local_eq = std::memcmp(local, t.local, n * 4) == 0;
    const bool remote_eq = std::memcmp(remote, t.remote, n * 4) == 0;
    const bool connected =
        protocol == ipproto_tcp ? k.state != tcp_state::listen : !is_any(remote, n) || k.dst_port;
    if (protocol == ipproto_tcp && k.state == tcp_state::close) return -1; // not hashed
    if (protocol == ipproto_tcp && connected) {
        // The established table: the whole 4-tuple, ahead of any listener.
        return local_eq && remote_eq && k.dst_port == t.remote_port ? 8 : -1;
    }
    int points = 1;
    if (!is_any(local, n)) {
        if (!local_eq) return -1;
        points += 2;
    }
    if (protocol == ipproto_udp) {
        if (!is_any(remote, n)) {
            if (!remote_eq) return -1;
            points += 2;
        }
        if (k.dst_port) {
            if (k.dst_port != t.remote_port) return -1;
            points += 2;
        }
    }
    if (k.bound_dev_if) points += 1;
    return points;
}

uint64_t ptr(const Sock* s, bool tcp_view = false) {
    return s ? (tcp_view ? s->tcp_view() : s->sk_view()) : 0;
}

// sk_to_full_sk: a request socket stands for its listener.
Sock* full_sk(Sock* s) {
    return s && s->sk.state == tcp_state::new_syn_recv ? s->listener : s;
}

} // namespace

Sock* skc_lookup(std::span<Sock* const> table, const SockLookup& q) {
    Tuple t;
    if (!parse_tuple(q, t)) return nullptr;
    // Only the caller's namespace has sockets: a namespace id (>= 0) names a peer namespace this
    // host has none of, and flags are reserved.
    if (q.flags || static_cast<int32_t>(q.netns_id) >= 0) return nullptr;
    Sock* best = nullptr;
    int best_score = -1;
    for (Sock* s : table) {
        const int points = score(*s, t, q.protocol, q.ifindex);
        if (points > best_score) {
            best = s;
            best_score = points;
        }
    }
    return best;
}

namespace helpers {

uint64_t sk_release(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunState*) {
    return 0; // the host owns its sockets: no reference to drop
}

uint64_t sk_fullsock(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, RunState*) {
    Sock* s = Sock::of_view(r1);
    return ebpf::sk_fullsock(*s) ? ptr(s) : 0;
}

uint64_t tcp_sock(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, RunState*) {
    Sock* s = Sock::of_view(r1);
    return ebpf::sk_fullsock(*s) && s->sk.protocol == ipproto_tcp ? ptr(s, true) : 0;
}

// A TCP listener (the kernel also asks for SOCK_RCU_FREE, which TCP listeners have).
uint64_t get_listener_sock(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, RunState*) {
    Sock* s = full_sk(Sock::of_view(r1));
    return s && s->sk.state == tcp_state::listen && s->sk.protocol == ipproto_tcp ? ptr(s) : 0;
}

// The casts to BTF types: the socket itself when it is of the type, as a BTF pointer (which the
// verifier lets a program pass to helpers but not read through). Null stays null.
uint64_t skc_to_tcp_sock(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, RunState*) {
    if (!r1) return 0;
    Sock* s = Sock::of_view(r1);
    return ebpf::sk_fullsock(*s) && s->sk.protocol == ipproto_tcp ? ptr(s) : 0;
}

uint64_t skc_to_tcp6_sock(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, RunState*) {
    if (!r1) return 0;
    Sock* s = Sock::of_view(r1);
    return ebpf::sk_fullsock(*s) && s->sk.protocol == ipproto_tcp && s->sk.family == af_inet6
               ? ptr(s)
               : 0;
}

uint64_t skc_to_tcp_timewait_sock(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, RunState*) {
    if (!r1) return 0;
    Sock* s = Sock::of_view(r1);
    return s->sk.protocol == ipproto_tcp && s->sk.state == tcp_state::time_wait ? ptr(s) : 0;
}

uint64_t skc_to_tcp_request_sock(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, RunState*) {
    if (!r1) return 0;
    Sock* s = Sock::of_view(r1);
    return s->sk.protocol == ipproto_tcp && s->sk.state == tcp_state::new_syn_recv ? ptr(s) : 0;
}

uint64_t skc_to_udp6_sock(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, RunState*) {
    if (!r1) return 0;
    Sock* s = Sock::of_view(r1);
    return ebpf::sk_fullsock(*s) && s->sk.protocol == ipproto_udp && s->sk.type == sock_dgram &&
                   s->sk.family == af_inet6
               ? ptr(s)
               : 0;
}

} // namespace helpers

// __bpf_sk_lookup: a lookup that gives full sockets only (a request socket's listener).
uint64_t sk_lookup_full(std::span<Sock* const> table, const SockLookup& q) {
    Sock* s = full_sk(skc_lookup(table, q));
    return s && sk_fullsock(*s) ? ptr(s) : 0;
}

} // namespace ebpf
