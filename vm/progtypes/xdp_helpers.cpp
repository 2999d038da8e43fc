// xdp's helpers (net/core/filter.c) on our XdpBuff, a single buffer (no fragments):
// bpf_xdp_adjust_head, _tail and _meta move its bounds inside the frame, bpf_redirect and
// bpf_redirect_map record the target for the host, bpf_perf_event_output appends packet bytes,
// bpf_xdp_get_buff_len, _load_bytes and _store_bytes see the packet as the kernel's
// multi-buffer view of it, which for one buffer is the linear part.
#include "helpers/helper_errno.hpp"
#include "maps/perf_event_array.hpp"
#include "vm/progtypes/progtype_helpers.hpp"
#include "vm/progtypes/uapi.hpp"
#include "vm/progtypes/xdp.hpp"

#include <cstring>
#include <vector>

namespace ebpf::progtypes {
namespace {

// sizeof(struct xdp_frame) and SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) on x86-64: the
// frame keeps the one before the headroom and the other after the tailroom.
constexpr intptr_t xdp_frame_size = 40, skb_shared_info_size = 320;
// type_max of skb_shared_info's u8 meta_len
constexpr intptr_t xdp_meta_max = 255;
constexpr uint64_t XDP_ABORTED = 0, XDP_TX = 3, XDP_REDIRECT = 4;
constexpr uint64_t BPF_F_BROADCAST = 1 << 3, BPF_F_EXCLUDE_INGRESS = 1 << 4;

uint64_t ret(long v) {
    return static_cast<uint64_t>(v);
}

XdpBuff* xdp_arg(uint64_t r1, RunState* state, const char* helper) {
    if (state->checked && (reinterpret_cast<void*>(r1) != state->ctx ||
                           state->ctx_prog_type != static_cast<uint32_t>(ProgType::xdp))) {
        state->fault(std::string(helper) + ": R1 is not the run's xdp_md context");
        return nullptr;
    }
    return reinterpret_cast<XdpBuff*>(r1);
}

// Bounds as integers: a moved bound may fall outside the frame before it is refused.
intptr_t at(const uint8_t* p) {
    return reinterpret_cast<intptr_t>(p);
}

} // namespace

uint64_t xdp_adjust_head(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, RunState* state) {
    XdpBuff* xdp = xdp_arg(r1, state, "bpf_xdp_adjust_head");
    if (!xdp) return 0;
    const auto offset = static_cast<int32_t>(r2);
    const intptr_t metalen = xdp->data - xdp->data_meta;
    const intptr_t data = at(xdp->data) + offset;
    if (data < at(xdp->data_hard_start) + xdp_frame_size + metalen ||
        data > at(xdp->data_end) - static_cast<intptr_t>(uapi::eth_hlen))
        return ret(-herr::einval);
    if (metalen)
        std::memmove(xdp->data_meta + offset, xdp->data_meta, static_cast<size_t>(metalen));
    xdp->data_meta += offset;
    xdp->data += offset;
    return 0;
}

uint64_t xdp_adjust_tail(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, RunState* state) {
    XdpBuff* xdp = xdp_arg(r1, state, "bpf_xdp_adjust_tail");
    if (!xdp) return 0;
    const auto offset = static_cast<int32_t>(r2);
    const intptr_t data_end = at(xdp->data_end) + offset;
    const intptr_t hard_end = at(xdp->data_hard_start) + xdp->frame_sz - skb_shared_info_size;
    if (data_end > hard_end || data_end < at(xdp->data) + static_cast<intptr_t>(uapi::eth_hlen))
        return ret(-herr::einval);
    // Grown bytes may hold anything: cleared, as the kernel does.
    if (offset > 0) std::memset(xdp->data_end, 0, static_cast<size_t>(offset));
    xdp->data_end += offset;
    return 0;
}

uint64_t xdp_adjust_meta(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, RunState* state) {
    XdpBuff* xdp = xdp_arg(r1, state, "bpf_xdp_adjust_meta");
    if (!xdp) return 0;
    const auto offset = static_cast<int32_t>(r2);
    const intptr_t meta = at(xdp->data_meta) + offset;
    if (xdp->data_meta > xdp->data) return ret(-herr::enotsupp); // metadata unsupported
    if (meta < at(xdp->data_hard_start) + xdp_frame_size || meta > at(xdp->data))
        return ret(-herr::einval);
    const intptr_t metalen = at(xdp->data) - meta;
    if (metalen % 4 || metalen > xdp_meta_max) return ret(-herr::eacces);
    xdp->data_meta += offset;
    return 0;
}

uint64_t xdp_redirect(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, RunState* state) {
    if (r2) return XDP_ABORTED;
    state->redirect = RedirectInfo{static_cast<uint32_t>(r1), 0, nullptr};
    return XDP_REDIRECT;
}

// __bpf_xdp_redirect_map: the low bits of flags are the action when the key has no target.
// Only the kinds that hold redirect targets have map_redirect.
uint64_t xdp_redirect_map(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t, uint64_t,
                          RunState* state) {
    auto* map = reinterpret_cast<Map*>(r1);
    uint64_t flag_mask = 0;
    switch (map->type()) {
    case MapType::devmap:
    case MapType::devmap_hash: flag_mask = BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS; break;
    case MapType::cpumap:
    case MapType::xskmap: break;
    default:
        state->fault(std::string("bpf_redirect_map: a ") + map_type_name(map->type()) +
                     " map holds no redirect targets");
        return 0;
    }
    const uint64_t action_mask = XDP_TX; // XDP_ABORTED | XDP_DROP | XDP_PASS | XDP_TX
    if (r3 & ~(action_mask | flag_mask)) return XDP_ABORTED;
    const auto key = static_cast<uint32_t>(r2);
    if (!map->lookup(&key, state->cpu) && !(r3 & BPF_F_BROADCAST)) {
        state->redirect = {}; // the last lookup takes precedence
        return r3 & action_mask;
    }
    state->redirect = RedirectInfo{key, r3 & BPF_F_BROADCAST ? r3 : 0, map};
    return XDP_REDIRECT;
}

uint64_t xdp_get_buff_len(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, RunState* state) {
    XdpBuff* xdp = xdp_arg(r1, state, "bpf_xdp_get_buff_len");
    if (!xdp) return 0;
    return static_cast<uint64_t>(xdp->data_end - xdp->data);
}

namespace {

// bpf_xdp_load_bytes and _store_bytes: len bytes at offset copied out of the packet or into it
// (bpf_xdp_pointer's bounds). On an error the buffer is left as it was, as the kernel leaves it.
uint64_t xdp_copy(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, RunState* state,
                  const char* helper, bool store) {
    XdpBuff* xdp = xdp_arg(r1, state, helper);
    if (!xdp) return 0;
    const auto offset = static_cast<uint32_t>(r2), len = static_cast<uint32_t>(r4);
    if (offset > 0xffff || len > 0xffff) return ret(-herr::efault);
    if (uint64_t{offset} + len > static_cast<uint64_t>(xdp->data_end - xdp->data))
        return ret(-herr::einval);
    auto* buf = reinterpret_cast<uint8_t*>(r3);
    if (store)
        std::memmove(xdp->data + offset, buf, len);
    else
        std::memcpy(buf, xdp->data + offset, len);
    return 0;
}

} // namespace

uint64_t xdp_load_bytes(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t,
                        RunState* state) {
    return xdp_copy(r1, r2, r3, r4, state, "bpf_xdp_load_bytes", false);
}

uint64_t xdp_store_bytes(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t,
                         RunState* state) {
    return xdp_copy(r1, r2, r3, r4, state, "bpf_xdp_store_bytes", true);
}

uint64_t xdp_event_output(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                          RunState* state) {
    XdpBuff* xdp = xdp_arg(r1, state, "bpf_perf_event_output");
    if (!xdp) return 0;
    auto* map = reinterpret_cast<Map*>(r2);
    if (map->type() != MapType::perf_event_array) {
        state->fault("bpf_perf_event_output: the map is not a perf event array");
        return 0;
    }
    const uint64_t xdp_size = (r3 & BPF_F_CTXLEN_MASK) >> 32;
    if (r3 & ~(BPF_F_CTXLEN_MASK | BPF_F_INDEX_MASK)) return ret(-herr::einval);
    if (xdp_size > static_cast<uint64_t>(xdp->data_end - xdp->data)) return ret(-herr::efault);
    std::vector<uint8_t> record(r5 + xdp_size);
    if (r5) std::memcpy(record.data(), reinterpret_cast<const void*>(r4), r5);
    std::memcpy(record.data() + r5, xdp->data, xdp_size);
    return ret(
        static_cast<PerfEventArrayMap*>(map)->output(state->cpu, r3, record.data(), record.size()));
}

} // namespace ebpf::progtypes
