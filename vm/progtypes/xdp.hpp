// The xdp program type: struct xdp_md's access rules (net/core/filter.c xdp_is_valid_access), the
// rewrite onto our xdp_buff (xdp_convert_ctx_access), and the context bpf_prog_test_run_xdp
// builds.
#pragma once

#include "vm/progtypes/prog_type_info.hpp"
#include "vm/progtypes/test_run.hpp"
#include "vm/progtypes/uapi.hpp"

namespace ebpf {

// Our xdp_buff: what the rewritten xdp_md accesses read. Helpers that move the packet's bounds
// (bpf_xdp_adjust_head, _meta, _tail) keep data_hard_start <= data_meta <= data <= data_end <=
// data_hard_start + frame_sz.
struct XdpBuff {
    uint8_t* data;
    uint8_t* data_end;
    uint8_t* data_meta;
    uint8_t* data_hard_start;
    uint32_t ingress_ifindex; // rxq->dev->ifindex
    uint32_t rx_queue_index;  // rxq->queue_index
    uint32_t frame_sz;        // the frame's bytes from data_hard_start, tailroom included
};

extern const ProgTypeInfo xdp_prog_type_info;

// What bpf_prog_test_run_xdp builds: a page-sized frame with XDP_PACKET_HEADROOM (256 bytes) before
// the packet, received on the loopback device's queue 0, or with metadata, ingress_ifindex and
// rx_queue_index from a ctx_in xdp_md (the first ctx_in.data bytes of data_in are then the
// metadata).
class XdpTestRun final : public RunContext {
  public:
    static Result<std::unique_ptr<XdpTestRun>> create(const TestRunInput& input);

    XdpBuff& xdp() { return xdp_; }

    void* ctx() override { return &xdp_; }
    Status attach(RunState& state) override;
    // From data_meta to data_end: the metadata comes out first.
    std::vector<uint8_t> data_out() const override;
    std::optional<std::vector<uint8_t>> ctx_out() const override;

  private:
    XdpTestRun() = default;

    std::vector<uint8_t> frame_;
    XdpBuff xdp_{};
    std::optional<uapi::XdpMd> ctx_;
};

} // namespace ebpf
