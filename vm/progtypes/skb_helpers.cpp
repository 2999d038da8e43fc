// The __sk_buff types' helpers (net/core/filter.c) on our SkBuff, which is linear: every byte of
// the packet is in its head, so pulling data changes nothing, and the kernel's checksum state is
// CHECKSUM_NONE, as bpf_prog_test_run_skb makes it (so BPF_F_RECOMPUTE_CSUM and BPF_F_PSEUDO_HDR
// leave no skb->csum to update).
#include "helpers/csum.hpp"
#include "helpers/helper_errno.hpp"
#include "maps/perf_event_array.hpp"
#include "vm/progtypes/progtype_helpers.hpp"
#include "vm/progtypes/skb.hpp"

#include <climits>
#include <cstring>
#include <vector>

namespace ebpf::progtypes {
namespace {

// linux/bpf.h flags
constexpr uint64_t BPF_F_RECOMPUTE_CSUM = 1, BPF_F_INVALIDATE_HASH = 2;
constexpr uint64_t BPF_F_HDR_FIELD_MASK = 0xf, BPF_F_PSEUDO_HDR = 1 << 4,
                   BPF_F_MARK_MANGLED_0 = 1 << 5, BPF_F_MARK_ENFORCE = 1 << 6, BPF_F_IPV6 = 1 << 7;
constexpr uint64_t BPF_F_INGRESS = 1;
constexpr uint16_t CSUM_MANGLED_0 = 0xffff;
constexpr uint64_t TC_ACT_SHOT = 2, TC_ACT_REDIRECT = 7;
constexpr uint32_t BPF_HDR_START_MAC = 0, BPF_HDR_START_NET = 1;
// The kernel's internal bpf_redirect_info flags (net/core/filter.c), above the UAPI ones.
constexpr uint64_t BPF_F_NEIGH = 1 << 1, BPF_F_PEER = 1 << 2, BPF_F_NEXTHOP = 1 << 3;

uint64_t ret(long v) {
    return static_cast<uint64_t>(v);
}

uint16_t be16(uint16_t v) {
    return static_cast<uint16_t>(v << 8 | v >> 8);
}

bool is_skb_type(uint32_t type) {
    switch (static_cast<ProgType>(type)) {
    case ProgType::socket_filter:
    case ProgType::sched_cls:
    case ProgType::sched_act:
    case ProgType::cgroup_skb: return true;
    default: return false;
    }
}

// bpf_try_make_writable on a linear skb: fine up to the packet's length, -ENOMEM past it.
bool writable(const SkBuff& skb, uint64_t write_len) {
    return write_len <= skb.len;
}

// __bpf_skb_min_len: the network header stays.
uint32_t min_len(const SkBuff& skb) {
    if (!skb.network_header || skb.network_header <= skb.data) return 0;
    return static_cast<uint32_t>(skb.network_header - skb.data);
}

} // namespace

SkBuff* skb_arg(uint64_t r1, RunState* state, const char* helper) {
    if (state->checked &&
        (reinterpret_cast<void*>(r1) != state->ctx || !is_skb_type(state->ctx_prog_type))) {
        state->fault(std::string(helper) + ": R1 is not the run's __sk_buff context");
        return nullptr;
    }
    return reinterpret_cast<SkBuff*>(r1);
}

void packet_moved(SkBuff& skb, RunState* state) {
    skb.data_end = skb.data + skb.len;
    if (state->ctx == &skb) {
        state->packet = skb.data;
        state->packet_len = skb.len;
    }
}

uint64_t skb_load_bytes(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t,
                        RunState* state) {
    SkBuff* skb = skb_arg(r1, state, "bpf_skb_load_bytes");
    if (!skb) return 0;
    const auto offset = static_cast<uint32_t>(r2), len = static_cast<uint32_t>(r4);
    auto* to = reinterpret_cast<uint8_t*>(r3);
    if (offset > INT_MAX || uint64_t{offset} + len > skb->len) {
        std::memset(to, 0, len);
        return ret(-herr::efault);
    }
    std::memcpy(to, skb->data + offset, len);
    return 0;
}

// Reads from the MAC or the network header rather than from data; the bytes must lie before the
// packet's end. Every sk_buff here has its MAC header set.
uint64_t skb_load_bytes_relative(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                 RunState* state) {
    SkBuff* skb = skb_arg(r1, state, "bpf_skb_load_bytes_relative");
    if (!skb) return 0;
    const auto offset = static_cast<uint32_t>(r2), len = static_cast<uint32_t>(r4);
    auto* to = reinterpret_cast<uint8_t*>(r3);
    const uint8_t* start = nullptr;
    if (r5 == BPF_HDR_START_MAC) start = skb->mac_header;
    if (r5 == BPF_HDR_START_NET) start = skb->network_header;
    if (offset > 0xffff || !start || start + offset + len > skb->data + skb->len) {
        std::memset(to, 0, len);
        return ret(-herr::efault);
    }
    std::memcpy(to, start + offset, len);
    return 0;
}

uint64_t skb_store_bytes(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                         RunState* state) {
    SkBuff* skb = skb_arg(r1, state, "bpf_skb_store_bytes");
    if (!skb) return 0;
    const auto offset = static_cast<uint32_t>(r2), len = static_cast<uint32_t>(r4);
    if (r5 & ~(BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH)) return ret(-herr::einval);
    if (offset > INT_MAX) return ret(-herr::efault);
    if (!writable(*skb, uint64_t{offset} + len)) return ret(-herr::efault);
    std::memmove(skb->data + offset, reinterpret_cast<const void*>(r3), len);
    if (r5 & BPF_F_INVALIDATE_HASH) clear_hash(*skb);
    return 0;
}

uint64_t skb_pull_data(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, RunState* state) {
    SkBuff* skb = skb_arg(r1, state, "bpf_skb_pull_data");
    if (!skb) return 0;
    const auto len = static_cast<uint32_t>(r2);
    return writable(*skb, len ? len : skb->len) ? 0 : ret(-herr::enomem);
}

// Trims or grows the packet at its end. Grown bytes are whatever the buffer holds there (zeros,
// or what a trim left), as in the kernel; a packet that would outgrow its buffer fails as a
// failed reallocation does.
uint64_t skb_change_tail(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t, uint64_t,
                         RunState* state) {
    SkBuff* skb = skb_arg(r1, state, "bpf_skb_change_tail");
    if (!skb) return 0;
    const auto new_len = static_cast<uint32_t>(r2);
    if (r3 || new_len > bpf_skb_max_len || new_len < min_len(*skb)) return ret(-herr::einval);
    if (skb->encapsulation) return ret(-herr::enotsupp);
    if (new_len > skb->len && (!skb->end || new_len > skb->end - skb->data))
        return ret(-herr::enomem);
    skb->len = new_len;
    if (skb->gso_size) { // skb_gso_reset
        skb->gso_size = 0;
        skb->gso_segs = 0;
    }
    packet_moved(*skb, state);
    return 0;
}

uint64_t l3_csum_replace(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                         RunState* state) {
    SkBuff* skb = skb_arg(r1, state, "bpf_l3_csum_replace");
    if (!skb) return 0;
    const auto offset = static_cast<uint32_t>(r2);
    if (r5 & ~BPF_F_HDR_FIELD_MASK) return ret(-herr::einval);
    if (offset > 0xffff || offset & 1) return ret(-herr::efault);
    if (!writable(*skb, offset + 2)) return ret(-herr::efault);
    uint8_t* ptr = skb->data + offset;
    switch (r5 & BPF_F_HDR_FIELD_MASK) {
    case 0:
        if (r3 != 0) return ret(-herr::einval);
        csum::replace_by_diff(ptr, static_cast<uint32_t>(r4));
        break;
    case 2: csum::replace2(ptr, static_cast<uint16_t>(r3), static_cast<uint16_t>(r4)); break;
    case 4: csum::replace4(ptr, static_cast<uint32_t>(r3), static_cast<uint32_t>(r4)); break;
    default: return ret(-herr::einval);
    }
    return 0;
}

// inet_proto_csum_replace* with CHECKSUM_NONE: the field changes as for l3, whatever
// BPF_F_PSEUDO_HDR and BPF_F_IPV6 say; BPF_F_MARK_MANGLED_0 keeps a zero (no checksum, for UDP)
// zero, and writes CSUM_MANGLED_0 for a result of zero.
uint64_t l4_csum_replace(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                         RunState* state) {
    SkBuff* skb = skb_arg(r1, state, "bpf_l4_csum_replace");
    if (!skb) return 0;
    const auto offset = static_cast<uint32_t>(r2);
    const bool is_mmzero = r5 & BPF_F_MARK_MANGLED_0, do_mforce = r5 & BPF_F_MARK_ENFORCE;
    if (r5 & ~(BPF_F_MARK_MANGLED_0 | BPF_F_MARK_ENFORCE | BPF_F_PSEUDO_HDR | BPF_F_HDR_FIELD_MASK |
               BPF_F_IPV6))
        return ret(-herr::einval);
    if (offset > 0xffff || offset & 1) return ret(-herr::efault);
    if (!writable(*skb, offset + 2)) return ret(-herr::efault);
    uint8_t* ptr = skb->data + offset;
    if (is_mmzero && !do_mforce && !csum::load16(ptr)) return 0;
    switch (r5 & BPF_F_HDR_FIELD_MASK) {
    case 0:
        if (r3 != 0) return ret(-herr::einval);
        csum::replace_by_diff(ptr, static_cast<uint32_t>(r4));
        break;
    case 2: csum::replace2(ptr, static_cast<uint16_t>(r3), static_cast<uint16_t>(r4)); break;
    case 4: csum::replace4(ptr, static_cast<uint32_t>(r3), static_cast<uint32_t>(r4)); break;
    default: return ret(-herr::einval);
    }
    if (is_mmzero && !csum::load16(ptr)) csum::store16(ptr, CSUM_MANGLED_0);
    return 0;
}

uint64_t skb_redirect(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, RunState* state) {
    if (r2 & ~BPF_F_INGRESS) return TC_ACT_SHOT;
    state->redirect = RedirectInfo{static_cast<uint32_t>(r1), r2, nullptr};
    return TC_ACT_REDIRECT;
}

// A copy to the loopback device, the one device here (as bpf_check_mtu and bpf_fib_lookup know
// it): sent, and kept for the host in RunState::clones; other ifindexes name no device.
uint64_t clone_redirect(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t, uint64_t,
                        RunState* state) {
    const SkBuff* skb = skb_arg(r1, state, "bpf_clone_redirect");
    if (!skb) return 0;
    constexpr uint32_t loopback_ifindex = 1;
    if (r3 & ~BPF_F_INGRESS || static_cast<uint32_t>(r2) != loopback_ifindex)
        return ret(-herr::einval);
    // __bpf_redirect_common: a link layer header must be carried.
    if (skb->mac_header >= skb->network_header || skb->len == 0) return ret(-herr::erange);
    if (state->clones)
        state->clones->push_back(
            {static_cast<uint32_t>(r2), r3, std::vector<uint8_t>(skb->mac_header, skb->data_end)});
    return 0;
}

// BPF_SKB_CLOCK_REALTIME, _MONOTONIC or _TAI (the skb's tstamp_type takes the same numbers);
// only the two latter refuse a zero time, and only IP packets take one.
uint64_t skb_set_tstamp(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t, uint64_t,
                        RunState* state) {
    SkBuff* skb = skb_arg(r1, state, "bpf_skb_set_tstamp");
    if (!skb) return 0;
    constexpr uint32_t clock_realtime = 0, clock_tai = 2;
    if (skb->protocol != be16(uapi::eth_p_ip) && skb->protocol != be16(uapi::eth_p_ipv6))
        return ret(-herr::eopnotsupp);
    const auto type = static_cast<uint32_t>(r3);
    if (type > clock_tai || (type != clock_realtime && !r2)) return ret(-herr::einval);
    skb->tstamp = r2;
    skb->tstamp_type = static_cast<uint8_t>(type);
    return 0;
}

// The nexthop (struct bpf_redir_neigh, 20 bytes) is optional; a shorter one, or flags, drop.
uint64_t redirect_neigh(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t,
                        RunState* state) {
    if ((r3 && r3 < sizeof(RedirectInfo::nh)) || r4) return TC_ACT_SHOT;
    state->redirect = RedirectInfo{static_cast<uint32_t>(r1), BPF_F_NEIGH, nullptr};
    if (r3) {
        state->redirect.flags |= BPF_F_NEXTHOP;
        std::memcpy(state->redirect.nh, reinterpret_cast<const void*>(r2),
                    sizeof(RedirectInfo::nh));
    }
    return TC_ACT_REDIRECT;
}

uint64_t redirect_peer(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, RunState* state) {
    if (r2) return TC_ACT_SHOT;
    state->redirect = RedirectInfo{static_cast<uint32_t>(r1), BPF_F_PEER, nullptr};
    return TC_ACT_REDIRECT;
}

// bpf_skb_event_output: the record is the data, then the packet's first BPF_F_CTXLEN_MASK bytes.
uint64_t skb_event_output(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                          RunState* state) {
    SkBuff* skb = skb_arg(r1, state, "bpf_perf_event_output");
    if (!skb) return 0;
    auto* map = reinterpret_cast<Map*>(r2);
    if (map->type() != MapType::perf_event_array) {
        state->fault("bpf_perf_event_output: the map is not a perf event array");
        return 0;
    }
    const uint64_t skb_size = (r3 & BPF_F_CTXLEN_MASK) >> 32;
    if (r3 & ~(BPF_F_CTXLEN_MASK | BPF_F_INDEX_MASK)) return ret(-herr::einval);
    if (skb_size > skb->len) return ret(-herr::efault);
    std::vector<uint8_t> record(r5 + skb_size);
    if (r5) std::memcpy(record.data(), reinterpret_cast<const void*>(r4), r5);
    std::memcpy(record.data() + r5, skb->data, skb_size);
    return ret(
        static_cast<PerfEventArrayMap*>(map)->output(state->cpu, r3, record.data(), record.size()));
}

} // namespace ebpf::progtypes
