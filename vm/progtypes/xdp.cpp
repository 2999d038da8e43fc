#include "vm/progtypes/xdp.hpp"

#include "vm/progtypes/emit.hpp"
#include "vm/progtypes/func_protos.hpp"

#include <algorithm>
#include <cstring>
#include <string>

namespace ebpf {

using namespace progtypes;
using uapi::XdpMd;

namespace {

// xdp_is_valid_access for a program loaded without an expected attach type: egress_ifindex is
// for BPF_XDP_DEVMAP programs, and only offloaded programs may write (rx_queue_index).
CtxAccess xdp_is_valid_access(int off, int size, BpfAccess type, bool is_ldsx) {
    if (off == offsetof(XdpMd, egress_ifindex)) return {};
    if (type == BpfAccess::write) return {};
    CtxRegType reg_type = CtxRegType::scalar;
    switch (off) {
    case offsetof(XdpMd, data): reg_type = CtxRegType::packet; break;
    case offsetof(XdpMd, data_meta): reg_type = CtxRegType::packet_meta; break;
    case offsetof(XdpMd, data_end): reg_type = CtxRegType::packet_end; break;
    default: break;
    }
    if (is_ldsx && reg_type != CtxRegType::scalar) return {};
    // __is_valid_xdp_access: whole 32-bit fields only
    if (off < 0 || off >= static_cast<int>(sizeof(XdpMd))) return {};
    if (off % size != 0 || size != sizeof(uint32_t)) return {};
    return {true, reg_type, 0};
}

// xdp_convert_ctx_access
void xdp_convert_ctx_access(BpfAccess, const Insn& si, CtxRewrite& out) {
    auto load = [&](uint8_t size, size_t offset) {
        out.emit(ldx_mem(size, si.dst, si.src, static_cast<int>(offset)));
    };
    switch (si.off) {
    case offsetof(XdpMd, data): load(BPF_DW, offsetof(XdpBuff, data)); break;
    case offsetof(XdpMd, data_meta): load(BPF_DW, offsetof(XdpBuff, data_meta)); break;
    case offsetof(XdpMd, data_end): load(BPF_DW, offsetof(XdpBuff, data_end)); break;
    case offsetof(XdpMd, ingress_ifindex): load(BPF_W, offsetof(XdpBuff, ingress_ifindex)); break;
    case offsetof(XdpMd, rx_queue_index): load(BPF_W, offsetof(XdpBuff, rx_queue_index)); break;
    default: break;
    }
}

// xdp_func_proto
constexpr HelperSet xdp_helpers = sk_base_func_proto | HelperSet{H::perf_event_output,
                                                                 H::get_smp_processor_id,
                                                                 H::csum_diff,
                                                                 H::xdp_adjust_head,
                                                                 H::xdp_adjust_meta,
                                                                 H::redirect,
                                                                 H::redirect_map,
                                                                 H::xdp_adjust_tail,
                                                                 H::xdp_get_buff_len,
                                                                 H::xdp_load_bytes,
                                                                 H::xdp_store_bytes,
                                                                 H::fib_lookup,
                                                                 H::check_mtu,
                                                                 H::sk_lookup_udp,
                                                                 H::sk_lookup_tcp,
                                                                 H::sk_release,
                                                                 H::skc_lookup_tcp,
                                                                 H::tcp_check_syncookie,
                                                                 H::tcp_gen_syncookie,
                                                                 H::tcp_raw_gen_syncookie_ipv4,
                                                                 H::tcp_raw_gen_syncookie_ipv6,
                                                                 H::tcp_raw_check_syncookie_ipv4,
                                                                 H::tcp_raw_check_syncookie_ipv6};

constexpr ReturnCode xdp_action_codes[] = {
    {0, "XDP_ABORTED"}, {1, "XDP_DROP"}, {2, "XDP_PASS"}, {3, "XDP_TX"}, {4, "XDP_REDIRECT"},
};

// bpf_prog_test_run_xdp's frame: a page, XDP_PACKET_HEADROOM before the packet (the metadata
// comes out of it) and SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) of tailroom, as on x86-64.
constexpr uint32_t page_size = 4096, xdp_packet_headroom = 256, xdp_tailroom = 320;
// Measured on Linux 6.18: the metadata must be a multiple of 4 bytes and leave the headroom room
// for a struct xdp_frame (40 bytes).
constexpr uint32_t xdp_frame_size = 40;

} // namespace

const ProgTypeInfo xdp_prog_type_info{ProgType::xdp,
                                      "xdp",
                                      sizeof(XdpMd),
                                      xdp_is_valid_access,
                                      xdp_convert_ctx_access,
                                      xdp_helpers,
                                      PacketAccess::read_write,
                                      false,
                                      std::nullopt,
                                      xdp_action_codes};

Result<std::unique_ptr<XdpTestRun>> XdpTestRun::create(const TestRunInput& input) {
    const auto size = static_cast<uint32_t>(input.data.size());
    auto ctx_buf = bpf_ctx_init(input, sizeof(XdpMd));
    if (!ctx_buf) return ctx_buf.error();

    XdpMd md{};
    uint32_t headroom = xdp_packet_headroom, meta_sz = 0, linear_sz = size;
    if (*ctx_buf) {
        std::memcpy(&md, (*ctx_buf)->data(), sizeof md);
        // There can't be user-provided data before the metadata.
        if (md.data_meta || md.data_end > size || md.data > md.data_end || md.data % 4 ||
            md.data > xdp_packet_headroom - xdp_frame_size) {
            return test_run_error("EINVAL", "ctx_in xdp_md: data_meta must be 0, data (the "
                                            "metadata length) a multiple of 4 of at most 216, "
                                            "data <= data_end <= data_size_in");
        }
        headroom -= md.data;
        meta_sz = md.data;
        linear_sz = md.data_end;
    }
    const uint32_t max_linear_sz = page_size - headroom - xdp_tailroom;
    linear_sz = std::min(linear_sz, max_linear_sz);
    if (size - meta_sz < uapi::eth_hlen) {
        return test_run_error("EINVAL", "data_in holds less than an Ethernet header past the "
                                        "metadata");
    }
    if (size > linear_sz) {
        return test_run_error("EOPNOTSUPP", "multi-buffer packets (beyond " +
                                                std::to_string(linear_sz) +
                                                " linear bytes) are not supported");
    }

    std::unique_ptr<XdpTestRun> run(new XdpTestRun);
    run->frame_.assign(page_size, 0);
    XdpBuff& xdp = run->xdp_;
    xdp.data_hard_start = run->frame_.data();
    xdp.frame_sz = page_size;
    xdp.data_meta = xdp.data_hard_start + headroom;
    xdp.data = xdp.data_meta;
    xdp.data_end = xdp.data + linear_sz;
    std::memcpy(xdp.data, input.data.data(), linear_sz);
    xdp.ingress_ifindex = 1; // the loopback device's queue 0
    xdp.rx_queue_index = 0;

    // xdp_convert_md_to_buff
    if (*ctx_buf) {
        if (md.egress_ifindex != 0 || (!md.ingress_ifindex && md.rx_queue_index)) {
            return test_run_error("EINVAL", "ctx_in xdp_md: egress_ifindex must be 0, and "
                                            "rx_queue_index needs ingress_ifindex");
        }
        // The loopback device has one queue; any other device is taken as it is.
        if (md.ingress_ifindex == 1 && md.rx_queue_index != 0) {
            return test_run_error("EINVAL", "the loopback device has only rx queue 0");
        }
        if (md.ingress_ifindex) {
            xdp.ingress_ifindex = md.ingress_ifindex;
            xdp.rx_queue_index = md.rx_queue_index;
        }
        xdp.data = xdp.data_meta + md.data;
        run->ctx_ = md;
    }
    return run;
}

Status XdpTestRun::attach(RunState& state) {
    state.ctx = &xdp_;
    state.ctx_prog_type = static_cast<uint32_t>(ProgType::xdp);
    // The packet as the bpf_xdp_adjust_* helpers move its bounds.
    if (!state.allow(&xdp_, sizeof xdp_, false) ||
        !state.allow_moving(&xdp_.data_meta, &xdp_.data_end, true)) {
        return Error{"the run's memory region table is full", std::nullopt};
    }
    return std::nullopt;
}

std::vector<uint8_t> XdpTestRun::data_out() const {
    return {xdp_.data_meta, xdp_.data_end};
}

std::optional<std::vector<uint8_t>> XdpTestRun::ctx_out() const {
    if (!ctx_) return std::nullopt;
    // xdp_convert_buff_to_md
    XdpMd md = *ctx_;
    md.data = static_cast<uint32_t>(xdp_.data - xdp_.data_meta);
    md.data_end = static_cast<uint32_t>(xdp_.data_end - xdp_.data_meta);
    std::vector<uint8_t> out(sizeof md);
    std::memcpy(out.data(), &md, sizeof md);
    return out;
}

} // namespace ebpf
