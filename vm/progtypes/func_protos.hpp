// The helper layers the program types' get_func_proto fall back on, as the kernel builds them
// (kernel/bpf/helpers.c bpf_base_func_proto, net/core/filter.c bpf_sk_base_func_proto,
// kernel/trace/bpf_trace.c bpf_tracing_func_proto), for a loader holding CAP_BPF, CAP_PERFMON and
// CAP_SYS_ADMIN.
#pragma once

#include "vm/progtypes/prog_type_info.hpp"

namespace ebpf::progtypes {

using H = KernelHelper;

// bpf_base_func_proto: every program type may call these.
inline constexpr HelperSet base_func_proto =
    HelperSet{H::map_lookup_elem,
              H::map_update_elem,
              H::map_delete_elem,
              H::map_push_elem,
              H::map_pop_elem,
              H::map_peek_elem,
              H::map_lookup_percpu_elem,
              H::get_prandom_u32,
              H::get_smp_processor_id,
              H::get_numa_node_id,
              H::tail_call,
              H::ktime_get_ns,
              H::ktime_get_boot_ns,
              H::ktime_get_tai_ns,
              H::ringbuf_output,
              H::ringbuf_reserve,
              H::ringbuf_submit,
              H::ringbuf_discard,
              H::ringbuf_query,
              H::strncmp,
              H::strtol,
              H::strtoul,
              H::get_current_pid_tgid,
              H::get_ns_current_pid_tgid,
              H::get_current_uid_gid} |
    // CAP_BPF
    HelperSet{H::spin_lock,
              H::spin_unlock,
              H::jiffies64,
              H::per_cpu_ptr,
              H::this_cpu_ptr,
              H::timer_init,
              H::timer_set_callback,
              H::timer_start,
              H::timer_cancel,
              H::kptr_xchg,
              H::for_each_map_elem,
              H::loop,
              H::user_ringbuf_drain,
              H::ringbuf_reserve_dynptr,
              H::ringbuf_submit_dynptr,
              H::ringbuf_discard_dynptr,
              H::dynptr_from_mem,
              H::dynptr_read,
              H::dynptr_write,
              H::dynptr_data,
              H::cgrp_storage_get,
              H::cgrp_storage_delete,
              H::get_current_cgroup_id,
              H::get_current_ancestor_cgroup_id,
              H::current_task_under_cgroup,
              H::get_cgroup_classid,
              H::task_storage_get,
              H::task_storage_delete} |
    // CAP_PERFMON
    HelperSet{H::trace_printk,        H::get_current_task,      H::get_current_task_btf,
              H::get_current_comm,    H::probe_read_user,       H::probe_read_kernel,
              H::probe_read_user_str, H::probe_read_kernel_str, H::copy_from_user,
              H::copy_from_user_task, H::snprintf_btf,          H::snprintf,
              H::task_pt_regs,        H::trace_vprintk,         H::perf_event_read_value,
              H::perf_event_read,     H::send_signal,           H::send_signal_thread,
              H::get_task_stack,      H::get_branch_snapshot,   H::find_vma};

// bpf_sk_base_func_proto: the networking types' fallback.
inline constexpr HelperSet sk_base_func_proto =
    base_func_proto | HelperSet{H::skc_to_tcp6_sock,         H::skc_to_tcp_sock,
                                H::skc_to_tcp_timewait_sock, H::skc_to_tcp_request_sock,
                                H::skc_to_udp6_sock,         H::skc_to_unix_sock,
                                H::skc_to_mptcp_sock,        H::ktime_get_coarse_ns};

// bpf_tracing_func_proto: the tracing types' fallback (probe_write_user needs CAP_SYS_ADMIN).
inline constexpr HelperSet tracing_func_proto =
    base_func_proto |
    HelperSet{H::probe_read, H::probe_read_str, H::get_func_ip, H::probe_write_user};

} // namespace ebpf::progtypes
