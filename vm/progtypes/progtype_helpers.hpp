// The kernel helpers that take a program type's runtime context (net/core/filter.c): the skb
// types' (skb_helpers.cpp), xdp's (xdp_helpers.cpp), and those whose meaning depends on the type
// (bpf_redirect, bpf_perf_event_output), which go by RunState::ctx_prog_type.
#pragma once

#include "helpers/registry.hpp"

#include <cstdint>

namespace ebpf {

// Adds them to a registry that has the kernel helpers already; Vm's constructor calls it.
void register_progtype_helpers(HelperRegistry& registry);

struct SkBuff;

namespace progtypes {

#define EBPF_HELPER_DECL(name)                                                                     \
    uint64_t name(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, RunState* state)

// skb_helpers.cpp
EBPF_HELPER_DECL(skb_load_bytes);
EBPF_HELPER_DECL(skb_store_bytes);
EBPF_HELPER_DECL(skb_pull_data);
EBPF_HELPER_DECL(skb_change_tail);
EBPF_HELPER_DECL(l3_csum_replace);
EBPF_HELPER_DECL(l4_csum_replace);
EBPF_HELPER_DECL(skb_load_bytes_relative);
EBPF_HELPER_DECL(skb_redirect); // bpf_redirect for tc
EBPF_HELPER_DECL(redirect_neigh);
EBPF_HELPER_DECL(redirect_peer);
EBPF_HELPER_DECL(skb_set_tstamp);
EBPF_HELPER_DECL(skb_event_output); // bpf_perf_event_output for the skb types
// skb_room_helpers.cpp
EBPF_HELPER_DECL(skb_adjust_room);
EBPF_HELPER_DECL(skb_change_head);
// skb_tunnel_helpers.cpp
EBPF_HELPER_DECL(skb_get_tunnel_key);
EBPF_HELPER_DECL(skb_set_tunnel_key);
EBPF_HELPER_DECL(skb_get_tunnel_opt);
EBPF_HELPER_DECL(skb_set_tunnel_opt);
EBPF_HELPER_DECL(skb_get_xfrm_state);
// xdp_helpers.cpp
EBPF_HELPER_DECL(xdp_adjust_head);
EBPF_HELPER_DECL(xdp_adjust_tail);
EBPF_HELPER_DECL(xdp_adjust_meta);
EBPF_HELPER_DECL(xdp_redirect); // bpf_redirect for xdp
EBPF_HELPER_DECL(xdp_redirect_map);
EBPF_HELPER_DECL(xdp_event_output); // bpf_perf_event_output for xdp
EBPF_HELPER_DECL(xdp_get_buff_len);
EBPF_HELPER_DECL(xdp_load_bytes);
EBPF_HELPER_DECL(xdp_store_bytes);
// cgroup_helpers.cpp (the skb types)
EBPF_HELPER_DECL(skb_cgroup_id);
EBPF_HELPER_DECL(skb_ancestor_cgroup_id);
EBPF_HELPER_DECL(sk_cgroup_id);
EBPF_HELPER_DECL(sk_ancestor_cgroup_id);
EBPF_HELPER_DECL(skb_cgroup_classid);
EBPF_HELPER_DECL(get_netns_cookie);
// tracing_helpers.cpp
EBPF_HELPER_DECL(get_func_ip);
EBPF_HELPER_DECL(get_attach_cookie);
EBPF_HELPER_DECL(perf_prog_read_value);
EBPF_HELPER_DECL(read_branch_records);

// skb_header_helpers.cpp
EBPF_HELPER_DECL(skb_vlan_push);
EBPF_HELPER_DECL(skb_vlan_pop);
EBPF_HELPER_DECL(get_hash_recalc);
EBPF_HELPER_DECL(set_hash);
EBPF_HELPER_DECL(set_hash_invalid);
EBPF_HELPER_DECL(get_route_realm);
EBPF_HELPER_DECL(skb_change_type);
EBPF_HELPER_DECL(skb_change_proto);
EBPF_HELPER_DECL(clone_redirect);
EBPF_HELPER_DECL(get_cgroup_classid);
EBPF_HELPER_DECL(get_socket_cookie);
EBPF_HELPER_DECL(get_socket_uid);
EBPF_HELPER_DECL(csum_update);
EBPF_HELPER_DECL(csum_level);
EBPF_HELPER_DECL(skb_ecn_set_ce);
// sock_helpers.cpp (the skb types and xdp)
EBPF_HELPER_DECL(sk_lookup_tcp);
EBPF_HELPER_DECL(sk_lookup_udp);
EBPF_HELPER_DECL(skc_lookup_tcp);
EBPF_HELPER_DECL(fib_lookup);
EBPF_HELPER_DECL(check_mtu);

#undef EBPF_HELPER_DECL

// The context argument as our sk_buff; a checked run faults (and gets null) unless it is the
// run's own of an skb type (the verifier sees to that in a verified one).
SkBuff* skb_arg(uint64_t r1, RunState* state, const char* helper);
// bpf_compute_data_pointers after the packet's bounds moved; LD_ABS follows.
void packet_moved(SkBuff& skb, RunState* state);
// skb_cow_head: makes `needed` bytes of headroom, moving the packet further into its buffer
// where the kernel would reallocate the head; false where that fails (-ENOMEM).
bool skb_cow_head(SkBuff& skb, uint32_t needed, RunState* state);

// BPF_SKB_MAX_LEN: SKB_MAX_ALLOC on x86-64
inline constexpr uint32_t bpf_skb_max_len = 4 * 4096 - 320;

} // namespace progtypes

} // namespace ebpf
