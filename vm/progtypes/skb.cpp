#include "vm/progtypes/skb.hpp"

#include "vm/progtypes/emit.hpp"
#include "vm/progtypes/func_protos.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace ebpf {

using namespace progtypes;
using uapi::SkBuffMd;

namespace {

// A UAPI field, or a run of them: the offsets bpf_ctx_range() and bpf_ctx_range_till() cover.
struct Field {
    int off;
    int size;

    constexpr int end() const { return off + size; }
    constexpr bool contains(int o) const { return o >= off && o < end(); }
};
constexpr Field through(Field first, Field last) {
    return {first.off, last.end() - first.off};
}

#define MD(f)                                                                                      \
    Field {                                                                                        \
        static_cast<int>(offsetof(SkBuffMd, f)), static_cast<int>(sizeof(SkBuffMd::f))             \
    }
constexpr Field f_mark = MD(mark), f_queue_mapping = MD(queue_mapping), f_priority = MD(priority),
                f_ifindex = MD(ifindex), f_tc_index = MD(tc_index), f_cb = MD(cb),
                f_tc_classid = MD(tc_classid), f_data = MD(data), f_data_end = MD(data_end),
                f_family = MD(family), f_remote_ip4 = MD(remote_ip4), f_local_ip4 = MD(local_ip4),
                f_remote_ip6 = MD(remote_ip6), f_local_ip6 = MD(local_ip6),
                f_local_port = MD(local_port), f_data_meta = MD(data_meta),
                f_flow_keys = MD(flow_keys), f_tstamp = MD(tstamp), f_wire_len = MD(wire_len),
                f_gso_segs = MD(gso_segs), f_sk = MD(sk), f_gso_size = MD(gso_size),
                f_tstamp_type = MD(tstamp_type), f_padding = MD(padding), f_hwtstamp = MD(hwtstamp);
#undef MD
constexpr Field f_sk_skb_fields = through(f_family, f_local_port);

constexpr CtxAccess refuse{};
constexpr int size_default = sizeof(uint32_t);

// bpf_skb_is_valid_access: the rules every __sk_buff type shares. reg_type is what the caller
// decided the field gives.
CtxAccess bpf_skb_is_valid_access(int off, int size, BpfAccess type, bool is_ldsx,
                                  CtxRegType reg_type = CtxRegType::scalar) {
    const CtxAccess ok{true, reg_type, 0};
    if (off < 0 || off >= static_cast<int>(sizeof(SkBuffMd))) return refuse;
    if (off % size != 0) return refuse;

    if (f_cb.contains(off)) return off + size > f_cb.end() ? refuse : ok;
    if (f_data.contains(off) || f_data_meta.contains(off) || f_data_end.contains(off)) {
        return is_ldsx || size != size_default ? refuse : ok;
    }
    if (f_remote_ip6.contains(off) || f_local_ip6.contains(off) || f_remote_ip4.contains(off) ||
        f_local_ip4.contains(off)) {
        return size != size_default ? refuse : ok;
    }
    if (f_flow_keys.contains(off)) return refuse;
    if (f_hwtstamp.contains(off)) {
        return type == BpfAccess::write || size != sizeof(uint64_t) ? refuse : ok;
    }
    if (f_tstamp.contains(off)) return size != sizeof(uint64_t) ? refuse : ok;
    if (f_sk.contains(off)) {
        if (type == BpfAccess::write || size != sizeof(uint64_t)) return refuse;
        return {true, CtxRegType::sock_common_or_null, 0};
    }
    if (off == f_tstamp_type.off || f_padding.contains(off)) return refuse;

    // Only narrow reads: writes are of the whole field.
    if (type == BpfAccess::write) return size != size_default ? refuse : ok;
    if (!bpf_ctx_narrow_access_ok(size, size_default)) return refuse;
    return {true, reg_type, size_default};
}

// sk_filter_is_valid_access: no packet pointers, no tc fields; only cb is writable.
CtxAccess sk_filter_is_valid_access(int off, int size, BpfAccess type, bool is_ldsx) {
    for (Field f : {f_tc_classid, f_data, f_data_meta, f_data_end, f_sk_skb_fields, f_tstamp,
                    f_wire_len, f_hwtstamp}) {
        if (f.contains(off)) return refuse;
    }
    if (type == BpfAccess::write && !f_cb.contains(off)) return refuse;
    return bpf_skb_is_valid_access(off, size, type, is_ldsx);
}

// cg_skb_is_valid_access, for a loader with CAP_BPF (data and data_end readable, tstamp
// writable).
CtxAccess cg_skb_is_valid_access(int off, int size, BpfAccess type, bool is_ldsx) {
    for (Field f : {f_tc_classid, f_data_meta, f_wire_len}) {
        if (f.contains(off)) return refuse;
    }
    if (type == BpfAccess::write) {
        bool writable = false;
        for (Field f : {f_mark, f_priority, f_cb, f_tstamp})
            writable |= f.contains(off);
        if (!writable) return refuse;
    }
    CtxRegType reg_type = CtxRegType::scalar;
    if (f_data.contains(off)) reg_type = CtxRegType::packet;
    if (f_data_end.contains(off)) reg_type = CtxRegType::packet_end;
    return bpf_skb_is_valid_access(off, size, type, is_ldsx, reg_type);
}

// tc_cls_act_is_valid_access: sched_cls and sched_act.
CtxAccess tc_cls_act_is_valid_access(int off, int size, BpfAccess type, bool is_ldsx) {
    if (type == BpfAccess::write) {
        bool writable = false;
        for (Field f :
             {f_mark, f_tc_index, f_priority, f_tc_classid, f_cb, f_tstamp, f_queue_mapping}) {
            writable |= f.contains(off);
        }
        if (!writable) return refuse;
    }
    CtxRegType reg_type = CtxRegType::scalar;
    if (f_data.contains(off)) reg_type = CtxRegType::packet;
    if (f_data_meta.contains(off)) reg_type = CtxRegType::packet_meta;
    if (f_data_end.contains(off)) reg_type = CtxRegType::packet_end;
    if (f_sk_skb_fields.contains(off)) return refuse;
    if (off == f_tstamp_type.off) {
        return size == sizeof(uint8_t) ? CtxAccess{true, CtxRegType::scalar, 0} : refuse;
    }
    return bpf_skb_is_valid_access(off, size, type, is_ldsx, reg_type);
}

constexpr int skb_off(size_t runtime_offset) {
    return static_cast<int>(runtime_offset);
}

// NO_QUEUE_MAPPING: a queue_mapping store of it (or above) is dropped.
constexpr int32_t no_queue_mapping = 0xffff;

// bpf_convert_ctx_access (and tc_cls_act_convert_ctx_access, which differs only in not testing
// skb->dev for null): one __sk_buff access as instructions on SkBuff. target_size is the size of
// the SkBuff field read, which decides how a narrow load is cut.
void bpf_convert_ctx_access(BpfAccess type, const Insn& si, CtxRewrite& out) {
    const uint8_t dst = si.dst, src = si.src;
    const bool write = type == BpfAccess::write;
    // A whole-field load or store of a SkBuff field.
    auto field = [&](uint8_t size, size_t offset) {
        out.emit(write ? emit_store(size, si, skb_off(offset))
                       : ldx_mem(size, dst, src, skb_off(offset)));
        out.target_size = size == BPF_B ? 1 : size == BPF_H ? 2 : size == BPF_W ? 4 : 8;
    };
    // A load of a field of skb->sk's bpf_sock (a 16-bit load reads the low half of a u32 field
    // on the little-endian hosts the engines run on).
    auto sock_field = [&](uint8_t size, size_t offset) {
        out.emit(ldx_mem(BPF_DW, dst, src, skb_off(offsetof(SkBuff, sk))));
        out.emit(ldx_mem(size, dst, dst, static_cast<int>(offset)));
    };

    const int off = si.off;
    switch (off) {
    case offsetof(SkBuffMd, len): field(BPF_W, offsetof(SkBuff, len)); return;
    case offsetof(SkBuffMd, pkt_type): field(BPF_B, offsetof(SkBuff, pkt_type)); return;
    case offsetof(SkBuffMd, mark): field(BPF_W, offsetof(SkBuff, mark)); return;
    case offsetof(SkBuffMd, queue_mapping):
        if (write) {
            if (bpf_class(si.opcode) == BPF_ST && si.imm >= no_queue_mapping) {
                out.emit(jmp_a(0)); // no-op
                out.target_size = 2;
                return;
            }
            if (bpf_class(si.opcode) == BPF_STX) {
                out.emit(jmp_imm(BPF_JGE, src, no_queue_mapping, 1));
            }
        }
        field(BPF_H, offsetof(SkBuff, queue_mapping));
        return;
    case offsetof(SkBuffMd, protocol): field(BPF_H, offsetof(SkBuff, protocol)); return;
    case offsetof(SkBuffMd, vlan_present): field(BPF_W, offsetof(SkBuff, vlan_present)); return;
    case offsetof(SkBuffMd, vlan_tci): field(BPF_H, offsetof(SkBuff, vlan_tci)); return;
    case offsetof(SkBuffMd, vlan_proto): field(BPF_H, offsetof(SkBuff, vlan_proto)); return;
    case offsetof(SkBuffMd, priority): field(BPF_W, offsetof(SkBuff, priority)); return;
    case offsetof(SkBuffMd, ingress_ifindex): field(BPF_W, offsetof(SkBuff, skb_iif)); return;
    case offsetof(SkBuffMd, ifindex): field(BPF_W, offsetof(SkBuff, ifindex)); return;
    case offsetof(SkBuffMd, tc_index): field(BPF_H, offsetof(SkBuff, tc_index)); return;
    case offsetof(SkBuffMd, hash): field(BPF_W, offsetof(SkBuff, hash)); return;
    case offsetof(SkBuffMd, tc_classid): field(BPF_H, offsetof(SkBuff, tc_classid)); return;
    case offsetof(SkBuffMd, napi_id): field(BPF_W, offsetof(SkBuff, napi_id)); return;
    case offsetof(SkBuffMd, data):
        out.emit(ldx_mem(BPF_DW, dst, src, skb_off(offsetof(SkBuff, data))));
        return;
    case offsetof(SkBuffMd, data_end):
        out.emit(ldx_mem(BPF_DW, dst, src, skb_off(offsetof(SkBuff, data_end))));
        return;
    case offsetof(SkBuffMd, data_meta):
        out.emit(ldx_mem(BPF_DW, dst, src, skb_off(offsetof(SkBuff, data_meta))));
        return;
    case offsetof(SkBuffMd, family):
        sock_field(BPF_H, offsetof(BpfSock, family));
        out.target_size = 2;
        return;
    case offsetof(SkBuffMd, remote_ip4):
        sock_field(BPF_W, offsetof(BpfSock, dst_ip4));
        out.target_size = 4;
        return;
    case offsetof(SkBuffMd, local_ip4):
        sock_field(BPF_W, offsetof(BpfSock, src_ip4));
        out.target_size = 4;
        return;
    case offsetof(SkBuffMd, remote_port):
        sock_field(BPF_H, offsetof(BpfSock, dst_port));
        // The kernel gives the network-order port in the upper 16 bits (little-endian hosts).
        out.emit(alu32_imm(BPF_LSH, dst, 16));
        out.target_size = 2;
        return;
    case offsetof(SkBuffMd, local_port):
        sock_field(BPF_H, offsetof(BpfSock, src_port));
        out.target_size = 2;
        return;
    case offsetof(SkBuffMd, tstamp): field(BPF_DW, offsetof(SkBuff, tstamp)); return;
    case offsetof(SkBuffMd, tstamp_type):
        out.emit(ldx_mem(BPF_B, dst, src, skb_off(offsetof(SkBuff, tstamp_type))));
        return;
    case offsetof(SkBuffMd, gso_segs): field(BPF_H, offsetof(SkBuff, gso_segs)); return;
    case offsetof(SkBuffMd, gso_size): field(BPF_H, offsetof(SkBuff, gso_size)); return;
    case offsetof(SkBuffMd, wire_len): field(BPF_W, offsetof(SkBuff, wire_len)); return;
    case offsetof(SkBuffMd, sk):
        out.emit(ldx_mem(BPF_DW, dst, src, skb_off(offsetof(SkBuff, sk))));
        return;
    case offsetof(SkBuffMd, hwtstamp): field(BPF_DW, offsetof(SkBuff, hwtstamp)); return;
    default: break;
    }
    // cb and the IPv6 addresses: any (verified) offset inside them, at the access's own size.
    if (f_cb.contains(off)) {
        const int at = off - f_cb.off + skb_off(offsetof(SkBuff, cb));
        const uint8_t size = bpf_size(si.opcode);
        out.emit(write ? emit_store(size, si, at) : ldx_mem(size, dst, src, at));
    } else if (f_remote_ip6.contains(off)) {
        sock_field(BPF_W, offsetof(BpfSock, dst_ip6) + (off - f_remote_ip6.off));
    } else if (f_local_ip6.contains(off)) {
        sock_field(BPF_W, offsetof(BpfSock, src_ip6) + (off - f_local_ip6.off));
    }
}

// sk_filter_func_proto
constexpr HelperSet sk_filter_helpers =
    sk_base_func_proto | HelperSet{H::skb_load_bytes,    H::skb_load_bytes_relative,
                                   H::get_socket_cookie, H::get_netns_cookie,
                                   H::get_socket_uid,    H::perf_event_output};

// cg_skb_func_proto over cgroup_common_func_proto (get_retval and set_retval are refused to
// INET_INGRESS and INET_EGRESS programs).
constexpr HelperSet cg_skb_helpers =
    sk_filter_helpers | HelperSet{H::get_local_storage, H::sk_fullsock,
                                  H::sk_storage_get,    H::sk_storage_delete,
                                  H::skb_cgroup_id,     H::skb_ancestor_cgroup_id,
                                  H::sk_cgroup_id,      H::sk_ancestor_cgroup_id,
                                  H::sk_lookup_tcp,     H::sk_lookup_udp,
                                  H::sk_release,        H::skc_lookup_tcp,
                                  H::tcp_sock,          H::get_listener_sock,
                                  H::skb_ecn_set_ce};

// tc_cls_act_func_proto
constexpr HelperSet tc_cls_act_helpers =
    sk_base_func_proto | HelperSet{H::skb_store_bytes,
                                   H::skb_load_bytes,
                                   H::skb_load_bytes_relative,
                                   H::skb_pull_data,
                                   H::csum_diff,
                                   H::csum_update,
                                   H::csum_level,
                                   H::l3_csum_replace,
                                   H::l4_csum_replace,
                                   H::clone_redirect,
                                   H::get_cgroup_classid,
                                   H::skb_vlan_push,
                                   H::skb_vlan_pop,
                                   H::skb_change_proto,
                                   H::skb_change_type,
                                   H::skb_adjust_room,
                                   H::skb_change_tail,
                                   H::skb_change_head,
                                   H::skb_get_tunnel_key,
                                   H::skb_set_tunnel_key,
                                   H::skb_get_tunnel_opt,
                                   H::skb_set_tunnel_opt,
                                   H::redirect,
                                   H::redirect_neigh,
                                   H::redirect_peer,
                                   H::get_route_realm,
                                   H::get_hash_recalc,
                                   H::set_hash_invalid,
                                   H::set_hash,
                                   H::perf_event_output,
                                   H::get_smp_processor_id,
                                   H::skb_under_cgroup,
                                   H::get_socket_cookie,
                                   H::get_netns_cookie,
                                   H::get_socket_uid,
                                   H::fib_lookup,
                                   H::check_mtu,
                                   H::sk_fullsock,
                                   H::sk_storage_get,
                                   H::sk_storage_delete,
                                   H::skb_get_xfrm_state,
                                   H::skb_cgroup_classid,
                                   H::skb_cgroup_id,
                                   H::skb_ancestor_cgroup_id,
                                   H::sk_lookup_tcp,
                                   H::sk_lookup_udp,
                                   H::sk_release,
                                   H::tcp_sock,
                                   H::get_listener_sock,
                                   H::skc_lookup_tcp,
                                   H::tcp_check_syncookie,
                                   H::skb_ecn_set_ce,
                                   H::tcp_gen_syncookie,
                                   H::sk_assign,
                                   H::skb_set_tstamp,
                                   H::tcp_raw_gen_syncookie_ipv4,
                                   H::tcp_raw_gen_syncookie_ipv6,
                                   H::tcp_raw_check_syncookie_ipv4,
                                   H::tcp_raw_check_syncookie_ipv6};

constexpr ReturnCode tc_act_codes[] = {
    {-1, "TC_ACT_UNSPEC"},  {0, "TC_ACT_OK"},     {1, "TC_ACT_RECLASSIFY"}, {2, "TC_ACT_SHOT"},
    {3, "TC_ACT_PIPE"},     {4, "TC_ACT_STOLEN"}, {5, "TC_ACT_QUEUED"},     {6, "TC_ACT_REPEAT"},
    {7, "TC_ACT_REDIRECT"}, {8, "TC_ACT_TRAP"},
};

constexpr ProgTypeInfo socket_filter_info{ProgType::socket_filter,
                                          "socket_filter",
                                          sizeof(SkBuffMd),
                                          sk_filter_is_valid_access,
                                          bpf_convert_ctx_access,
                                          sk_filter_helpers,
                                          PacketAccess::none,
                                          true,
                                          std::nullopt,
                                          {}};
constexpr ProgTypeInfo sched_cls_info{ProgType::sched_cls,
                                      "sched_cls",
                                      sizeof(SkBuffMd),
                                      tc_cls_act_is_valid_access,
                                      bpf_convert_ctx_access,
                                      tc_cls_act_helpers,
                                      PacketAccess::read_write,
                                      true,
                                      std::nullopt,
                                      tc_act_codes};
constexpr ProgTypeInfo sched_act_info{ProgType::sched_act,
                                      "sched_act",
                                      sizeof(SkBuffMd),
                                      tc_cls_act_is_valid_access,
                                      bpf_convert_ctx_access,
                                      tc_cls_act_helpers,
                                      PacketAccess::read_write,
                                      true,
                                      std::nullopt,
                                      tc_act_codes};
// cgroup_skb: 1 lets the packet pass, 0 drops it; LD_ABS is not allowed.
constexpr ProgTypeInfo cgroup_skb_info{ProgType::cgroup_skb,   "cgroup_skb",
                                       sizeof(SkBuffMd),       cg_skb_is_valid_access,
                                       bpf_convert_ctx_access, cg_skb_helpers,
                                       PacketAccess::read,     false,
                                       RetvalRange{0, 1},      {}};

constexpr SkBuffWritable cb_writable{offsetof(SkBuff, cb),
                                     offsetof(SkBuff, cb) + sizeof(SkBuff::cb)};
constexpr SkBuffWritable sk_filter_writable[] = {cb_writable};
constexpr SkBuffWritable cg_skb_writable[] = {
    {offsetof(SkBuff, cb), offsetof(SkBuff, priority) + sizeof(SkBuff::priority)},
    {offsetof(SkBuff, tstamp), offsetof(SkBuff, tstamp) + sizeof(SkBuff::tstamp)}};
constexpr SkBuffWritable tc_writable[] = {
    {offsetof(SkBuff, cb), offsetof(SkBuff, queue_mapping) + sizeof(SkBuff::queue_mapping)}};
static_assert(offsetof(SkBuff, cb) == 0 && offsetof(SkBuff, cb) % 8 == 0);
static_assert(offsetof(SkBuff, queue_mapping) + sizeof(SkBuff::queue_mapping) ==
              offsetof(SkBuff, pkt_type));

// bpf_prog_test_run_skb's buffer, as on x86-64: NET_SKB_PAD + NET_IP_ALIGN of headroom and
// SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) of tailroom in a page.
constexpr size_t page_size = 4096, skb_headroom = 64, skb_tailroom = 320;
// BPF_SKB_MAX_LEN: SKB_MAX_ALLOC, four pages less the shared info.
constexpr size_t skb_max_len = 4 * page_size - skb_tailroom;
constexpr uint32_t gso_legacy_max_size = 65536, gso_max_segs = 65535;

// A 16-bit value as it sits in memory in network byte order.
constexpr uint16_t be16(uint16_t v) {
    return std::endian::native == std::endian::little ? static_cast<uint16_t>(v << 8 | v >> 8) : v;
}

bool is_zero(const uint8_t* p, size_t from, size_t to) {
    return std::all_of(p + from, p + to, [](uint8_t b) { return b == 0; });
}

// bpf_internal_load_pointer_neg_helper: SKF_NET_OFF + n reads n bytes past the network header,
// SKF_LL_OFF + n past the MAC header, anywhere from the buffer's start to the packet's end.
const uint8_t* load_pointer_neg(const RunState& state, int64_t k, uint32_t size) {
    constexpr int64_t skf_net_off = -0x100000, skf_ll_off = -0x200000;
    const auto& skb = *static_cast<const SkBuff*>(state.ctx);
    uintptr_t p;
    if (k >= skf_net_off)
        p = reinterpret_cast<uintptr_t>(skb.network_header) +
            static_cast<uintptr_t>(k - skf_net_off);
    else if (k >= skf_ll_off)
        p = reinterpret_cast<uintptr_t>(skb.mac_header) + static_cast<uintptr_t>(k - skf_ll_off);
    else
        return nullptr;
    const auto head = reinterpret_cast<uintptr_t>(skb.head);
    const auto tail = reinterpret_cast<uintptr_t>(skb.data) + skb.len;
    if (p < head || p > tail || tail - p < size) return nullptr;
    return reinterpret_cast<const uint8_t*>(p);
}

} // namespace

std::span<const SkBuffWritable> skb_writable(ProgType type) {
    switch (type) {
    case ProgType::socket_filter: return sk_filter_writable;
    case ProgType::cgroup_skb: return cg_skb_writable;
    case ProgType::sched_cls:
    case ProgType::sched_act: return tc_writable;
    default: return {};
    }
}

const ProgTypeInfo* skb_prog_type_info(ProgType type) {
    switch (type) {
    case ProgType::socket_filter: return &socket_filter_info;
    case ProgType::sched_cls: return &sched_cls_info;
    case ProgType::sched_act: return &sched_act_info;
    case ProgType::cgroup_skb: return &cgroup_skb_info;
    default: return nullptr;
    }
}

Result<std::unique_ptr<SkbTestRun>> SkbTestRun::create(ProgType type, const TestRunInput& input) {
    if (!skb_prog_type_info(type)) return Error{"not an __sk_buff program type", std::nullopt};
    const size_t size = input.data.size();
    if (size < uapi::eth_hlen || size > page_size - skb_headroom - skb_tailroom) {
        return test_run_error("EINVAL",
                              "data_in must hold 14 to " +
                                  std::to_string(page_size - skb_headroom - skb_tailroom) +
                                  " bytes, not " + std::to_string(size));
    }
    auto ctx_buf = bpf_ctx_init(input, sizeof(SkBuffMd));
    if (!ctx_buf) return ctx_buf.error();

    std::unique_ptr<SkbTestRun> run(new SkbTestRun);
    run->type_ = type;
    run->is_l2_ = type == ProgType::sched_cls || type == ProgType::sched_act;
    // Room for bpf_skb_change_tail to grow the packet to BPF_SKB_MAX_LEN in place, and a page
    // more for helpers that push headers to move the packet into (as the kernel reallocates the
    // head when the headroom runs out).
    run->buf_.assign(skb_headroom + std::max(size, skb_max_len) + page_size + skb_tailroom, 0);
    uint8_t* eth = run->buf_.data() + skb_headroom;
    std::memcpy(eth, input.data.data(), size);
    SkBuff& skb = run->skb_;
    // The socket bpf_prog_test_run_skb allocates (sk_alloc, sock_init_data with no struct socket):
    // a full socket of no type or protocol, closed, with no receive queue recorded.
    BpfSock& sk = run->sk_.sk;
    sk.state = tcp_state::close;
    sk.rx_queue_mapping = sock_no_queue_mapping;

    uapi::SkBuffMd md{};
    if (*ctx_buf) std::memcpy(&md, (*ctx_buf)->data(), sizeof md);

    // The device: the loopback's (ifindex 1, an all-zero address and broadcast address), or the
    // one ctx_in names, which this VM takes as it is.
    skb.ifindex = *ctx_buf && md.ifindex > 1 ? md.ifindex : 1;

    // eth_type_trans: pkt_type from the destination address, protocol from the EtherType, and
    // data past the Ethernet header.
    const uint8_t* dest = eth;
    if (!is_zero(dest, 0, uapi::eth_alen)) {
        skb.pkt_type = dest[0] & 1 ? uapi::packet_multicast : uapi::packet_otherhost;
    }
    uint16_t h_proto;
    std::memcpy(&h_proto, eth + 12, sizeof h_proto);
    if (be16(h_proto) >= uapi::eth_p_802_3_min) {
        skb.protocol = h_proto;
    } else if (size >= uapi::eth_hlen + 2 && eth[14] == 0xff && eth[15] == 0xff) {
        skb.protocol = be16(uapi::eth_p_802_3); // Novell's raw 802.3
    } else {
        skb.protocol = be16(uapi::eth_p_802_2);
    }

    // The socket bpf_prog_test_run_skb attaches: the packet's family and addresses. Linux 6.18
    // refuses an IPv4 or IPv6 packet too short for its network header.
    const uint8_t* network = eth + uapi::eth_hlen;
    const size_t network_len = size - uapi::eth_hlen;
    if (skb.protocol == be16(uapi::eth_p_ip)) {
        if (network_len < 20)
            return test_run_error("EINVAL", "IPv4 packet shorter than its header");
        sk.family = uapi::af_inet;
        std::memcpy(&sk.src_ip4, network + 12, 4);
        std::memcpy(&sk.dst_ip4, network + 16, 4);
    } else if (skb.protocol == be16(uapi::eth_p_ipv6)) {
        if (network_len < 40)
            return test_run_error("EINVAL", "IPv6 packet shorter than its header");
        sk.family = uapi::af_inet6;
        std::memcpy(sk.src_ip6, network + 8, 16);
        std::memcpy(sk.dst_ip6, network + 24, 16);
    }
    skb.sk = &sk;

    skb.data = run->is_l2_ ? eth : eth + uapi::eth_hlen;
    skb.len = static_cast<uint32_t>(run->is_l2_ ? size : network_len);
    skb.data_end = skb.data + skb.len;
    skb.data_meta = skb.data;
    skb.head = run->buf_.data();
    skb.end = run->buf_.data() + run->buf_.size() - skb_tailroom;
    skb.mac_header = eth;
    skb.network_header = eth + uapi::eth_hlen;

    // convert___skb_to_skb: the fields ctx_in may set; all others must be zero.
    if (*ctx_buf) {
        const auto* p = reinterpret_cast<const uint8_t*>(&md);
        const bool zero_elsewhere =
            is_zero(p, 0, f_mark.off) && is_zero(p, f_mark.end(), f_priority.off) &&
            is_zero(p, f_ifindex.end(), f_cb.off) && is_zero(p, f_cb.end(), f_tstamp.off) &&
            is_zero(p, f_gso_segs.end(), f_gso_size.off) &&
            is_zero(p, f_gso_size.end(), f_hwtstamp.off) && is_zero(p, f_hwtstamp.end(), sizeof md);
        if (!zero_elsewhere) {
            return test_run_error("EINVAL", "ctx_in sets __sk_buff fields other than mark, "
                                            "priority, ingress_ifindex, ifindex, cb, tstamp, "
                                            "wire_len, gso_segs, gso_size and hwtstamp");
        }
        skb.mark = md.mark;
        skb.priority = md.priority;
        skb.skb_iif = md.ingress_ifindex;
        skb.tstamp = md.tstamp;
        std::memcpy(skb.cb, md.cb, sizeof skb.cb);
        if (md.wire_len == 0) {
            skb.wire_len = skb.len;
        } else if (md.wire_len < skb.len || md.wire_len > gso_legacy_max_size) {
            return test_run_error("EINVAL", "ctx_in wire_len below the packet length or above "
                                            "GSO_LEGACY_MAX_SIZE");
        } else {
            skb.wire_len = md.wire_len;
        }
        if (md.gso_segs > gso_max_segs) {
            return test_run_error("EINVAL", "ctx_in gso_segs above GSO_MAX_SEGS");
        }
        skb.gso_segs = static_cast<uint16_t>(md.gso_segs);
        skb.gso_size = static_cast<uint16_t>(md.gso_size);
        skb.hwtstamp = md.hwtstamp;
        run->ctx_ = md;
    }
    return run;
}

Status SkbTestRun::attach(RunState& state) {
    state.packet = skb_.data;
    state.packet_len = skb_.len;
    state.load_pointer_neg = &load_pointer_neg;
    state.ctx = &skb_;
    state.ctx_prog_type = static_cast<uint32_t>(type_);
    state.ctx_sock = &sk_; // its views are readable, and it may be passed to helpers
    bool ok = state.allow(&skb_, sizeof skb_, false);
    for (const SkBuffWritable& w : skb_writable(type_)) {
        ok = ok && state.allow(reinterpret_cast<uint8_t*>(&skb_) + w.begin, w.end - w.begin, true);
    }
    const PacketAccess access = skb_prog_type_info(type_)->packet_access;
    if (access != PacketAccess::none) {
        // The packet as helpers (bpf_skb_change_tail) move its bounds.
        ok = ok &&
             state.allow_moving(access == PacketAccess::read_write ? &skb_.data_meta : &skb_.data,
                                &skb_.data_end, access == PacketAccess::read_write);
    }
    if (!ok) return Error{"the run's memory region table is full", std::nullopt};
    return std::nullopt;
}

std::vector<uint8_t> SkbTestRun::data_out() const {
    // Network-layer types get the Ethernet header back as zeros, as the kernel's test run does.
    const size_t prefix = is_l2_ ? 0 : uapi::eth_hlen;
    std::vector<uint8_t> out(prefix + skb_.len, 0);
    if (skb_.len) std::memcpy(out.data() + prefix, skb_.data, skb_.len);
    return out;
}

std::optional<std::vector<uint8_t>> SkbTestRun::ctx_out() const {
    if (!ctx_) return std::nullopt;
    // convert_skb_to___skb
    uapi::SkBuffMd md = *ctx_;
    md.mark = skb_.mark;
    md.priority = skb_.priority;
    md.ingress_ifindex = skb_.skb_iif;
    md.ifindex = skb_.ifindex;
    md.tstamp = skb_.tstamp;
    std::memcpy(md.cb, skb_.cb, sizeof md.cb);
    md.wire_len = skb_.wire_len;
    md.gso_segs = skb_.gso_segs;
    md.hwtstamp = skb_.hwtstamp;
    std::vector<uint8_t> out(sizeof md);
    std::memcpy(out.data(), &md, sizeof md);
    return out;
}

} // namespace ebpf
