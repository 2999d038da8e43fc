// The socket types' cgroup and namespace identities (net/core/filter.c): bpf_skb_cgroup_id,
// bpf_skb_ancestor_cgroup_id, bpf_sk_cgroup_id, bpf_sk_ancestor_cgroup_id from the cgroup path
// the host gave the socket (Sock::cgroup_path), bpf_skb_cgroup_classid from its net_cls class id
// (Sock::cgroup_classid), and bpf_get_netns_cookie from the run's namespace
// (RunState::netns_cookie).
#include "helpers/sock.hpp"
#include "vm/progtypes/progtype_helpers.hpp"
#include "vm/progtypes/skb.hpp"

namespace ebpf::progtypes {
namespace {

constexpr uint64_t root_cgroup_path[] = {1};

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

// Every device and socket of a run is in the run's namespace.
uint64_t get_netns_cookie(uint64_t r1, uint64_t, uint64_t, uint64_t, uint64_t, RunState* state) {
    if (!skb_arg(r1, state, "bpf_get_netns_cookie")) return 0;
    return state->netns_cookie;
}

} // namespace ebpf::progtypes
