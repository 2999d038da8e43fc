// The socket types' cgroup, socket and namespace identities (net/core/filter.c): bpf_skb_cgroup_id,
// bpf_skb_ancestor_cgroup_id, bpf_sk_cgroup_id, bpf_sk_ancestor_cgroup_id from the cgroup path
// the host gave the socket (Sock::cgroup_path), bpf_skb_cgroup_classid from its net_cls class id
// (Sock::cgroup_classid), bpf_get_cgroup_classid from the current task's
// (TaskIdentity::net_cls_classid), bpf_get_socket_cookie and bpf_get_socket_uid from the packet's
// socket (Sock::cookie, Sock::uid), and bpf_get_netns_cookie from the run's namespace
// (RunState::netns_cookie).
#include "helpers/sock.hpp"
#include "vm/progtypes/progtype_helpers.hpp"
#include "vm/progtypes/skb.hpp"

#include <atomic>

namespace ebpf::progtypes {
namespace {

constexpr uint64_t root_cgroup_path[] = {1};
constexpr uint32_t overflowuid = 65534;

// The kernel's sock_cookie: socket cookies are given out in order, from 1, the first time asked.
std::atomic<uint64_t> next_cookie{1};

// sk_to_full_sk: the full socket, or null.
const Sock* full_sock(const Sock* sk) {
    if (sk && sk->sk.state == tcp_state::new_syn_recv) sk = sk->listener;
    return sk && sk_fullsock(*sk) ? sk : nullptr;
}

// The full socket's cgroup path; empty for none.
std::span<const uint64_t> cgroup_path_of(const Sock* sk) {
    sk = full_sock(sk);
    if (!sk) return {};
    return sk->cgroup_path.empty() ? std::span<const uint64_t>(root_cgroup_path) : sk->cgroup_path;
}

const Sock* skb_sock(uint64_t r1, RunState* state, const char* helper) {
    const SkBuff* skb = skb_arg(r1, state, helper);
    return skb && skb->sk ? Sock::of_view(reinterpret_cast<uint64_t>(skb->sk)) : nullptr;
}

uint64_t cgroup_id(std::span<const uint64_t> path) {
    return path.empty() ? 0 : path.back();
}

// cgroup_ancestor: the ancestor at that depth (0: the root), none below the cgroup's own level.
uint64_t ancestor_cgroup_id(std::span<const uint64_t> path, uint64_t level) {
    const auto depth = static_cast<int32_t>(level);
    return depth < 0 || static_cast<size_t>(depth) >= path.size() ? 0 : path[depth];
}

} // namespace

uint64_t skb_cgroup_id(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, RunState* state) {
    return cgroup_id(cgroup_path_of(skb_sock(r1, state, "bpf_skb_cgroup_id")));
}

uint64_t skb_ancestor_cgroup_id(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t,
                                RunState* state) {
    return ancestor_cgroup_id(cgroup_path_of(skb_sock(r1, state, "bpf_skb_ancestor_cgroup_id")),
                              r2);
}

uint64_t sk_cgroup_id(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, RunState*) {
    return cgroup_id(cgroup_path_of(r1 ? Sock::of_view(r1) : nullptr));
}

uint64_t sk_ancestor_cgroup_id(uint64_t r1, uint64_t r2, uint64_t, uint64_t, uint64_t, RunState*) {
    return ancestor_cgroup_id(cgroup_path_of(r1 ? Sock::of_view(r1) : nullptr), r2);
}

uint64_t skb_cgroup_classid(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, RunState* state) {
    const Sock* sk = full_sock(skb_sock(r1, state, "bpf_skb_cgroup_classid"));
    return sk ? sk->cgroup_classid : 0;
}

// task_get_classid: a test run (or a program the host runs) is in process context, where the
// class id is the current task's.
uint64_t get_cgroup_classid(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, RunState* state) {
    if (!skb_arg(r1, state, "bpf_get_cgroup_classid")) return 0;
    return state->task ? state->task->net_cls_classid : 0;
}

// __sock_gen_cookie: the socket's cookie, given it now if it has none yet; 0 without a socket.
uint64_t get_socket_cookie(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, RunState* state) {
    const SkBuff* skb = skb_arg(r1, state, "bpf_get_socket_cookie");
    if (!skb || !skb->sk) return 0;
    Sock* sk = Sock::of_view(reinterpret_cast<uint64_t>(skb->sk));
    std::atomic_ref<uint64_t> cookie(sk->cookie);
    uint64_t have = cookie.load(std::memory_order_relaxed);
    if (have == 0) {
        const uint64_t fresh = next_cookie.fetch_add(1, std::memory_order_relaxed);
        have = cookie.compare_exchange_strong(have, fresh) ? fresh : have;
    }
    return have;
}

// The full socket's owner (sock_net_uid), the overflow uid without one.
uint64_t get_socket_uid(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, RunState* state) {
    const Sock* sk = full_sock(skb_sock(r1, state, "bpf_get_socket_uid"));
    return sk ? sk->uid : overflowuid;
}

// Every device and socket of a run is in the run's namespace.
uint64_t get_netns_cookie(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, RunState* state) {
    if (!skb_arg(r1, state, "bpf_get_netns_cookie")) return 0;
    return state->netns_cookie;
}

} // namespace ebpf::progtypes
