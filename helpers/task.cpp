// The current task's identity (kernel/bpf/helpers.c), as the host sets it in RunState::task, and
// bpf_get_current_task (kernel/trace/bpf_trace.c).
#include "helpers/helper_errno.hpp"
#include "helpers/kernel_helpers.hpp"

#include <cstring>

namespace ebpf::helpers {

uint64_t get_current_pid_tgid(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunState* state) {
    const TaskIdentity* task = state->task;
    if (!task) return static_cast<uint64_t>(-herr::einval);
    return uint64_t{task->tgid} << 32 | task->pid;
}

uint64_t get_current_uid_gid(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunState* state) {
    const TaskIdentity* task = state->task;
    if (!task) return static_cast<uint64_t>(-herr::einval);
    return uint64_t{task->gid} << 32 | task->uid;
}

// strscpy_pad: at most size - 1 bytes of the name, then NULs to the end of the buffer.
uint64_t get_current_comm(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, RunState* state) {
    auto* buf = reinterpret_cast<char*>(r1);
    const auto size = static_cast<uint32_t>(r2);
    const TaskIdentity* task = state->task;
    std::memset(buf, 0, size);
    if (!task) return static_cast<uint64_t>(-herr::einval);
    if (size == 0) return 0;
    const size_t len = strnlen(task->comm.data(), task->comm.size());
    std::memcpy(buf, task->comm.data(), std::min<size_t>(len, size - 1));
    return 0;
}

uint64_t get_current_task(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunState* state) {
    return state->task ? state->task->task_struct : 0;
}

} // namespace ebpf::helpers
