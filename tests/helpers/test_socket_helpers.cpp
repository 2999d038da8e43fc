// The socket helpers over a host's socket table, the test run's own socket, and tc's vlan,
// checksum, hash and fib helpers on a test-run sk_buff, in both modes.
#include "tests/helpers/helper_test.hpp"

#include "helpers/sock.hpp"
#include "vm/progtypes/progtype_helpers.hpp"
#include "vm/progtypes/skb.hpp"

#include <cstring>

using namespace ebpf;
using namespace helper_test;

namespace {

// Ethernet + IPv4 + TCP: 10.0.0.2:4000 -> 10.0.0.1:80.
std::vector<uint8_t> tcp_frame() {
    std::vector<uint8_t> f(14 + 20 + 20, 0);
    f[12] = 0x08;
    f[14] = 0x45;
    f[14 + 9] = 6;
    const uint8_t src[] = {10, 0, 0, 2}, dst[] = {10, 0, 0, 1};
    std::memcpy(&f[14 + 12], src, 4);
    std::memcpy(&f[14 + 16], dst, 4);
    f[34] = 0x0f, f[35] = 0xa0, f[36] = 0, f[37] = 80;
    return f;
}

uint32_t ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    const uint8_t bytes[] = {a, b, c, d};
    uint32_t v;
    std::memcpy(&v, bytes, 4);
    return v;
}

Sock tcp_sock_at(uint32_t state, uint32_t local, uint16_t port, uint32_t remote = 0,
                 uint16_t rport_be = 0) {
    Sock s;
    s.sk.family = 2;
    s.sk.type = sock_stream;
    s.sk.protocol = ipproto_tcp;
    s.sk.state = state;
    s.sk.src_ip4 = local;
    s.sk.src_port = port;
    s.sk.dst_ip4 = remote;
    s.sk.dst_port = rport_be;
    s.tcp.snd_cwnd = 10;
    return s;
}

std::unique_ptr<SkbTestRun> skb_run(ProgType type = ProgType::sched_cls) {
    static const std::vector<uint8_t> frame = tcp_frame(); // the input only refers to it
    TestRunInput input;
    input.data = frame;
    auto run = SkbTestRun::create(type, input);
    REQUIRE(run);
    return std::move(*run);
}

// A lookup of 10.0.0.2:4000 -> 10.0.0.1:80 (the tuple's saddr is the remote end); R0 is `then`
// run on the socket found (in r0), or 0 when none is.
std::string lookup_prog(int id, const std::string& then) {
    return "r6 = r1\n*(u32 *)(r10 -12) = 0x0200000a\n*(u32 *)(r10 -8) = 0x0100000a\n"
           "*(u16 *)(r10 -4) = 0xa00f\n*(u16 *)(r10 -2) = 0x5000\nr2 = r10\nr2 += -12\n"
           "r3 = 12\nr4 = -1\nr5 = 0\ncall helper#" +
           std::to_string(id) + "\nif r0 != 0 goto pc+1\nexit\nr7 = r0\n" + then +
           "\nr1 = r7\ncall bpf_sk_release#86\nr0 = r8\nexit\n";
}

uint64_t run_on(const std::string& text, SkbTestRun& ctx, std::span<Sock* const> table, Mode mode) {
    const Program prog = load(text);
    RunState state;
    REQUIRE(!ctx.attach(state));
    state.sockets = table;
    auto r = run(prog, state, mode, reinterpret_cast<uint64_t>(ctx.ctx()));
    if (!r) FAIL(r.error().to_string());
    return *r;
}

} // namespace

TEST_CASE("socket lookups search the run's socket table", "[helpers][sock]") {
    const uint32_t local = ip4(10, 0, 0, 1), remote = ip4(10, 0, 0, 2);
    Sock listener = tcp_sock_at(tcp_state::listen, 0, 80);
    Sock bound_listener = tcp_sock_at(tcp_state::listen, local, 80);
    Sock established = tcp_sock_at(tcp_state::established, local, 80, remote, 0xa00f);
    Sock time_wait = tcp_sock_at(tcp_state::time_wait, local, 80, remote, 0xa00f);
    Sock other_port = tcp_sock_at(tcp_state::listen, 0, 81);
    Sock udp = tcp_sock_at(tcp_state::close, 0, 80);
    udp.sk.protocol = ipproto_udp;
    udp.sk.type = sock_dgram;
    // r8 = the state the program reads through the socket it got.
    const std::string state = "r8 = *(u32 *)(r7 +72)";
    for (Mode mode : both_modes) {
        INFO(mode_name(mode));
        auto ctx = skb_run();
        CHECK(run_on(lookup_prog(84, state), *ctx, {}, mode) == 0); // empty table: none
        Sock* some[] = {&other_port, &listener};
        CHECK(run_on(lookup_prog(84, state), *ctx, some, mode) == tcp_state::listen);
        Sock* all[] = {&listener, &bound_listener, &established, &other_port, &udp};
        CHECK(run_on(lookup_prog(84, "r8 = *(u32 *)(r7 +24)"), *ctx, all, mode) == local);
        CHECK(run_on(lookup_prog(84, state), *ctx, all, mode) == tcp_state::established);
        CHECK(run_on(lookup_prog(85, "r8 = *(u32 *)(r7 +12)"), *ctx, all, mode) == ipproto_udp);
        // A time-wait socket is found by skc_lookup only; sk_lookup gives no socket for it.
        Sock* tw[] = {&time_wait};
        CHECK(run_on(lookup_prog(84, state), *ctx, tw, mode) == 0);
        CHECK(run_on(lookup_prog(99, state), *ctx, tw, mode) == tcp_state::time_wait);
        // A request socket stands for its listener.
        Sock request = tcp_sock_at(tcp_state::new_syn_recv, local, 80, remote, 0xa00f);
        request.listener = &bound_listener;
        Sock* req[] = {&request};
        CHECK(run_on(lookup_prog(84, "r8 = *(u32 *)(r7 +24)"), *ctx, req, mode) == local);
        CHECK(run_on(lookup_prog(99, state), *ctx, req, mode) == tcp_state::new_syn_recv);
        // The views: bpf_tcp_sock of a found socket, the listener of a request socket.
        CHECK(run_on(lookup_prog(84, "r1 = r7\ncall bpf_tcp_sock#96\nr8 = 0\nif r0 == 0 goto pc+1\n"
                                     "r8 = *(u32 *)(r0 +0)"),
                     *ctx, all, mode) == 10);
        CHECK(run_on(lookup_prog(99, "r1 = r7\ncall bpf_get_listener_sock#98\nr8 = r0"), *ctx, req,
                     mode) == bound_listener.sk_view());
        CHECK(run_on(lookup_prog(99, "r1 = r7\ncall bpf_skc_to_tcp_request_sock#139\nr8 = r0"),
                     *ctx, req, mode) == request.sk_view());
        CHECK(run_on(lookup_prog(84, "r1 = r7\ncall bpf_skc_to_tcp6_sock#136\nr8 = r0"), *ctx, all,
                     mode) == 0);
        // A socket bound to another device doesn't match.
        Sock bound_dev = established;
        bound_dev.sk.bound_dev_if = 7;
        Sock* dev[] = {&bound_dev};
        CHECK(run_on(lookup_prog(84, state), *ctx, dev, mode) == 0);
    }
}

TEST_CASE("the test run's socket is a closed full socket of no protocol", "[helpers][sock]") {
    auto ctx = skb_run(ProgType::cgroup_skb);
    // R1 is skb->sk, as a program reads it from the context.
    auto on_sk = [&](const std::string& text, Mode mode) {
        const Program prog = load(text);
        RunState state;
        REQUIRE(!ctx->attach(state));
        auto r = run(prog, state, mode, reinterpret_cast<uint64_t>(ctx->skb().sk));
        if (!r) FAIL(r.error().to_string());
        return *r;
    };
    const std::string get = "call bpf_sk_fullsock#95\n";
    for (Mode mode : both_modes) {
        CHECK(on_sk(get + "r0 = *(u32 *)(r0 +72)\nexit", mode) == tcp_state::close);
        CHECK(on_sk(get + "r0 = *(s32 *)(r0 +76)\nexit", mode) == uint64_t(-1));
        CHECK(on_sk(get + "r0 = *(u32 *)(r0 +4)\nexit", mode) == 2);
        CHECK(on_sk(get + "r0 = *(u32 *)(r0 +52)\nexit", mode) == ip4(10, 0, 0, 1));
        CHECK(on_sk("call bpf_tcp_sock#96\nexit", mode) == 0);
        CHECK(on_sk("call bpf_get_listener_sock#98\nexit", mode) == 0);
    }
}

TEST_CASE("checked mode refuses a socket argument that is no socket", "[helpers][sock]") {
    auto ctx = skb_run();
    const Program prog = load("r1 = r10\nr1 += -8\n*(u64 *)(r10 -8) = 0\ncall bpf_sk_fullsock#95\n"
                              "exit");
    RunState state;
    REQUIRE(!ctx->attach(state));
    auto r = run(prog, state, Mode::checked, reinterpret_cast<uint64_t>(ctx->ctx()));
    REQUIRE(!r);
    CHECK_THAT(r.error().to_string(), Catch::Contains("is not a socket of the run"));
}

TEST_CASE("vlan push and pop move tags between the skb and the packet", "[helpers][vlan]") {
    for (Mode mode : both_modes) {
        auto ctx = skb_run();
        SkBuff& skb = ctx->skb();
        const auto before = ctx->data_out();
        const std::string push = "r1 = r6\nr2 = 0x81\nr3 = 5\ncall bpf_skb_vlan_push#18\n";
        CHECK(run_on("r6 = r1\n" + push + "exit", *ctx, {}, mode) == 0);
        CHECK(skb.vlan_present == 1);
        CHECK(skb.vlan_tci == 5);
        CHECK(ctx->data_out() == before); // only the skb holds the tag
        CHECK(run_on("r6 = r1\n" + push + "exit", *ctx, {}, mode) == 0);
        auto out = ctx->data_out();
        REQUIRE(out.size() == before.size() + 4);
        CHECK(out[12] == 0x81);
        CHECK(out[15] == 5);
        CHECK(skb.protocol == 0x0081);
        CHECK(run_on("r6 = r1\nr1 = r6\ncall bpf_skb_vlan_pop#19\nexit", *ctx, {}, mode) == 0);
        CHECK(ctx->data_out() == before); // the packet's tag is the one held now
        CHECK(skb.vlan_present == 1);
        CHECK(skb.protocol == 0x0008);
        // Pushes past the headroom move the packet, as the kernel reallocates.
        std::string many = "r6 = r1\nr8 = 0\n";
        for (int i = 0; i < 30; ++i)
            many += push + "r8 |= r0\n";
        CHECK(run_on(many + "r0 = r8\nexit", *ctx, {}, mode) == 0);
        CHECK(ctx->data_out().size() == before.size() + 30 * 4); // the held tag goes in too
    }
}

TEST_CASE("csum_update, get_hash_recalc and fib_lookup", "[helpers][sock]") {
    for (Mode mode : both_modes) {
        auto ctx = skb_run();
        const std::string update = "r2 = 0x1234\ncall bpf_csum_update#40\nexit";
        CHECK(run_on(update, *ctx, {}, mode) == neg(524)); // CHECKSUM_NONE: -ENOTSUPP
        ctx->skb().ip_summed = checksum_complete;
        ctx->skb().csum = 0xffff0000;
        CHECK(run_on(update, *ctx, {}, mode) == 0xffff1234);
        const uint64_t hash = run_on("call bpf_get_hash_recalc#34\nexit", *ctx, {}, mode);
        CHECK(hash != 0);
        CHECK(ctx->skb().hash == hash);
        std::string fib;
        for (int off = -64; off < 0; off += 8)
            fib += "*(u64 *)(r10 " + std::to_string(off) + ") = 0\n";
        fib += "*(u8 *)(r10 -64) = 2\n*(u32 *)(r10 -56) = 1\nr2 = r10\nr2 += -64\nr3 = 64\n"
               "r4 = 0\ncall bpf_fib_lookup#69\nexit";
        CHECK(run_on(fib, *ctx, {}, mode) == 5); // BPF_FIB_LKUP_RET_FWD_DISABLED
    }
}

TEST_CASE("cgroup id helpers read the socket's cgroup path, get_netns_cookie the run's namespace",
          "[helpers][socket]") {
    auto ctx = skb_run(ProgType::cgroup_skb);
    RunState state;
    REQUIRE(!ctx->attach(state));
    const auto r1 = reinterpret_cast<uint64_t>(ctx->ctx());
    const uint64_t sk = reinterpret_cast<uint64_t>(ctx->skb().sk);
    // By default the socket is in the root cgroup (id 1), at level 0.
    CHECK(progtypes::skb_cgroup_id(r1, 0, 0, 0, 0, &state) == 1);
    CHECK(progtypes::skb_ancestor_cgroup_id(r1, 0, 0, 0, 0, &state) == 1);
    CHECK(progtypes::skb_ancestor_cgroup_id(r1, 1, 0, 0, 0, &state) == 0);
    const uint64_t path[] = {1, 0x100, 0x2345};
    ctx->sock().cgroup_path = path;
    CHECK(progtypes::skb_cgroup_id(r1, 0, 0, 0, 0, &state) == 0x2345);
    CHECK(progtypes::sk_cgroup_id(sk, 0, 0, 0, 0, &state) == 0x2345);
    CHECK(progtypes::skb_ancestor_cgroup_id(r1, 1, 0, 0, 0, &state) == 0x100);
    CHECK(progtypes::sk_ancestor_cgroup_id(sk, 2, 0, 0, 0, &state) == 0x2345);
    CHECK(progtypes::sk_ancestor_cgroup_id(sk, 3, 0, 0, 0, &state) == 0);
    CHECK(progtypes::skb_ancestor_cgroup_id(r1, 0xffffffff, 0, 0, 0, &state) == 0);
    CHECK(progtypes::sk_cgroup_id(0, 0, 0, 0, 0, &state) == 0);
    CHECK(progtypes::get_netns_cookie(r1, 0, 0, 0, 0, &state) == 1);
    state.netns_cookie = 4096;
    CHECK(progtypes::get_netns_cookie(r1, 0, 0, 0, 0, &state) == 4096);
}
