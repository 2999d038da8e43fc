// The helpers that look past the packet into the host's network stack (net/core/filter.c), for
// the skb types and xdp: socket lookups in the run's socket table (helpers/sock.hpp), and, in a
// namespace that has the loopback device only (ifindex 1, MTU 64 KiB, an Ethernet-sized
// hard header), bpf_fib_lookup with forwarding off (the sysctl default), and so no route to look
// up, and bpf_check_mtu.
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
constexpr int32_t loopback_mtu = 65536, loopback_hard_header_len = 14;
// linux/bpf.h: bpf_check_mtu's flag and results
constexpr uint64_t BPF_MTU_CHK_SEGS = 1;
constexpr uint64_t BPF_MTU_CHK_RET_SUCCESS = 0, BPF_MTU_CHK_RET_FRAG_NEEDED = 1;
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

// bpf_check_mtu: whether the packet, or the L3 length *mtu_len gives, grown by len_diff, fits the
// MTU of the device ifindex names (0: the packet's); *mtu_len gets that MTU (untouched on an
// error).
// The skb form takes BPF_MTU_CHK_SEGS, whose GSO check no packet of at most BPF_SKB_MAX_LEN
// reaches under the loopback's MTU; the xdp form takes no flag.
uint64_t check_mtu(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                   RunState* state) {
    const bool xdp = state->ctx_prog_type == static_cast<uint32_t>(ProgType::xdp);
    auto* mtu_len = reinterpret_cast<uint32_t*>(r3);
    const auto len_diff = static_cast<int32_t>(r4);
    const uint32_t ifindex =
        static_cast<uint32_t>(r2) ? static_cast<uint32_t>(r2) : ctx_ifindex(r1, state);
    if (xdp ? r5 != 0 : (r5 & ~BPF_MTU_CHK_SEGS) || (r5 && (len_diff || *mtu_len)))
        return ret(-herr::einval);
    if (ifindex != loopback_ifindex) return ret(-herr::enodev);
    uint32_t len;
    if (*mtu_len)
        len = *mtu_len + loopback_hard_header_len;
    else if (xdp)
        len = static_cast<uint32_t>(reinterpret_cast<const XdpBuff*>(r1)->data_end -
                                    reinterpret_cast<const XdpBuff*>(r1)->data);
    else
        len = reinterpret_cast<const SkBuff*>(r1)->len;
    // The kernel's int arithmetic, wrapping.
    const auto total = static_cast<int32_t>(len + static_cast<uint32_t>(len_diff));
    *mtu_len = loopback_mtu;
    // A GSO skb may be longer than the MTU: it is cut into segments on the way out.
    const bool gso = !xdp && reinterpret_cast<const SkBuff*>(r1)->gso_size;
    return total <= loopback_mtu + loopback_hard_header_len || gso ? BPF_MTU_CHK_RET_SUCCESS
                                                                   : BPF_MTU_CHK_RET_FRAG_NEEDED;
}

} // namespace ebpf::progtypes
