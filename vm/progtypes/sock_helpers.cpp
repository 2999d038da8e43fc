// The helpers that look past the packet into the host's network stack (net/core/filter.c), for
// the skb types and xdp: socket lookups in the run's socket table (helpers/sock.hpp), and
// bpf_fib_lookup in a namespace that has the loopback device only, forwarding off (the sysctl
// default), and so no route to look up.
#include "helpers/helper_errno.hpp"
#include "helpers/sock.hpp"
#include "vm/progtypes/progtype_helpers.hpp"
#include "vm/progtypes/skb.hpp"
#include "vm/progtypes/xdp.hpp"

#include <cstring>

namespace ebpf::progtypes {
namespace {

uint64_t ret(long v) {
    return static_cast<uint64_t>(v);
}

// The device the packet came on (sockets bound to another device don't match), from the run's
// context; 0 (none) for a context the run did not attach.
uint32_t ctx_ifindex(uint64_t r1, const RunState* state) {
    if (reinterpret_cast<void*>(r1) != state->ctx) return 0;
    if (state->ctx_prog_type == static_cast<uint32_t>(ProgType::xdp))
        return reinterpret_cast<const XdpBuff*>(r1)->ingress_ifindex;
    return reinterpret_cast<const SkBuff*>(r1)->ifindex;
}

SockLookup lookup(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                  uint32_t protocol, const RunState* state) {
    return {reinterpret_cast<const void*>(r2),
            static_cast<uint32_t>(r3),
            protocol,
            r4,
            r5,
            ctx_ifindex(r1, state)};
}

// linux/bpf.h: struct bpf_fib_lookup, its flags and results.
constexpr uint32_t fib_lookup_size = 64;
constexpr uint64_t fib_flags = 0x3f; // DIRECT, OUTPUT, SKIP_NEIGH, TBID, SRC, MARK
constexpr uint64_t BPF_FIB_LKUP_RET_NOT_FWDED = 4, BPF_FIB_LKUP_RET_FWD_DISABLED = 5;
constexpr uint8_t af_inet = 2, af_inet6 = 10;
constexpr uint32_t loopback_ifindex = 1;
constexpr size_t fib_ifindex_at = 8, fib_ipv6_src_at = 16, fib_ipv6_dst_at = 32;

// rt6_need_strict: multicast, link-local and loopback addresses are never forwarded.
bool need_strict(const uint8_t* a) {
    static constexpr uint8_t loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return a[0] == 0xff || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) ||
           std::memcmp(a, loopback, 16) == 0;
}

} // namespace

uint64_t sk_lookup_tcp(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                       RunState* state) {
    return sk_lookup_full(state->sockets, lookup(r1, r2, r3, r4, r5, ipproto_tcp, state));
}

uint64_t sk_lookup_udp(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                       RunState* state) {
    return sk_lookup_full(state->sockets, lookup(r1, r2, r3, r4, r5, ipproto_udp, state));
}

uint64_t skc_lookup_tcp(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                        RunState* state) {
    const Sock* s = skc_lookup(state->sockets, lookup(r1, r2, r3, r4, r5, ipproto_tcp, state));
    return s ? s->sk_view() : 0;
}

// bpf_xdp_fib_lookup and bpf_skb_fib_lookup agree up to the route lookup, which is as far as a
// namespace without forwarding gets: the parameters are left as they were.
uint64_t fib_lookup(uint64_t, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t, RunState*) {
    const auto* params = reinterpret_cast<const uint8_t*>(r2);
    if (static_cast<int32_t>(r3) < static_cast<int32_t>(fib_lookup_size) || (r4 & ~fib_flags))
        return ret(-herr::einval);
    uint32_t ifindex;
    std::memcpy(&ifindex, params + fib_ifindex_at, 4);
    switch (params[0]) {
    case af_inet: break;
    case af_inet6:
        if (need_strict(params + fib_ipv6_dst_at) || need_strict(params + fib_ipv6_src_at))
            return BPF_FIB_LKUP_RET_NOT_FWDED;
        break;
    default: return ret(-herr::eafnosupport);
    }
    return ifindex == loopback_ifindex ? BPF_FIB_LKUP_RET_FWD_DISABLED : ret(-herr::enodev);
}

} // namespace ebpf::progtypes
