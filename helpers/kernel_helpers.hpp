// The kernel helpers this build implements that need no program type's context, each under its
// kernel name. register_kernel_helpers() adds them, each behind its prototype's checked-mode
// argument checks (helpers/checked.hpp); the program types add the helpers that take their
// context (vm/progtypes/progtype_helpers.hpp).
#pragma once

#include "helpers/registry.hpp"

namespace ebpf::helpers {

#define EBPF_HELPER_DECL(name)                                                                     \
    uint64_t name(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, RunState* state)

// time.cpp
EBPF_HELPER_DECL(ktime_get_ns);
EBPF_HELPER_DECL(ktime_get_boot_ns);
EBPF_HELPER_DECL(ktime_get_coarse_ns);
EBPF_HELPER_DECL(ktime_get_tai_ns);
EBPF_HELPER_DECL(jiffies64);
// cpu.cpp
EBPF_HELPER_DECL(get_smp_processor_id);
EBPF_HELPER_DECL(get_numa_node_id);
EBPF_HELPER_DECL(get_prandom_u32);
// task.cpp
EBPF_HELPER_DECL(get_current_pid_tgid);
EBPF_HELPER_DECL(get_current_uid_gid);
EBPF_HELPER_DECL(get_current_comm);
EBPF_HELPER_DECL(get_current_task);
EBPF_HELPER_DECL(strncmp);
// map_helpers.cpp
EBPF_HELPER_DECL(map_lookup_elem);
EBPF_HELPER_DECL(map_update_elem);
EBPF_HELPER_DECL(map_delete_elem);
EBPF_HELPER_DECL(map_push_elem);
EBPF_HELPER_DECL(map_pop_elem);
EBPF_HELPER_DECL(map_peek_elem);
EBPF_HELPER_DECL(map_lookup_percpu_elem);
EBPF_HELPER_DECL(tail_call);
// callbacks.cpp
EBPF_HELPER_DECL(loop);
EBPF_HELPER_DECL(for_each_map_elem);
// probe_read.cpp
EBPF_HELPER_DECL(probe_read);
EBPF_HELPER_DECL(probe_read_kernel);
EBPF_HELPER_DECL(probe_read_user);
EBPF_HELPER_DECL(probe_read_str);
EBPF_HELPER_DECL(probe_read_kernel_str);
EBPF_HELPER_DECL(probe_read_user_str);
// printk.cpp
EBPF_HELPER_DECL(trace_printk);
EBPF_HELPER_DECL(snprintf);
// output.cpp
EBPF_HELPER_DECL(perf_event_output);
EBPF_HELPER_DECL(ringbuf_output);
EBPF_HELPER_DECL(ringbuf_reserve);
EBPF_HELPER_DECL(ringbuf_submit);
EBPF_HELPER_DECL(ringbuf_discard);
EBPF_HELPER_DECL(ringbuf_query);
// csum.cpp
EBPF_HELPER_DECL(csum_diff);
// sock.cpp
EBPF_HELPER_DECL(sk_release);
EBPF_HELPER_DECL(sk_fullsock);
EBPF_HELPER_DECL(tcp_sock);
EBPF_HELPER_DECL(get_listener_sock);
EBPF_HELPER_DECL(skc_to_tcp_sock);
EBPF_HELPER_DECL(skc_to_tcp6_sock);
EBPF_HELPER_DECL(skc_to_tcp_timewait_sock);
EBPF_HELPER_DECL(skc_to_tcp_request_sock);
EBPF_HELPER_DECL(skc_to_udp6_sock);
// stack.cpp
EBPF_HELPER_DECL(get_stackid);
EBPF_HELPER_DECL(get_stack);
// spin_lock.cpp
EBPF_HELPER_DECL(spin_lock);
EBPF_HELPER_DECL(spin_unlock);

#undef EBPF_HELPER_DECL

} // namespace ebpf::helpers
