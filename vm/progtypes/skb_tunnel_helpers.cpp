// tc's tunnel metadata helpers (net/core/filter.c): bpf_skb_get_tunnel_key reads the packet's
// TunnelInfo as a struct bpf_tunnel_key, bpf_skb_set_tunnel_key gives the packet one for sending
// (the kernel's per-CPU metadata dst), and bpf_skb_get/set_tunnel_opt read and set its options.
// The older, shorter layouts of bpf_tunnel_key are taken as the kernel takes them.
// bpf_skb_get_xfrm_state reads the IPsec states the packet came through.
#include "helpers/helper_errno.hpp"
#include "vm/progtypes/progtype_helpers.hpp"
#include "vm/progtypes/skb.hpp"

#include <cstddef>
#include <cstring>

namespace ebpf::progtypes {
namespace {

// linux/bpf.h
struct BpfTunnelKey {
    uint32_t tunnel_id;
    uint32_t remote_ipv6[4]; // or remote_ipv4, host order
    uint8_t tunnel_tos;
    uint8_t tunnel_ttl;
    uint16_t tunnel_ext; // or the __be16 tunnel_flags
    uint32_t tunnel_label;
    uint32_t local_ipv6[4]; // or local_ipv4, host order
};
static_assert(sizeof(BpfTunnelKey) == 44);
constexpr uint64_t BPF_F_TUNINFO_IPV6 = 1 << 0, BPF_F_ZERO_CSUM_TX = 1 << 1,
                   BPF_F_DONT_FRAGMENT = 1 << 2, BPF_F_SEQ_NUMBER = 1 << 3,
                   BPF_F_NO_TUNNEL_KEY = 1 << 4, BPF_F_TUNINFO_FLAGS = 1 << 4;
// IP_TUNNEL_*_BIT (include/uapi/linux/if_tunnel.h)
constexpr uint16_t tunnel_csum = 1 << 0, tunnel_key = 1 << 2, tunnel_seq = 1 << 3,
                   tunnel_dont_fragment = 1 << 8, tunnel_nocache = 1 << 13;
constexpr uint32_t ipv6_flowlabel_mask = 0x000fffff;
// ip_tunnel_set_options_present: the GENEVE_OPT, VXLAN_OPT, ERSPAN_OPT and GTP_OPT bits (PFCP's,
// above 16, is not among the flags kept here).
constexpr uint16_t tunnel_options_present = 1 << 11 | 1 << 12 | 1 << 14 | 1 << 15;

uint64_t ret(long v) {
    return static_cast<uint64_t>(v);
}

uint32_t swap32(uint32_t v) {
    return __builtin_bswap32(v);
}

// The compat sizes both helpers accept besides the whole struct: layouts from before
// local_ipv4, tunnel_label and tunnel_ext.
bool compat_size(uint32_t size) {
    return size == offsetof(BpfTunnelKey, local_ipv6) ||
           size == offsetof(BpfTunnelKey, tunnel_label) ||
           size == offsetof(BpfTunnelKey, tunnel_ext);
}
constexpr uint32_t ipv4_only_size = offsetof(BpfTunnelKey, remote_ipv6) + 4;

} // namespace

uint64_t skb_get_tunnel_key(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t,
                            RunState* state) {
    SkBuff* skb = skb_arg(r1, state, "bpf_skb_get_tunnel_key");
    if (!skb) return 0;
    auto* to = reinterpret_cast<uint8_t*>(r2);
    const auto size = static_cast<uint32_t>(r3);
    const uint64_t flags = r4;
    const TunnelInfo& info = skb->tunnel;
    long err = -herr::einval;
    if (info.present && !(flags & ~(BPF_F_TUNINFO_IPV6 | BPF_F_TUNINFO_FLAGS))) {
        if (info.ipv6 != static_cast<bool>(flags & BPF_F_TUNINFO_IPV6))
            err = -herr::eproto;
        else if (size == sizeof(BpfTunnelKey) || compat_size(size) ||
                 (size == ipv4_only_size && !info.ipv6))
            err = 0;
    }
    if (err) {
        std::memset(to, 0, size);
        return ret(err);
    }
    BpfTunnelKey key{};
    key.tunnel_id = static_cast<uint32_t>(info.tun_id);
    key.tunnel_tos = info.tos;
    key.tunnel_ttl = info.ttl;
    if (flags & BPF_F_TUNINFO_FLAGS)
        key.tunnel_ext = static_cast<uint16_t>(info.flags << 8 | info.flags >> 8);
    if (info.ipv6) {
        std::memcpy(key.remote_ipv6, info.src, 16);
        std::memcpy(key.local_ipv6, info.dst, 16);
        key.tunnel_label = info.label;
    } else {
        std::memcpy(&key.remote_ipv6[0], info.src, 4);
        std::memcpy(&key.local_ipv6[0], info.dst, 4);
        key.remote_ipv6[0] = swap32(key.remote_ipv6[0]);
        key.local_ipv6[0] = swap32(key.local_ipv6[0]);
    }
    std::memcpy(to, &key, size);
    return 0;
}

uint64_t skb_set_tunnel_key(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t,
                            RunState* state) {
    SkBuff* skb = skb_arg(r1, state, "bpf_skb_set_tunnel_key");
    if (!skb) return 0;
    const auto size = static_cast<uint32_t>(r3);
    const uint64_t flags = r4;
    if (flags & ~(BPF_F_TUNINFO_IPV6 | BPF_F_ZERO_CSUM_TX | BPF_F_DONT_FRAGMENT | BPF_F_SEQ_NUMBER |
                  BPF_F_NO_TUNNEL_KEY))
        return ret(-herr::einval);
    if (size != sizeof(BpfTunnelKey) && !compat_size(size) && size != ipv4_only_size)
        return ret(-herr::einval);
    BpfTunnelKey from{};
    std::memcpy(&from, reinterpret_cast<const void*>(r2), size);
    const bool ipv6 = flags & BPF_F_TUNINFO_IPV6;
    if ((!ipv6 && from.tunnel_label) || from.tunnel_ext) return ret(-herr::einval);

    TunnelInfo info;
    info.present = true;
    info.tx = true;
    info.ipv6 = ipv6;
    info.flags = tunnel_nocache;
    if (flags & BPF_F_DONT_FRAGMENT) info.flags |= tunnel_dont_fragment;
    if (!(flags & BPF_F_ZERO_CSUM_TX)) info.flags |= tunnel_csum;
    if (flags & BPF_F_SEQ_NUMBER) info.flags |= tunnel_seq;
    if (!(flags & BPF_F_NO_TUNNEL_KEY)) info.flags |= tunnel_key;
    info.tun_id = from.tunnel_id;
    info.tos = from.tunnel_tos;
    info.ttl = from.tunnel_ttl;
    if (ipv6) {
        std::memcpy(info.dst, from.remote_ipv6, 16);
        std::memcpy(info.src, from.local_ipv6, 16);
        info.label = from.tunnel_label & ipv6_flowlabel_mask;
    } else {
        const uint32_t dst = swap32(from.remote_ipv6[0]), src = swap32(from.local_ipv6[0]);
        std::memcpy(info.dst, &dst, 4);
        std::memcpy(info.src, &src, 4);
    }
    skb->tunnel = info;
    return 0;
}

// The options, zero-padded to size; their length is returned.
uint64_t skb_get_tunnel_opt(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t, uint64_t,
                            RunState* state) {
    SkBuff* skb = skb_arg(r1, state, "bpf_skb_get_tunnel_opt");
    if (!skb) return 0;
    auto* to = reinterpret_cast<uint8_t*>(r2);
    const auto size = static_cast<uint32_t>(r3);
    const TunnelInfo& info = skb->tunnel;
    long err = 0;
    if (!info.present || !(info.flags & tunnel_options_present))
        err = -herr::enoent;
    else if (size < info.options_len)
        err = -herr::enomem;
    if (err) {
        std::memset(to, 0, size);
        return ret(err);
    }
    std::memcpy(to, info.options, info.options_len);
    std::memset(to + info.options_len, 0, size - info.options_len);
    return info.options_len;
}

// Only on metadata bpf_skb_set_tunnel_key set (not on what the packet was received with), in
// whole 32-bit words, at most 255 bytes.
uint64_t skb_set_tunnel_opt(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t, uint64_t,
                            RunState* state) {
    SkBuff* skb = skb_arg(r1, state, "bpf_skb_set_tunnel_opt");
    if (!skb) return 0;
    const auto size = static_cast<uint32_t>(r3);
    TunnelInfo& info = skb->tunnel;
    if (!info.present || !info.tx || size % 4) return ret(-herr::einval);
    if (size > sizeof info.options) return ret(-herr::enomem);
    info.options_len = static_cast<uint8_t>(size);
    if (size) {
        std::memcpy(info.options, reinterpret_cast<const void*>(r2), size);
        info.flags |= tunnel_options_present;
    }
    return 0;
}

// The index-th state of the packet's sec_path as a struct bpf_xfrm_state; -EINVAL (cleared)
// for none, flags, or another size.
uint64_t skb_get_xfrm_state(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                            RunState* state) {
    SkBuff* skb = skb_arg(r1, state, "bpf_skb_get_xfrm_state");
    if (!skb) return 0;
    constexpr uint32_t bpf_xfrm_state_size = 28; // reqid, spi, family, ext, remote_ipv6[4]
    constexpr uint16_t af_inet6 = 10;
    auto* to = reinterpret_cast<uint8_t*>(r3);
    const auto index = static_cast<uint32_t>(r2), size = static_cast<uint32_t>(r4);
    if (index >= skb->sec_path.size() || r5 || size != bpf_xfrm_state_size) {
        std::memset(to, 0, size);
        return ret(-herr::einval);
    }
    const XfrmState& x = skb->sec_path[index];
    std::memset(to, 0, size);
    std::memcpy(to, &x.reqid, 4);
    std::memcpy(to + 4, &x.spi, 4);
    std::memcpy(to + 8, &x.family, 2);
    std::memcpy(to + 12, x.saddr, x.family == af_inet6 ? 16 : 4);
    return 0;
}

} // namespace ebpf::progtypes
