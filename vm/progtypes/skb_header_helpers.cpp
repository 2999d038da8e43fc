// tc's helpers that change the packet's link layer or its checksum and hash state
// (net/core/filter.c, net/core/skbuff.c, include/net/inet_ecn.h): bpf_skb_vlan_push and _pop,
// bpf_csum_update, bpf_csum_level, bpf_skb_ecn_set_ce, bpf_get_hash_recalc, bpf_set_hash,
// bpf_set_hash_invalid, bpf_skb_change_type, and bpf_get_route_realm (the route's,
// SkBuff::route_classid). Our sk_buff is tc's as bpf_prog_test_run_skb makes it: data at the MAC
// header, not at tc ingress (so the MAC header is not in skb->csum), headroom to push into.
#include "helpers/csum.hpp"
#include "helpers/helper_errno.hpp"
#include "vm/progtypes/progtype_helpers.hpp"
#include "vm/progtypes/skb.hpp"

#include <algorithm>
#include <cstring>

namespace ebpf::progtypes {
namespace {

constexpr uint32_t vlan_hlen = 4, vlan_eth_hlen = 18, mac_addrs_len = 12;
constexpr uint16_t eth_p_8021q = 0x8100, eth_p_8021ad = 0x88a8;
constexpr long net_skb_pad = 64;

uint64_t ret(long v) {
    return static_cast<uint64_t>(v);
}

uint16_t swap16(uint16_t v) {
    return static_cast<uint16_t>(v << 8 | v >> 8);
}
// A __be16 as it sits in memory, from its host value, and back (little-endian hosts).
uint16_t be16(uint16_t v) {
    return swap16(v);
}

bool eth_type_vlan(uint16_t proto_be) {
    return proto_be == be16(eth_p_8021q) || proto_be == be16(eth_p_8021ad);
}

// skb_postpush_rcsum and skb_postpull_rcsum: CHECKSUM_COMPLETE's sum follows bytes added or
// removed at the front.
void rcsum_push(SkBuff& skb, const uint8_t* start, uint32_t len) {
    if (skb.ip_summed == checksum_complete)
        skb.csum = csum::add(skb.csum, csum::partial(start, len, 0));
}
void rcsum_pull(SkBuff& skb, const uint8_t* start, uint32_t len) {
    if (skb.ip_summed == checksum_complete)
        skb.csum = csum::sub(skb.csum, csum::partial(start, len, 0));
}

// data moved by delta (negative: pushed): the metadata before it moves along.
void move_data(SkBuff& skb, long delta, RunState* state) {
    skb.data += delta;
    skb.data_meta += delta;
    skb.mac_header += delta;
    skb.len = static_cast<uint32_t>(static_cast<long>(skb.len) - delta);
    packet_moved(skb, state);
}

// __skb_vlan_pop: the tag after the MAC addresses comes out of the packet; its TCI is given back.
long vlan_pop_tag(SkBuff& skb, uint16_t& tci, RunState* state) {
    if (skb.len < vlan_eth_hlen) return -herr::enomem; // skb_ensure_writable
    rcsum_pull(skb, skb.data + mac_addrs_len, vlan_hlen);
    uint16_t encap;
    std::memcpy(&tci, skb.data + 14, 2);
    tci = swap16(tci);
    std::memcpy(&encap, skb.data + 16, 2);
    std::memmove(skb.data + vlan_hlen, skb.data, mac_addrs_len);
    // vlan_set_encap_proto: an EtherType, or a length (Novell raw 802.3 or 802.2 LLC).
    if (swap16(encap) >= uapi::eth_p_802_3_min) {
        skb.protocol = encap;
    } else {
        const uint8_t* rawp = skb.data + vlan_eth_hlen;
        const bool raw = skb.len >= vlan_eth_hlen + 2 && rawp[0] == 0xff && rawp[1] == 0xff;
        skb.protocol = be16(raw ? uapi::eth_p_802_3 : uapi::eth_p_802_2);
    }
    move_data(skb, vlan_hlen, state);
    if (skb.network_header < skb.data + uapi::eth_hlen)
        skb.network_header = skb.data + uapi::eth_hlen;
    return 0;
}

void put_tag(SkBuff& skb, uint16_t proto_be, uint16_t tci) {
    skb.vlan_present = 1;
    skb.vlan_proto = proto_be;
    skb.vlan_tci = tci;
}

// The flow dissector's keys that __skb_get_hash hashes: addresses, ports, protocols, with the
// lower end first so both directions hash alike (__flow_hash_consistentify).
struct FlowKeys {
    uint8_t addrs[2][16] = {};
    uint16_t ports[2] = {};
    uint16_t n_proto = 0;
    uint8_t ip_proto = 0;
};

bool has_ports(uint8_t ip_proto) {
    return ip_proto == 6 || ip_proto == 17 || ip_proto == 33 || ip_proto == 132 ||
           ip_proto == 136; // TCP, UDP, DCCP, SCTP, UDP-Lite
}

FlowKeys dissect(const SkBuff& skb) {
    FlowKeys k;
    const uint8_t* p = skb.network_header;
    const uint8_t* end = skb.data_end;
    uint16_t proto = skb.protocol;
    while (eth_type_vlan(proto) && p + vlan_hlen <= end) {
        std::memcpy(&proto, p + 2, 2);
        p += vlan_hlen;
    }
    k.n_proto = proto;
    size_t l4 = 0, addr_len = 0, addrs_at = 0;
    if (proto == be16(uapi::eth_p_ip) && p + 20 <= end) {
        const bool fragment = ((p[6] & 0x3f) | p[7]) != 0;
        k.ip_proto = p[9];
        addr_len = 4;
        addrs_at = 12;
        l4 = fragment ? 0 : (p[0] & 0xf) * 4u;
    } else if (proto == be16(uapi::eth_p_ipv6) && p + 40 <= end) {
        k.ip_proto = p[6];
        addr_len = 16;
        addrs_at = 8;
        l4 = 40;
    }
    if (addr_len) {
        std::memcpy(k.addrs[0], p + addrs_at, addr_len);
        std::memcpy(k.addrs[1], p + addrs_at + addr_len, addr_len);
    }
    if (l4 && has_ports(k.ip_proto) && p + l4 + 4 <= end) std::memcpy(k.ports, p + l4, 4);
    const int order = std::memcmp(k.addrs[0], k.addrs[1], 16);
    if (order > 0 || (order == 0 && swap16(k.ports[0]) > swap16(k.ports[1]))) {
        std::swap_ranges(k.addrs[0], k.addrs[0] + 16, k.addrs[1]);
        std::swap(k.ports[0], k.ports[1]);
    }
    return k;
}

// The kernel hashes the keys with siphash under a key drawn at boot, so no two kernels agree on
// a value; this is a fixed 64-bit mix of them. As in the kernel, 0 (no hash) is never the result.
uint32_t flow_hash(const FlowKeys& k) {
    uint8_t bytes[sizeof k.addrs + 7] = {};
    std::memcpy(bytes, k.addrs, sizeof k.addrs);
    std::memcpy(bytes + 32, k.ports, 4);
    std::memcpy(bytes + 36, &k.n_proto, 2);
    bytes[38] = k.ip_proto;
    uint64_t h = 0x9e3779b97f4a7c15;
    for (uint8_t b : bytes) {
        h = (h ^ b) * 0x100000001b3;
        h ^= h >> 29;
    }
    const auto hash = static_cast<uint32_t>(h ^ h >> 32);
    return hash ? hash : 1;
}

} // namespace

// With less than `needed` bytes of headroom the kernel reallocates the head with
// NET_SKB_PAD-aligned more; here the packet moves that far into the buffer's spare room, as long as
// bpf_skb_change_tail can still grow it to BPF_SKB_MAX_LEN.
bool skb_cow_head(SkBuff& skb, uint32_t needed, RunState* state) {
    const long headroom = skb.data - skb.head;
    if (headroom >= static_cast<long>(needed)) return true;
    const long delta = (needed - headroom + net_skb_pad - 1) / net_skb_pad * net_skb_pad;
    if (skb.end - (skb.data + delta) < static_cast<long>(bpf_skb_max_len)) return false;
    const long meta = skb.data - skb.data_meta;
    std::memmove(skb.data_meta + delta, skb.data_meta, static_cast<size_t>(meta) + skb.len);
    skb.data_meta += delta;
    skb.data += delta;
    skb.mac_header += delta;
    skb.network_header += delta;
    packet_moved(skb, state);
    return true;
}

uint64_t skb_vlan_push(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t, uint64_t, RunState* state) {
    SkBuff* skb = skb_arg(r1, state, "bpf_skb_vlan_push");
    if (!skb) return 0;
    auto proto = static_cast<uint16_t>(r2);
    if (!eth_type_vlan(proto)) proto = be16(eth_p_8021q);
    if (skb->vlan_present) {
        // skb_vlan_push: the tag already held goes into the packet, after the MAC addresses.
        if (skb->len < uapi::eth_hlen || !skb_cow_head(*skb, vlan_hlen, state))
            return ret(-herr::enomem);
        move_data(*skb, -static_cast<long>(vlan_hlen), state);
        std::memmove(skb->data, skb->data + vlan_hlen, mac_addrs_len);
        const uint16_t tci = swap16(skb->vlan_tci);
        std::memcpy(skb->data + 12, &skb->vlan_proto, 2);
        std::memcpy(skb->data + 14, &tci, 2);
        skb->protocol = skb->vlan_proto;
        rcsum_push(*skb, skb->data + mac_addrs_len, vlan_hlen);
    }
    put_tag(*skb, proto, static_cast<uint16_t>(r3));
    return 0;
}

// skb_vlan_pop: the tag held goes; the packet's outer tag, if any, becomes the one held.
uint64_t skb_vlan_pop(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, RunState* state) {
    SkBuff* skb = skb_arg(r1, state, "bpf_skb_vlan_pop");
    if (!skb) return 0;
    uint16_t tci = 0;
    if (skb->vlan_present) {
        skb->vlan_present = 0;
        skb->vlan_proto = 0;
        skb->vlan_tci = 0;
    } else {
        if (!eth_type_vlan(skb->protocol)) return 0;
        if (long err = vlan_pop_tag(*skb, tci, state)) return ret(err);
    }
    if (!eth_type_vlan(skb->protocol)) return 0;
    const uint16_t proto = skb->protocol;
    if (long err = vlan_pop_tag(*skb, tci, state)) return ret(err);
    put_tag(*skb, proto, tci);
    return 0;
}

// With CHECKSUM_COMPLETE the sum takes the addend and is returned; otherwise -ENOTSUPP.
uint64_t csum_update(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, RunState* state) {
    SkBuff* skb = skb_arg(r1, state, "bpf_csum_update");
    if (!skb) return 0;
    if (skb->ip_summed != checksum_complete) return ret(-herr::enotsupp);
    skb->csum = csum::add(skb->csum, static_cast<uint32_t>(r2));
    return skb->csum;
}

// BPF_CSUM_LEVEL_*: query, or step, the count of checksums CHECKSUM_UNNECESSARY vouches for.
uint64_t csum_level(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, RunState* state) {
    SkBuff* skb = skb_arg(r1, state, "bpf_csum_level");
    if (!skb) return 0;
    constexpr uint64_t query = 0, inc = 1, dec = 2, reset = 3;
    constexpr uint8_t skb_max_csum_level = 3;
    const bool unnecessary = skb->ip_summed == checksum_unnecessary;
    switch (r2) {
    case query: return unnecessary ? skb->csum_level : ret(-herr::eacces);
    case inc:
        if (unnecessary && skb->csum_level < skb_max_csum_level) ++skb->csum_level;
        if (skb->ip_summed == checksum_none) {
            skb->ip_summed = checksum_unnecessary;
            skb->csum_level = 0;
        }
        return 0;
    case dec:
        if (unnecessary && skb->csum_level == 0)
            skb->ip_summed = checksum_none;
        else if (unnecessary)
            --skb->csum_level;
        return 0;
    case reset:
        if (unnecessary) {
            skb->ip_summed = checksum_none;
            skb->csum_level = 0;
        }
        return 0;
    default: return ret(-herr::einval);
    }
}

// INET_ECN_set_ce on the network header: an ECN-capable packet gets Congestion Experienced (the
// IPv4 header checksum follows); 1 when the packet is marked CE now, 0 when it is not ECN-capable
// or not IP, or its header is cut.
uint64_t skb_ecn_set_ce(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, RunState* state) {
    SkBuff* skb = skb_arg(r1, state, "bpf_skb_ecn_set_ce");
    if (!skb) return 0;
    constexpr uint8_t inet_ecn_mask = 3, inet_ecn_ce = 3;
    // skb_protocol(skb, true): past the VLAN tags the packet holds.
    uint16_t proto = skb->protocol;
    if (!skb->vlan_present) {
        const uint8_t* tag = skb->mac_header + uapi::eth_hlen;
        while (eth_type_vlan(proto) && tag + vlan_hlen <= skb->data_end) {
            std::memcpy(&proto, tag + 2, 2);
            tag += vlan_hlen;
        }
    }
    uint8_t* iph = skb->network_header;
    const long room = skb->data_end - iph;
    if (proto == be16(uapi::eth_p_ip)) {
        if (skb->len < 20 || room < 20) return 0;
        const uint32_t ecn = (iph[1] + 1u) & inet_ecn_mask;
        if (!(ecn & 2)) return !ecn;
        // IP_ECN_set_ce: ECT(1) and ECT(0) become CE, the checksum takes the difference.
        const uint16_t add = static_cast<uint16_t>(be16(0xfffb) + be16(static_cast<uint16_t>(ecn)));
        uint16_t check;
        std::memcpy(&check, iph + 10, 2);
        uint16_t sum = static_cast<uint16_t>(check + add);
        sum = static_cast<uint16_t>(sum + (sum < add));
        std::memcpy(iph + 10, &sum, 2);
        iph[1] |= inet_ecn_ce;
        return 1;
    }
    if (proto == be16(uapi::eth_p_ipv6)) {
        if (skb->len < 40 || room < 40) return 0;
        // The traffic class spans the first two bytes; its ECN bits are bits 4-5 of the second.
        if (((iph[1] >> 4) & inet_ecn_mask) == 0) return 0;
        uint32_t from, to;
        std::memcpy(&from, iph, 4);
        iph[1] |= inet_ecn_ce << 4;
        std::memcpy(&to, iph, 4);
        if (skb->ip_summed == checksum_complete)
            skb->csum = csum::add(csum::sub(skb->csum, from), to);
        return 1;
    }
    return 0;
}

// skb_get_hash: the hash the skb has, or one computed from its flow and kept. A hash of 0 stands
// for none (the kernel's l4_hash and sw_hash flags, which only bpf_set_hash sets beside a 0).
uint64_t get_hash_recalc(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, RunState* state) {
    SkBuff* skb = skb_arg(r1, state, "bpf_get_hash_recalc");
    if (!skb) return 0;
    // skb_get_hash: a hash set by software (here or bpf_set_hash) stands, even a zero one.
    if (!skb->sw_hash) {
        skb->hash = flow_hash(dissect(*skb));
        skb->sw_hash = 1;
    }
    return skb->hash;
}

// __skb_set_sw_hash(skb, hash, true)
uint64_t set_hash(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, RunState* state) {
    SkBuff* skb = skb_arg(r1, state, "bpf_set_hash");
    if (!skb) return 0;
    skb->hash = static_cast<uint32_t>(r2);
    skb->sw_hash = 1;
    return 0;
}

// skb_clear_hash
uint64_t set_hash_invalid(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, RunState* state) {
    SkBuff* skb = skb_arg(r1, state, "bpf_set_hash_invalid");
    if (skb) clear_hash(*skb);
    return 0;
}

// The packet's type, among those skb_pkt_type_ok allows (PACKET_HOST to PACKET_OTHERHOST), and
// only from one of them.
uint64_t skb_change_type(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, RunState* state) {
    SkBuff* skb = skb_arg(r1, state, "bpf_skb_change_type");
    if (!skb) return 0;
    if (skb->pkt_type > uapi::packet_otherhost ||
        static_cast<uint32_t>(r2) > uapi::packet_otherhost)
        return ret(-herr::einval);
    skb->pkt_type = static_cast<uint8_t>(r2);
    return 0;
}

// dst_tclassid: the realm of the route the packet took; 0 without one.
uint64_t get_route_realm(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, RunState* state) {
    const SkBuff* skb = skb_arg(r1, state, "bpf_get_route_realm");
    return skb ? skb->route_classid : 0;
}

} // namespace ebpf::progtypes
