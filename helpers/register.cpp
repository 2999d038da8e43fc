#include "helpers/checked.hpp"
#include "helpers/kernel_helpers.hpp"

namespace ebpf {

void register_kernel_helpers(HelperRegistry& registry) {
#define EBPF_REGISTER(name) add_kernel_helper<KernelHelper::name, helpers::name>(registry)
    EBPF_REGISTER(ktime_get_ns);
    EBPF_REGISTER(ktime_get_boot_ns);
    EBPF_REGISTER(ktime_get_coarse_ns);
    EBPF_REGISTER(ktime_get_tai_ns);
    EBPF_REGISTER(jiffies64);
    EBPF_REGISTER(get_smp_processor_id);
    EBPF_REGISTER(get_numa_node_id);
    EBPF_REGISTER(get_prandom_u32);
    EBPF_REGISTER(get_current_pid_tgid);
    EBPF_REGISTER(get_current_uid_gid);
    EBPF_REGISTER(get_current_comm);
    EBPF_REGISTER(get_current_task);
    EBPF_REGISTER(strncmp);
    EBPF_REGISTER(map_lookup_elem);
    EBPF_REGISTER(map_update_elem);
    EBPF_REGISTER(map_delete_elem);
    EBPF_REGISTER(map_push_elem);
    EBPF_REGISTER(map_pop_elem);
    EBPF_REGISTER(map_peek_elem);
    EBPF_REGISTER(map_lookup_percpu_elem);
    EBPF_REGISTER(tail_call);
    EBPF_REGISTER(loop);
    EBPF_REGISTER(for_each_map_elem);
    EBPF_REGISTER(probe_read);
    EBPF_REGISTER(probe_read_kernel);
    EBPF_REGISTER(probe_read_user);
    EBPF_REGISTER(probe_read_str);
    EBPF_REGISTER(probe_read_kernel_str);
    EBPF_REGISTER(probe_read_user_str);
    EBPF_REGISTER(trace_printk);
    EBPF_REGISTER(snprintf);
    EBPF_REGISTER(perf_event_output);
    EBPF_REGISTER(ringbuf_output);
    EBPF_REGISTER(ringbuf_reserve);
    EBPF_REGISTER(ringbuf_submit);
    EBPF_REGISTER(ringbuf_discard);
    EBPF_REGISTER(ringbuf_query);
    EBPF_REGISTER(csum_diff);
    EBPF_REGISTER(get_stackid);
    EBPF_REGISTER(get_stack);
    EBPF_REGISTER(spin_lock);
    EBPF_REGISTER(spin_unlock);
    EBPF_REGISTER(sk_release);
    EBPF_REGISTER(sk_fullsock);
    EBPF_REGISTER(tcp_sock);
    EBPF_REGISTER(get_listener_sock);
    EBPF_REGISTER(skc_to_tcp_sock);
    EBPF_REGISTER(skc_to_tcp6_sock);
    EBPF_REGISTER(skc_to_tcp_timewait_sock);
    EBPF_REGISTER(skc_to_tcp_request_sock);
    EBPF_REGISTER(skc_to_udp6_sock);
#undef EBPF_REGISTER
}

HelperFn kernel_map_lookup_elem() {
    return &checked_helper<KernelHelper::map_lookup_elem, helpers::map_lookup_elem>;
}

} // namespace ebpf
