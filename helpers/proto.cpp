// Prototypes of the kernel helpers (kernel/bpf/helpers.c, net/core/filter.c,
// kernel/trace/bpf_trace.c), by id.
#include "helpers/proto.hpp"

#include "helpers/kernel_ids.hpp"

#include <cstddef>
#include <unordered_map>

namespace ebpf {
namespace {

using A = ArgType;
using R = RetType;
using H = KernelHelper;

HelperProto proto(R ret, std::initializer_list<A> args, bool gpl_only = false,
                  bool pkt_access = false) {
    HelperProto p;
    p.ret = ret;
    std::size_t i = 0;
    for (A a : args)
        p.args[i++] = a;
    p.gpl_only = gpl_only;
    p.pkt_access = pkt_access;
    return p;
}

// The packet helpers of net/core/filter.c that move or rewrite headers, read them, or redirect.
void add_packet_protos(std::unordered_map<int32_t, HelperProto>& m) {
    auto add = [&](H id, HelperProto p) { m[static_cast<int32_t>(id)] = p; };
    add(H::skb_load_bytes_relative,
        proto(R::integer,
              {A::ptr_to_ctx, A::anything, A::ptr_to_uninit_mem, A::const_size, A::anything}));
    add(H::skb_adjust_room,
        proto(R::integer, {A::ptr_to_ctx, A::anything, A::anything, A::anything}));
    add(H::skb_change_head, proto(R::integer, {A::ptr_to_ctx, A::anything, A::anything}));
    add(H::csum_level, proto(R::integer, {A::ptr_to_ctx, A::anything}));
    add(H::skb_ecn_set_ce, proto(R::integer, {A::ptr_to_ctx}));
    add(H::skb_get_tunnel_key,
        proto(R::integer, {A::ptr_to_ctx, A::ptr_to_uninit_mem, A::const_size, A::anything}));
    add(H::skb_set_tunnel_key,
        proto(R::integer, {A::ptr_to_ctx, A::ptr_to_mem, A::const_size, A::anything}));
    add(H::skb_get_tunnel_opt,
        proto(R::integer, {A::ptr_to_ctx, A::ptr_to_uninit_mem, A::const_size}));
    add(H::skb_set_tunnel_opt, proto(R::integer, {A::ptr_to_ctx, A::ptr_to_mem, A::const_size}));
    add(H::skb_get_xfrm_state, proto(R::integer, {A::ptr_to_ctx, A::anything, A::ptr_to_uninit_mem,
                                                  A::const_size, A::anything}));
    add(H::skb_set_tstamp, proto(R::integer, {A::ptr_to_ctx, A::anything, A::anything}));
    add(H::skb_cgroup_classid, proto(R::integer, {A::ptr_to_ctx}));
    add(H::redirect_neigh, proto(R::integer, {A::anything, A::ptr_to_mem_or_null,
                                              A::const_size_or_zero, A::anything}));
    add(H::redirect_peer, proto(R::integer, {A::anything, A::anything}));
    add(H::xdp_get_buff_len, proto(R::integer, {A::ptr_to_ctx}));
    add(H::xdp_load_bytes,
        proto(R::integer, {A::ptr_to_ctx, A::anything, A::ptr_to_uninit_mem, A::const_size}));
    add(H::xdp_store_bytes,
        proto(R::integer, {A::ptr_to_ctx, A::anything, A::ptr_to_mem, A::const_size}));
    add(H::check_mtu, proto(R::integer, {A::ptr_to_ctx, A::anything, A::ptr_to_aligned_u32,
                                         A::anything, A::anything}));
    add(H::skb_cgroup_id, proto(R::integer, {A::ptr_to_ctx}));
    add(H::skb_ancestor_cgroup_id, proto(R::integer, {A::ptr_to_ctx, A::anything}));
    add(H::sk_cgroup_id, proto(R::integer, {A::ptr_to_btf_id_sock_common}));
    add(H::sk_ancestor_cgroup_id, proto(R::integer, {A::ptr_to_btf_id_sock_common, A::anything}));
    add(H::get_netns_cookie, proto(R::integer, {A::ptr_to_ctx}));
    // kprobe's bpf_get_func_ip, and the probe types' bpf_get_attach_cookie (bpf_trace.c)
    add(H::get_func_ip, proto(R::integer, {A::ptr_to_ctx}, true));
    add(H::get_attach_cookie, proto(R::integer, {A::ptr_to_ctx}));
    // perf_event's
    add(H::perf_prog_read_value,
        proto(R::integer, {A::ptr_to_ctx, A::ptr_to_uninit_mem, A::const_size}, true));
    // The buffer is ARG_PTR_TO_MEM_OR_NULL | MEM_WRITE: the helper writes it.
    add(H::read_branch_records,
        proto(R::integer,
              {A::ptr_to_ctx, A::ptr_to_mem_or_null, A::const_size_or_zero, A::anything}, true));
}

// Socket lookups and casts (net/core/filter.c): references acquired, released and shared.
void add_socket_protos(std::unordered_map<int32_t, HelperProto>& m) {
    auto add = [&](H id, HelperProto p, RefKind ref) {
        p.ref = ref;
        m[static_cast<int32_t>(id)] = p;
    };
    const auto lookup = {A::ptr_to_ctx, A::ptr_to_mem, A::const_size, A::anything, A::anything};
    add(H::sk_lookup_tcp, proto(R::ptr_to_socket_or_null, lookup, false, true), RefKind::acquire);
    add(H::sk_lookup_udp, proto(R::ptr_to_socket_or_null, lookup, false, true), RefKind::acquire);
    add(H::skc_lookup_tcp, proto(R::ptr_to_sock_common_or_null, lookup, false, true),
        RefKind::acquire);
    add(H::sk_release, proto(R::integer, {A::ptr_to_btf_id_sock_common}), RefKind::release);
    add(H::sk_fullsock, proto(R::ptr_to_socket_or_null, {A::ptr_to_sock_common}), RefKind::cast);
    add(H::tcp_sock, proto(R::ptr_to_tcp_sock_or_null, {A::ptr_to_sock_common}), RefKind::cast);
    add(H::get_listener_sock, proto(R::ptr_to_socket_or_null, {A::ptr_to_sock_common}),
        RefKind::none);
    for (H cast : {H::skc_to_tcp_sock, H::skc_to_tcp6_sock, H::skc_to_tcp_timewait_sock,
                   H::skc_to_tcp_request_sock, H::skc_to_udp6_sock})
        add(cast, proto(R::ptr_to_btf_id_or_null, {A::ptr_to_btf_id_sock_common}), RefKind::cast);
}

const std::unordered_map<int32_t, HelperProto>& table() {
    static const std::unordered_map<int32_t, HelperProto> protos = [] {
        std::unordered_map<int32_t, HelperProto> m;
        auto add = [&](H id, HelperProto p) { m[static_cast<int32_t>(id)] = p; };
        add(H::map_lookup_elem,
            proto(R::ptr_to_map_value_or_null, {A::const_map_ptr, A::ptr_to_map_key}, false, true));
        add(H::map_update_elem,
            proto(R::integer,
                  {A::const_map_ptr, A::ptr_to_map_key, A::ptr_to_map_value, A::anything}, false,
                  true));
        add(H::map_delete_elem,
            proto(R::integer, {A::const_map_ptr, A::ptr_to_map_key}, false, true));
        add(H::map_push_elem,
            proto(R::integer, {A::const_map_ptr, A::ptr_to_map_value, A::anything}, false, true));
        add(H::map_pop_elem, proto(R::integer, {A::const_map_ptr, A::ptr_to_map_value_uninit}));
        add(H::map_peek_elem, proto(R::integer, {A::const_map_ptr, A::ptr_to_map_value_uninit}));
        add(H::map_lookup_percpu_elem,
            proto(R::ptr_to_map_value_or_null, {A::const_map_ptr, A::ptr_to_map_key, A::anything},
                  false, true));
        add(H::probe_read,
            proto(R::integer, {A::ptr_to_uninit_mem, A::const_size_or_zero, A::anything}, true));
        add(H::probe_read_kernel,
            proto(R::integer, {A::ptr_to_uninit_mem, A::const_size_or_zero, A::anything}, true));
        add(H::probe_read_user,
            proto(R::integer, {A::ptr_to_uninit_mem, A::const_size_or_zero, A::anything}, true));
        add(H::probe_read_str,
            proto(R::integer, {A::ptr_to_uninit_mem, A::const_size_or_zero, A::anything}, true));
        add(H::probe_read_kernel_str,
            proto(R::integer, {A::ptr_to_uninit_mem, A::const_size_or_zero, A::anything}, true));
        add(H::probe_read_user_str,
            proto(R::integer, {A::ptr_to_uninit_mem, A::const_size_or_zero, A::anything}, true));
        add(H::ktime_get_ns, proto(R::integer, {}));
        add(H::ktime_get_boot_ns, proto(R::integer, {}));
        add(H::ktime_get_coarse_ns, proto(R::integer, {}));
        add(H::ktime_get_tai_ns, proto(R::integer, {}));
        add(H::jiffies64, proto(R::integer, {}));
        add(H::trace_printk, proto(R::integer, {A::ptr_to_mem, A::const_size}, true));
        add(H::get_prandom_u32, proto(R::integer, {}));
        add(H::get_smp_processor_id, proto(R::integer, {}));
        add(H::get_numa_node_id, proto(R::integer, {}));
        add(H::get_current_pid_tgid, proto(R::integer, {}));
        add(H::get_current_uid_gid, proto(R::integer, {}));
        add(H::get_current_comm, proto(R::integer, {A::ptr_to_uninit_mem, A::const_size}));
        add(H::tail_call, proto(R::void_, {A::ptr_to_ctx, A::const_map_ptr, A::anything}));
        add(H::perf_event_output, proto(R::integer,
                                        {A::ptr_to_ctx, A::const_map_ptr, A::anything,
                                         A::ptr_to_mem, A::const_size_or_zero},
                                        true));
        add(H::ringbuf_output,
            proto(R::integer, {A::const_map_ptr, A::ptr_to_mem, A::const_size_or_zero, A::anything},
                  false, true));
        add(H::ringbuf_reserve,
            proto(R::ptr_to_ringbuf_mem_or_null,
                  {A::const_map_ptr, A::const_alloc_size_or_zero, A::anything}));
        m[static_cast<int32_t>(H::ringbuf_reserve)].ref = RefKind::acquire;
        add(H::ringbuf_submit, proto(R::void_, {A::ptr_to_ringbuf_mem, A::anything}));
        m[static_cast<int32_t>(H::ringbuf_submit)].ref = RefKind::release;
        add(H::ringbuf_discard, proto(R::void_, {A::ptr_to_ringbuf_mem, A::anything}));
        m[static_cast<int32_t>(H::ringbuf_discard)].ref = RefKind::release;
        add(H::ringbuf_query, proto(R::integer, {A::const_map_ptr, A::anything}));
        add(H::csum_diff, proto(R::integer,
                                {A::ptr_to_mem_or_null, A::const_size_or_zero,
                                 A::ptr_to_mem_or_null, A::const_size_or_zero, A::anything},
                                false, true));
        add(H::l3_csum_replace,
            proto(R::integer, {A::ptr_to_ctx, A::anything, A::anything, A::anything, A::anything}));
        add(H::l4_csum_replace,
            proto(R::integer, {A::ptr_to_ctx, A::anything, A::anything, A::anything, A::anything}));
        add(H::skb_load_bytes,
            proto(R::integer, {A::ptr_to_ctx, A::anything, A::ptr_to_uninit_mem, A::const_size}));
        add(H::skb_store_bytes, proto(R::integer, {A::ptr_to_ctx, A::anything, A::ptr_to_mem,
                                                   A::const_size, A::anything}));
        add(H::skb_pull_data, proto(R::integer, {A::ptr_to_ctx, A::anything}));
        add(H::skb_change_tail, proto(R::integer, {A::ptr_to_ctx, A::anything, A::anything}));
        add(H::xdp_adjust_head, proto(R::integer, {A::ptr_to_ctx, A::anything}));
        add(H::xdp_adjust_tail, proto(R::integer, {A::ptr_to_ctx, A::anything}));
        add(H::xdp_adjust_meta, proto(R::integer, {A::ptr_to_ctx, A::anything}));
        add(H::redirect, proto(R::integer, {A::anything, A::anything}));
        add(H::redirect_map, proto(R::integer, {A::const_map_ptr, A::anything, A::anything}));
        add(H::get_cgroup_classid, proto(R::integer, {A::ptr_to_ctx}));
        add(H::get_route_realm, proto(R::integer, {A::ptr_to_ctx}));
        add(H::get_hash_recalc, proto(R::integer, {A::ptr_to_ctx}));
        add(H::skb_vlan_push, proto(R::integer, {A::ptr_to_ctx, A::anything, A::anything}));
        add(H::skb_vlan_pop, proto(R::integer, {A::ptr_to_ctx}));
        add(H::spin_lock, proto(R::void_, {A::ptr_to_spin_lock}));
        add(H::spin_unlock, proto(R::void_, {A::ptr_to_spin_lock}));
        add(H::loop,
            proto(R::integer, {A::anything, A::ptr_to_func, A::ptr_to_stack_or_null, A::anything}));
        add(H::for_each_map_elem, proto(R::integer, {A::const_map_ptr, A::ptr_to_func,
                                                     A::ptr_to_stack_or_null, A::anything}));
        add(H::snprintf, proto(R::integer,
                               {A::ptr_to_uninit_mem, A::const_size_or_zero, A::ptr_to_const_str,
                                A::ptr_to_mem_or_null, A::const_size_or_zero},
                               true));
        add(H::strncmp, proto(R::integer, {A::ptr_to_mem, A::const_size, A::ptr_to_const_str}));
        add(H::get_stackid, proto(R::integer, {A::ptr_to_ctx, A::const_map_ptr, A::anything}));
        add(H::get_socket_cookie, proto(R::integer, {A::ptr_to_ctx}));
        add(H::get_socket_uid, proto(R::integer, {A::ptr_to_ctx}));
        add(H::set_hash, proto(R::integer, {A::ptr_to_ctx, A::anything}));
        add(H::set_hash_invalid, proto(R::void_, {A::ptr_to_ctx}));
        add(H::skb_change_proto, proto(R::integer, {A::ptr_to_ctx, A::anything, A::anything}));
        add(H::skb_change_type, proto(R::integer, {A::ptr_to_ctx, A::anything}));
        add(H::clone_redirect, proto(R::integer, {A::ptr_to_ctx, A::anything, A::anything}));
        add(H::skb_under_cgroup, proto(R::integer, {A::ptr_to_ctx, A::const_map_ptr, A::anything}));
        add(H::get_current_task, proto(R::integer, {}));
        add(H::perf_event_read, proto(R::integer, {A::const_map_ptr, A::anything}));
        add(H::timer_init, proto(R::integer, {A::ptr_to_timer, A::const_map_ptr, A::anything}));
        add(H::csum_update, proto(R::integer, {A::ptr_to_ctx, A::anything}));
        add(H::fib_lookup,
            proto(R::integer, {A::ptr_to_ctx, A::ptr_to_mem, A::const_size, A::anything}));
        add(H::get_stack, proto(R::integer, {A::ptr_to_ctx, A::ptr_to_uninit_mem,
                                             A::const_size_or_zero, A::anything}));
        add_packet_protos(m);
        add_socket_protos(m);
        return m;
    }();
    return protos;
}

} // namespace

const HelperProto* kernel_helper_proto(int32_t id) {
    auto it = table().find(id);
    return it == table().end() ? nullptr : &it->second;
}

} // namespace ebpf
