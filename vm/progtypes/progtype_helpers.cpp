#include "vm/progtypes/progtype_helpers.hpp"

#include "helpers/checked.hpp"
#include "helpers/kernel_helpers.hpp"
#include "vm/progtypes/prog_type.hpp"

namespace ebpf {
namespace progtypes {
namespace {

bool is_skb_type(uint32_t type) {
    switch (static_cast<ProgType>(type)) {
    case ProgType::socket_filter:
    case ProgType::sched_cls:
    case ProgType::sched_act:
    case ProgType::cgroup_skb: return true;
    default: return false;
    }
}

// One id, one helper per program type, as the types' get_func_proto give: the run's context
// type picks. A run with no context type set gets tc's bpf_redirect and the tracing types'
// bpf_perf_event_output.
uint64_t redirect(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                  RunState* state) {
    if (state->ctx_prog_type == static_cast<uint32_t>(ProgType::xdp))
        return xdp_redirect(r1, r2, r3, r4, r5, state);
    return skb_redirect(r1, r2, r3, r4, r5, state);
}

uint64_t perf_event_output(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                           RunState* state) {
    if (state->ctx_prog_type == static_cast<uint32_t>(ProgType::xdp))
        return xdp_event_output(r1, r2, r3, r4, r5, state);
    if (is_skb_type(state->ctx_prog_type)) return skb_event_output(r1, r2, r3, r4, r5, state);
    return helpers::perf_event_output(r1, r2, r3, r4, r5, state);
}

} // namespace
} // namespace progtypes

void register_progtype_helpers(HelperRegistry& registry) {
    using namespace progtypes;
    using H = KernelHelper;
    add_kernel_helper<H::skb_load_bytes, skb_load_bytes>(registry);
    add_kernel_helper<H::skb_store_bytes, skb_store_bytes>(registry);
    add_kernel_helper<H::skb_pull_data, skb_pull_data>(registry);
    add_kernel_helper<H::skb_change_tail, skb_change_tail>(registry);
    add_kernel_helper<H::l3_csum_replace, l3_csum_replace>(registry);
    add_kernel_helper<H::l4_csum_replace, l4_csum_replace>(registry);
    add_kernel_helper<H::xdp_adjust_head, xdp_adjust_head>(registry);
    add_kernel_helper<H::xdp_adjust_tail, xdp_adjust_tail>(registry);
    add_kernel_helper<H::xdp_adjust_meta, xdp_adjust_meta>(registry);
    add_kernel_helper<H::redirect_map, xdp_redirect_map>(registry);
    add_kernel_helper<H::skb_vlan_push, skb_vlan_push>(registry);
    add_kernel_helper<H::skb_vlan_pop, skb_vlan_pop>(registry);
    add_kernel_helper<H::get_hash_recalc, get_hash_recalc>(registry);
    add_kernel_helper<H::set_hash, set_hash>(registry);
    add_kernel_helper<H::set_hash_invalid, set_hash_invalid>(registry);
    add_kernel_helper<H::get_route_realm, get_route_realm>(registry);
    add_kernel_helper<H::skb_change_type, skb_change_type>(registry);
    add_kernel_helper<H::skb_change_proto, skb_change_proto>(registry);
    add_kernel_helper<H::clone_redirect, clone_redirect>(registry);
    add_kernel_helper<H::get_cgroup_classid, get_cgroup_classid>(registry);
    add_kernel_helper<H::get_socket_cookie, get_socket_cookie>(registry);
    add_kernel_helper<H::get_socket_uid, get_socket_uid>(registry);
    add_kernel_helper<H::csum_update, progtypes::csum_update>(registry);
    add_kernel_helper<H::sk_lookup_tcp, sk_lookup_tcp>(registry);
    add_kernel_helper<H::sk_lookup_udp, sk_lookup_udp>(registry);
    add_kernel_helper<H::skc_lookup_tcp, skc_lookup_tcp>(registry);
    add_kernel_helper<H::fib_lookup, fib_lookup>(registry);
    add_kernel_helper<H::check_mtu, check_mtu>(registry);
    add_kernel_helper<H::skb_load_bytes_relative, skb_load_bytes_relative>(registry);
    add_kernel_helper<H::skb_adjust_room, skb_adjust_room>(registry);
    add_kernel_helper<H::skb_change_head, skb_change_head>(registry);
    add_kernel_helper<H::csum_level, csum_level>(registry);
    add_kernel_helper<H::skb_ecn_set_ce, skb_ecn_set_ce>(registry);
    add_kernel_helper<H::skb_get_tunnel_key, skb_get_tunnel_key>(registry);
    add_kernel_helper<H::skb_set_tunnel_key, skb_set_tunnel_key>(registry);
    add_kernel_helper<H::skb_get_tunnel_opt, skb_get_tunnel_opt>(registry);
    add_kernel_helper<H::skb_set_tunnel_opt, skb_set_tunnel_opt>(registry);
    add_kernel_helper<H::skb_get_xfrm_state, skb_get_xfrm_state>(registry);
    add_kernel_helper<H::skb_set_tstamp, skb_set_tstamp>(registry);
    add_kernel_helper<H::skb_cgroup_classid, skb_cgroup_classid>(registry);
    add_kernel_helper<H::redirect_neigh, redirect_neigh>(registry);
    add_kernel_helper<H::redirect_peer, redirect_peer>(registry);
    add_kernel_helper<H::xdp_get_buff_len, xdp_get_buff_len>(registry);
    add_kernel_helper<H::xdp_load_bytes, xdp_load_bytes>(registry);
    add_kernel_helper<H::xdp_store_bytes, xdp_store_bytes>(registry);
    add_kernel_helper<H::skb_cgroup_id, skb_cgroup_id>(registry);
    add_kernel_helper<H::skb_ancestor_cgroup_id, skb_ancestor_cgroup_id>(registry);
    add_kernel_helper<H::sk_cgroup_id, sk_cgroup_id>(registry);
    add_kernel_helper<H::sk_ancestor_cgroup_id, sk_ancestor_cgroup_id>(registry);
    add_kernel_helper<H::get_netns_cookie, get_netns_cookie>(registry);
    add_kernel_helper<H::get_func_ip, get_func_ip>(registry);
    add_kernel_helper<H::get_attach_cookie, get_attach_cookie>(registry);
    add_kernel_helper<H::perf_prog_read_value, perf_prog_read_value>(registry);
    add_kernel_helper<H::read_branch_records, read_branch_records>(registry);
    add_kernel_helper<H::redirect, progtypes::redirect>(registry);
    add_kernel_helper<H::perf_event_output, progtypes::perf_event_output>(registry);
}

} // namespace ebpf
