// tc's helpers that make or take room in the packet's headers (net/core/filter.c):
// bpf_skb_adjust_room, which grows or shrinks the room after the MAC header or after the network
// header (encapsulation and decapsulation), bpf_skb_change_proto, which makes IPv4 room IPv6 room
// and back (NAT46/64), and bpf_skb_change_head, which pushes room before the MAC header. Our
// sk_buff is tc's as bpf_prog_test_run_skb makes it: data at the MAC header, no transport header
// set, and a GSO packet only when ctx_in gives a gso_size, with no gso_type.
#include "helpers/csum.hpp"
#include "helpers/helper_errno.hpp"
#include "vm/progtypes/progtype_helpers.hpp"
#include "vm/progtypes/skb.hpp"

#include <cstring>

namespace ebpf::progtypes {
namespace {

// linux/bpf.h
constexpr uint32_t BPF_ADJ_ROOM_NET = 0, BPF_ADJ_ROOM_MAC = 1;
constexpr uint64_t BPF_F_ADJ_ROOM_FIXED_GSO = 1 << 0, BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 = 1 << 1,
                   BPF_F_ADJ_ROOM_ENCAP_L3_IPV6 = 1 << 2, BPF_F_ADJ_ROOM_ENCAP_L4_GRE = 1 << 3,
                   BPF_F_ADJ_ROOM_ENCAP_L4_UDP = 1 << 4, BPF_F_ADJ_ROOM_NO_CSUM_RESET = 1 << 5,
                   BPF_F_ADJ_ROOM_ENCAP_L2_ETH = 1 << 6, BPF_F_ADJ_ROOM_DECAP_L3_IPV4 = 1 << 7,
                   BPF_F_ADJ_ROOM_DECAP_L3_IPV6 = 1 << 8;
constexpr unsigned BPF_ADJ_ROOM_ENCAP_L2_SHIFT = 56;
constexpr uint64_t BPF_ADJ_ROOM_ENCAP_L2_MASK = 0xff;
// net/core/filter.c
constexpr uint64_t BPF_F_ADJ_ROOM_ENCAP_L3_MASK =
    BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L3_IPV6;
constexpr uint64_t BPF_F_ADJ_ROOM_DECAP_L3_MASK =
    BPF_F_ADJ_ROOM_DECAP_L3_IPV4 | BPF_F_ADJ_ROOM_DECAP_L3_IPV6;
constexpr uint64_t BPF_F_ADJ_ROOM_MASK =
    BPF_F_ADJ_ROOM_FIXED_GSO | BPF_F_ADJ_ROOM_ENCAP_L3_MASK | BPF_F_ADJ_ROOM_ENCAP_L4_GRE |
    BPF_F_ADJ_ROOM_ENCAP_L4_UDP | BPF_F_ADJ_ROOM_ENCAP_L2_ETH |
    BPF_ADJ_ROOM_ENCAP_L2_MASK << BPF_ADJ_ROOM_ENCAP_L2_SHIFT | BPF_F_ADJ_ROOM_DECAP_L3_MASK;
constexpr uint32_t iphdr_len = 20, ipv6hdr_len = 40;

uint64_t ret(long v) {
    return static_cast<uint64_t>(v);
}

uint16_t be16(uint16_t v) {
    return static_cast<uint16_t>(v << 8 | v >> 8);
}

bool is_ipv4(const SkBuff& skb) {
    return skb.protocol == be16(uapi::eth_p_ip);
}
bool is_ipv6(const SkBuff& skb) {
    return skb.protocol == be16(uapi::eth_p_ipv6);
}

// bpf_skb_net_base_len
uint32_t net_base_len(const SkBuff& skb) {
    return is_ipv4(skb) ? iphdr_len : is_ipv6(skb) ? ipv6hdr_len : ~0u;
}

// A GSO packet of a test run has no gso_type: neither TCP nor UDP_L4, which bpf_skb_net_grow and
// _shrink refuse.
bool is_gso(const SkBuff& skb) {
    return skb.gso_size != 0;
}

// __skb_reset_checksum_unnecessary
void reset_checksum_unnecessary(SkBuff& skb) {
    if (skb.ip_summed == checksum_unnecessary) {
        skb.ip_summed = checksum_none;
        skb.csum_level = 0;
    }
}

// bpf_skb_net_hdr_push: len zeroed bytes at off from data; the headers before them move down.
void net_hdr_push(SkBuff& skb, uint32_t off, uint32_t len) {
    skb.data -= len;
    skb.data_meta -= len;
    skb.len += len;
    std::memmove(skb.data, skb.data + len, off);
    std::memset(skb.data + off, 0, len);
    skb.mac_header -= len;
    skb.network_header -= len;
}

// bpf_skb_net_hdr_pop: len bytes at off go; the headers before them move up.
long net_hdr_pop(SkBuff& skb, uint32_t off, uint32_t len) {
    if (uint64_t{off} + len > skb.len) return -herr::enomem; // pskb_may_pull
    if (skb.ip_summed == checksum_complete)                  // skb_postpull_rcsum
        skb.csum = csum::sub(skb.csum, csum::partial(skb.data + off, len, 0));
    std::memmove(skb.data + len, skb.data, off);
    skb.data += len;
    skb.data_meta += len;
    skb.len -= len;
    skb.mac_header += len;
    skb.network_header += len;
    return 0;
}

long net_grow(SkBuff& skb, uint32_t off, uint32_t len_diff, uint64_t flags, RunState* state) {
    const auto inner_mac_len = static_cast<uint8_t>(flags >> BPF_ADJ_ROOM_ENCAP_L2_SHIFT);
    const bool encap = flags & BPF_F_ADJ_ROOM_ENCAP_L3_MASK;
    if (is_gso(skb)) return -herr::enotsupp;
    if (!skb_cow_head(skb, len_diff, state)) return -herr::enomem;
    uint32_t mac_len = 0;
    if (encap) {
        if (!is_ipv4(skb) && !is_ipv6(skb)) return -herr::enotsupp;
        if ((flags & BPF_F_ADJ_ROOM_ENCAP_L3_MASK) == BPF_F_ADJ_ROOM_ENCAP_L3_MASK ||
            (flags & BPF_F_ADJ_ROOM_ENCAP_L4_GRE && flags & BPF_F_ADJ_ROOM_ENCAP_L4_UDP))
            return -herr::einval;
        if (flags & BPF_F_ADJ_ROOM_ENCAP_L2_ETH && inner_mac_len < uapi::eth_hlen)
            return -herr::einval;
        if (skb.encapsulation) return -herr::ealready;
        mac_len = static_cast<uint32_t>(skb.network_header - skb.mac_header);
        if (inner_mac_len > len_diff) return -herr::einval;
    }
    net_hdr_push(skb, off, len_diff);
    if (encap) {
        // The inner headers are where the packet's were; the outer network header follows the
        // MAC header, of the family the flags name.
        skb.encapsulation = 1;
        skb.network_header = skb.data + mac_len;
        if (is_ipv4(skb) && flags & BPF_F_ADJ_ROOM_ENCAP_L3_IPV6)
            skb.protocol = be16(uapi::eth_p_ipv6);
        else if (is_ipv6(skb) && flags & BPF_F_ADJ_ROOM_ENCAP_L3_IPV4)
            skb.protocol = be16(uapi::eth_p_ip);
    }
    return 0;
}

long net_shrink(SkBuff& skb, uint32_t off, uint32_t len_diff, uint64_t flags) {
    if (flags &
        ~(BPF_F_ADJ_ROOM_FIXED_GSO | BPF_F_ADJ_ROOM_DECAP_L3_MASK | BPF_F_ADJ_ROOM_NO_CSUM_RESET))
        return -herr::einval;
    if (is_gso(skb)) return -herr::enotsupp;
    if (long err = net_hdr_pop(skb, off, len_diff)) return err;
    if (is_ipv4(skb) && flags & BPF_F_ADJ_ROOM_DECAP_L3_IPV6)
        skb.protocol = be16(uapi::eth_p_ipv6);
    else if (is_ipv6(skb) && flags & BPF_F_ADJ_ROOM_DECAP_L3_IPV4)
        skb.protocol = be16(uapi::eth_p_ip);
    return 0;
}

} // namespace

uint64_t skb_adjust_room(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t,
                         RunState* state) {
    SkBuff* skb = skb_arg(r1, state, "bpf_skb_adjust_room");
    if (!skb) return 0;
    const auto len_diff = static_cast<int32_t>(r2);
    const auto mode = static_cast<uint32_t>(r3);
    const uint64_t flags = r4;
    // abs() of an s32 as the kernel's u32 holds it (INT_MIN stays 0x80000000).
    const uint32_t len_diff_abs =
        len_diff < 0 ? 0u - static_cast<uint32_t>(len_diff) : static_cast<uint32_t>(len_diff);
    const bool shrink = len_diff < 0;
    if (flags & ~(BPF_F_ADJ_ROOM_MASK | BPF_F_ADJ_ROOM_NO_CSUM_RESET)) return ret(-herr::einval);
    if (len_diff_abs > 0xfff) return ret(-herr::efault);
    if (!is_ipv4(*skb) && !is_ipv6(*skb)) return ret(-herr::enotsupp);

    uint32_t len_min = net_base_len(*skb);
    auto off = static_cast<uint32_t>(skb->network_header - skb->mac_header);
    if (mode == BPF_ADJ_ROOM_NET)
        off += len_min;
    else if (mode != BPF_ADJ_ROOM_MAC)
        return ret(-herr::enotsupp);
    if (flags & BPF_F_ADJ_ROOM_DECAP_L3_MASK) {
        if (!shrink) return ret(-herr::einval);
        switch (flags & BPF_F_ADJ_ROOM_DECAP_L3_MASK) {
        case BPF_F_ADJ_ROOM_DECAP_L3_IPV4: len_min = iphdr_len; break;
        case BPF_F_ADJ_ROOM_DECAP_L3_IPV6: len_min = ipv6hdr_len; break;
        default: return ret(-herr::einval);
        }
    }
    const uint32_t len_cur = skb->len - static_cast<uint32_t>(skb->network_header - skb->data);
    if ((shrink && (len_diff_abs >= len_cur || len_cur - len_diff_abs < len_min)) ||
        (!shrink && uint64_t{skb->len} + len_diff_abs > bpf_skb_max_len && !is_gso(*skb)))
        return ret(-herr::enotsupp);

    const long err = shrink ? net_shrink(*skb, off, len_diff_abs, flags)
                            : net_grow(*skb, off, len_diff_abs, flags, state);
    if (!err && !(flags & BPF_F_ADJ_ROOM_NO_CSUM_RESET)) reset_checksum_unnecessary(*skb);
    packet_moved(*skb, state);
    return ret(err);
}

// bpf_skb_proto_xlat: 20 zeroed bytes after the MAC header for IPv4 to IPv6, 20 fewer there for
// IPv6 to IPv4, the protocol changed and the hash cleared; the program writes the new header.
uint64_t skb_change_proto(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t, uint64_t,
                          RunState* state) {
    SkBuff* skb = skb_arg(r1, state, "bpf_skb_change_proto");
    if (!skb) return 0;
    if (r3) return ret(-herr::einval);
    const auto to = static_cast<uint16_t>(r2); // a __be16
    const uint32_t len_diff = ipv6hdr_len - iphdr_len;
    const auto off = static_cast<uint32_t>(skb->network_header - skb->mac_header);
    if (is_ipv4(*skb) && to == be16(uapi::eth_p_ipv6)) {
        if (!skb_cow_head(*skb, len_diff, state)) return ret(-herr::enomem);
        net_hdr_push(*skb, off, len_diff);
    } else if (is_ipv6(*skb) && to == be16(uapi::eth_p_ip)) {
        if (long err = net_hdr_pop(*skb, off, len_diff)) return ret(err);
    } else {
        return ret(-herr::enotsupp);
    }
    skb->protocol = to;
    clear_hash(*skb);
    return 0;
}

// Zeroed room before the packet, which becomes its MAC header; the network header stays, for an
// L3 packet that needs a link layer pushed before a redirect to an L2 device.
uint64_t skb_change_head(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t, uint64_t,
                         RunState* state) {
    SkBuff* skb = skb_arg(r1, state, "bpf_skb_change_head");
    if (!skb) return 0;
    const auto head_room = static_cast<uint32_t>(r2);
    const uint32_t new_len = skb->len + head_room;
    if (r3 || (!is_gso(*skb) && new_len > bpf_skb_max_len) || new_len < skb->len)
        return ret(-herr::einval);
    long err = 0;
    if (skb_cow_head(*skb, head_room, state)) {
        skb->data -= head_room;
        skb->data_meta -= head_room;
        skb->len += head_room;
        std::memset(skb->data, 0, head_room);
        skb->mac_header = skb->data;
    } else {
        err = -herr::enomem;
    }
    packet_moved(*skb, state);
    return ret(err);
}

} // namespace ebpf::progtypes
