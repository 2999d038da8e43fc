// The packet types' helpers on test-run contexts: skb_load/store_bytes, skb_pull_data,
// skb_change_tail, l3/l4_csum_replace, csum_diff, xdp_adjust_head/tail/meta, redirect,
// redirect_map and perf_event_output with packet bytes.
#include "tests/helpers/helper_test.hpp"

#include "helpers/csum.hpp"
#include "helpers/helper_errno.hpp"
#include "helpers/kernel_helpers.hpp"
#include "maps/perf_event_array.hpp"
#include "vm/progtypes/progtype_helpers.hpp"
#include "vm/progtypes/skb.hpp"
#include "vm/progtypes/xdp.hpp"

#include <cstring>

using namespace ebpf;
using namespace helper_test;

namespace {

uint64_t u(const void* p) {
    return reinterpret_cast<uint64_t>(p);
}

// Ethernet + IPv4 (with a correct header checksum) + UDP + 8 payload bytes.
std::vector<uint8_t> udp_frame() {
    std::vector<uint8_t> f = {0,    0,    0,    0,    0,    0,    2,    0,    0,    0,
                              0,    1,    0x08, 0x00, 0x45, 0x00, 0x00, 0x24, 0x12, 0x34,
                              0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 10,   0,    0,    1,
                              10,   0,    0,    2,    0x04, 0xd2, 0x00, 0x35, 0x00, 0x10,
                              0x00, 0x00, 1,    2,    3,    4,    5,    6,    7,    8};
    csum::store16(&f[24], csum::fold(csum::partial(&f[14], 20, 0)));
    return f;
}

struct Skb {
    std::vector<uint8_t> frame = udp_frame();
    std::unique_ptr<RunContext> ctx;
    RunState state;

    explicit Skb(ProgType type = ProgType::sched_cls) {
        TestRunInput in;
        in.data = frame;
        auto c = make_test_run_context(type, in);
        REQUIRE(c);
        ctx = std::move(*c);
        REQUIRE(!ctx->attach(state));
    }
    SkBuff& skb() { return *static_cast<SkBuff*>(ctx->ctx()); }
    uint64_t r1() { return u(ctx->ctx()); }
};

struct Xdp {
    std::vector<uint8_t> frame = udp_frame();
    std::unique_ptr<RunContext> ctx;
    RunState state;

    Xdp() {
        TestRunInput in;
        in.data = frame;
        auto c = make_test_run_context(ProgType::xdp, in);
        REQUIRE(c);
        ctx = std::move(*c);
        REQUIRE(!ctx->attach(state));
    }
    XdpBuff& xdp() { return *static_cast<XdpBuff*>(ctx->ctx()); }
    uint64_t r1() { return u(ctx->ctx()); }
};

} // namespace

TEST_CASE("skb_load_bytes and skb_store_bytes with the kernel's bounds and flags",
          "[helpers][skb]") {
    Skb t;
    uint8_t buf[8];
    CHECK(progtypes::skb_load_bytes(t.r1(), 42, u(buf), 8, 0, &t.state) == 0);
    CHECK(std::vector<uint8_t>(buf, buf + 8) == std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8});
    std::memset(buf, 0xaa, sizeof buf);
    CHECK(progtypes::skb_load_bytes(t.r1(), 43, u(buf), 8, 0, &t.state) == neg(herr::efault));
    CHECK(std::all_of(buf, buf + 8, [](uint8_t b) { return b == 0; }));
    CHECK(progtypes::skb_load_bytes(t.r1(), 0x80000000, u(buf), 1, 0, &t.state) ==
          neg(herr::efault));

    const uint8_t two[2] = {0xde, 0xad};
    CHECK(progtypes::skb_store_bytes(t.r1(), 48, u(two), 2, 0, &t.state) == 0);
    CHECK(t.skb().data[48] == 0xde);
    CHECK(progtypes::skb_store_bytes(t.r1(), 49, u(two), 2, 0, &t.state) == neg(herr::efault));
    CHECK(progtypes::skb_store_bytes(t.r1(), 0, u(two), 2, 4, &t.state) == neg(herr::einval));
    t.skb().hash = 0x1234;
    CHECK(progtypes::skb_store_bytes(t.r1(), 0, u(two), 2, 3, &t.state) == 0);
    CHECK(t.skb().hash == 0);
}

TEST_CASE("skb_pull_data has everything linear already; past the end is -ENOMEM",
          "[helpers][skb]") {
    Skb t;
    CHECK(progtypes::skb_pull_data(t.r1(), 0, 0, 0, 0, &t.state) == 0);
    CHECK(progtypes::skb_pull_data(t.r1(), 50, 0, 0, 0, &t.state) == 0);
    CHECK(progtypes::skb_pull_data(t.r1(), 51, 0, 0, 0, &t.state) == neg(herr::enomem));
}

TEST_CASE("skb_change_tail trims and grows the packet; data_end and LD_ABS follow",
          "[helpers][skb]") {
    Skb t;
    t.skb().gso_size = 1400;
    CHECK(progtypes::skb_change_tail(t.r1(), 30, 0, 0, 0, &t.state) == 0);
    CHECK(t.skb().len == 30);
    CHECK(t.skb().data_end == t.skb().data + 30);
    CHECK(t.state.packet_len == 30);
    CHECK(t.skb().gso_size == 0);
    CHECK(t.state.accessible(u(t.skb().data) + 29, 1, true));
    CHECK_FALSE(t.state.accessible(u(t.skb().data) + 30, 1, false));
    CHECK(progtypes::skb_change_tail(t.r1(), 100, 0, 0, 0, &t.state) == 0);
    CHECK(t.ctx->data_out().size() == 100);
    CHECK(t.ctx->data_out()[40] == 0x00); // the old bytes past the trim are back
    CHECK(t.state.accessible(u(t.skb().data) + 99, 1, true));
    // The Ethernet header stays; BPF_SKB_MAX_LEN; no flags.
    CHECK(progtypes::skb_change_tail(t.r1(), 13, 0, 0, 0, &t.state) == neg(herr::einval));
    CHECK(progtypes::skb_change_tail(t.r1(), 16065, 0, 0, 0, &t.state) == neg(herr::einval));
    CHECK(progtypes::skb_change_tail(t.r1(), 16064, 0, 0, 0, &t.state) == 0);
    CHECK(progtypes::skb_change_tail(t.r1(), 60, 1, 0, 0, &t.state) == neg(herr::einval));
}

TEST_CASE("l3_csum_replace and l4_csum_replace keep checksums right", "[helpers][csum]") {
    Skb t;
    uint8_t* ip = t.skb().data + 14;
    // Rewrite the source address 10.0.0.1 -> 192.168.1.1 and fix the IP checksum.
    uint32_t from, to = 0x0101a8c0;
    std::memcpy(&from, ip + 12, 4);
    std::memcpy(ip + 12, &to, 4);
    CHECK(progtypes::l3_csum_replace(t.r1(), 24, from, to, 4, &t.state) == 0);
    CHECK(csum::fold(csum::partial(ip, 20, 0)) == 0);
    // The same by diff.
    const uint32_t diff =
        static_cast<uint32_t>(helpers::csum_diff(u(&to), 4, u(&from), 4, 0, &t.state));
    std::memcpy(ip + 12, &from, 4);
    CHECK(progtypes::l3_csum_replace(t.r1(), 24, 0, diff, 0, &t.state) == 0);
    CHECK(csum::fold(csum::partial(ip, 20, 0)) == 0);
    // 2-byte fields; errors.
    CHECK(progtypes::l3_csum_replace(t.r1(), 24, 0, 0, 2, &t.state) == 0);
    CHECK(progtypes::l3_csum_replace(t.r1(), 24, 1, 0, 0, &t.state) == neg(herr::einval));
    CHECK(progtypes::l3_csum_replace(t.r1(), 24, 0, 0, 3, &t.state) == neg(herr::einval));
    CHECK(progtypes::l3_csum_replace(t.r1(), 24, 0, 0, 0x10, &t.state) == neg(herr::einval));
    CHECK(progtypes::l3_csum_replace(t.r1(), 25, 0, 0, 4, &t.state) == neg(herr::efault));
    CHECK(progtypes::l3_csum_replace(t.r1(), 50, 0, 0, 4, &t.state) == neg(herr::efault));

    // UDP checksum 0 (none) stays 0 under BPF_F_MARK_MANGLED_0; a result of 0 becomes 0xffff.
    uint8_t* udp_csum = t.skb().data + 40;
    CHECK(progtypes::l4_csum_replace(t.r1(), 40, 0, 0x1234, 2 | (1 << 5), &t.state) == 0);
    CHECK(csum::load16(udp_csum) == 0);
    csum::store16(udp_csum, 0x0100);
    CHECK(progtypes::l4_csum_replace(t.r1(), 40, 0, 0x0100, 2 | (1 << 5) | (1 << 4), &t.state) ==
          0);
    CHECK(csum::load16(udp_csum) == 0xffff);
    CHECK(progtypes::l4_csum_replace(t.r1(), 40, 0, 0, 4 | (1 << 7), &t.state) == 0);
    CHECK(progtypes::l4_csum_replace(t.r1(), 40, 0, 0, 1 << 8, &t.state) == neg(herr::einval));
}

TEST_CASE("csum_diff sums both buffers and folds to 16 bits", "[helpers][csum]") {
    RunState state;
    const uint32_t a[2] = {0x11223344, 0x55667788}, b[1] = {0x01020304};
    const uint64_t push = helpers::csum_diff(0, 0, u(a), 8, 0, &state);
    CHECK(push == csum::from32to16(csum::partial(a, 8, 0)));
    CHECK(push <= 0xffff);
    const uint64_t seeded = helpers::csum_diff(0, 0, u(a), 8, 0x10000, &state);
    CHECK(seeded == csum::from32to16(csum::partial(a, 8, 0x10000)));
    CHECK(helpers::csum_diff(u(b), 4, 0, 0, 0, &state) ==
          csum::from32to16(~csum::partial(b, 4, ~0u)));
    CHECK(helpers::csum_diff(0, 0, 0, 0, 0x1234, &state) == 0x1234);
}

TEST_CASE("xdp_adjust_head, _tail and _meta move the packet within the frame", "[helpers][xdp]") {
    Xdp t;
    XdpBuff& x = t.xdp();
    uint8_t* data = x.data;
    CHECK(progtypes::xdp_adjust_head(t.r1(), static_cast<uint64_t>(-14), 0, 0, 0, &t.state) == 0);
    CHECK(x.data == data - 14);
    CHECK(x.data_meta == x.data);
    CHECK(t.state.accessible(u(x.data), 1, true));
    CHECK(progtypes::xdp_adjust_head(t.r1(), 14 + 50 - 14 + 1, 0, 0, 0, &t.state) ==
          neg(herr::einval)); // fewer than ETH_HLEN bytes left
    CHECK(progtypes::xdp_adjust_head(t.r1(), static_cast<uint64_t>(-300), 0, 0, 0, &t.state) ==
          neg(herr::einval)); // into the xdp_frame
    CHECK(progtypes::xdp_adjust_head(t.r1(), 14, 0, 0, 0, &t.state) == 0);

    CHECK(progtypes::xdp_adjust_meta(t.r1(), static_cast<uint64_t>(-8), 0, 0, 0, &t.state) == 0);
    CHECK(x.data - x.data_meta == 8);
    CHECK(progtypes::xdp_adjust_meta(t.r1(), static_cast<uint64_t>(-2), 0, 0, 0, &t.state) ==
          neg(herr::eacces));
    CHECK(progtypes::xdp_adjust_meta(t.r1(), 9, 0, 0, 0, &t.state) == neg(herr::einval));
    // adjust_head carries the metadata along.
    std::memset(x.data_meta, 0x5a, 8);
    CHECK(progtypes::xdp_adjust_head(t.r1(), static_cast<uint64_t>(-4), 0, 0, 0, &t.state) == 0);
    CHECK(x.data - x.data_meta == 8);
    CHECK(x.data_meta[0] == 0x5a);

    const uint8_t* end = x.data_end;
    CHECK(progtypes::xdp_adjust_tail(t.r1(), 10, 0, 0, 0, &t.state) == 0);
    CHECK(x.data_end == end + 10);
    CHECK(x.data_end[-1] == 0);
    CHECK(t.state.accessible(u(x.data_end) - 1, 1, true));
    CHECK(progtypes::xdp_adjust_tail(t.r1(), 4096, 0, 0, 0, &t.state) == neg(herr::einval));
    CHECK(progtypes::xdp_adjust_tail(t.r1(), static_cast<uint64_t>(-(x.data_end - x.data - 13)), 0,
                                     0, 0, &t.state) == neg(herr::einval));
}

TEST_CASE("redirect records the target and answers as tc or xdp", "[helpers][redirect]") {
    Skb tc;
    CHECK(progtypes::skb_redirect(5, 1, 0, 0, 0, &tc.state) == 7); // TC_ACT_REDIRECT
    CHECK(tc.state.redirect.ifindex == 5);
    CHECK(tc.state.redirect.flags == 1);
    CHECK(progtypes::skb_redirect(6, 2, 0, 0, 0, &tc.state) == 2); // TC_ACT_SHOT
    CHECK(tc.state.redirect.ifindex == 5);
    Xdp xdp;
    CHECK(progtypes::xdp_redirect(9, 0, 0, 0, 0, &xdp.state) == 4); // XDP_REDIRECT
    CHECK(xdp.state.redirect.ifindex == 9);
    CHECK(progtypes::xdp_redirect(9, 1, 0, 0, 0, &xdp.state) == 0); // XDP_ABORTED
    // Through the registry: the context type picks the flavour.
    const Helper* h = vm().helpers().find(static_cast<int32_t>(KernelHelper::redirect));
    REQUIRE(h);
    CHECK(h->fn(3, 0, 0, 0, 0, &xdp.state) == 4);
    CHECK(h->fn(3, 0, 0, 0, 0, &tc.state) == 7);
}

namespace {

// A devmap as the host could provide one: its lookup answers for the keys it holds.
class FakeDevMap final : public Map {
  public:
    static MapDef def_of() {
        MapDef d;
        d.type = MapType::devmap;
        d.key_size = 4;
        d.value_size = 4;
        d.max_entries = 4;
        return d;
    }
    FakeDevMap() : Map(def_of(), 1) {}
    void* lookup(const void* key, uint32_t) override {
        uint32_t k;
        std::memcpy(&k, key, 4);
        return k < 4 ? &ifindex_[k] : nullptr;
    }

  private:
    uint32_t ifindex_[4] = {0, 0, 11, 12};
};

} // namespace

TEST_CASE("redirect_map redirects to a held key, else answers with the flags' action",
          "[helpers][redirect]") {
    Xdp t;
    FakeDevMap devmap;
    CHECK(progtypes::xdp_redirect_map(u(&devmap), 2, 0, 0, 0, &t.state) == 4);
    CHECK(t.state.redirect.map == &devmap);
    CHECK(t.state.redirect.ifindex == 2);
    CHECK(progtypes::xdp_redirect_map(u(&devmap), 9, 2, 0, 0, &t.state) == 2); // XDP_PASS
    CHECK(t.state.redirect.map == nullptr);
    CHECK(progtypes::xdp_redirect_map(u(&devmap), 2, 4, 0, 0, &t.state) == 0);      // bad flag
    CHECK(progtypes::xdp_redirect_map(u(&devmap), 9, 1 << 3, 0, 0, &t.state) == 4); // broadcast
    auto array = make_map(MapType::array, 4, 4, 1);
    CHECK(progtypes::xdp_redirect_map(u(array.get()), 0, 0, 0, 0, &t.state) == 0);
    CHECK(t.state.faulted());
}

TEST_CASE("perf_event_output appends packet bytes for skb and xdp contexts", "[helpers][output]") {
    auto map = make_map(MapType::perf_event_array, 4, 4, 1);
    auto& perf = static_cast<PerfEventArrayMap&>(*map);
    const Helper* h = vm().helpers().find(static_cast<int32_t>(KernelHelper::perf_event_output));
    REQUIRE(h);
    const uint32_t meta = 0xabcdef01;
    Skb skb;
    const uint64_t flags = BPF_F_CURRENT_CPU | (uint64_t{4} << 32);
    CHECK(h->fn(skb.r1(), u(map.get()), flags, u(&meta), 4, &skb.state) == 0);
    Xdp xdp;
    CHECK(h->fn(xdp.r1(), u(map.get()), flags, u(&meta), 4, &xdp.state) == 0);
    auto records = perf.consume(0);
    REQUIRE(records.size() == 2);
    for (const auto& r : records) {
        REQUIRE(r.size() == 8);
        CHECK(std::memcmp(r.data(), &meta, 4) == 0);
        CHECK(std::vector<uint8_t>(r.begin() + 4, r.end()) == std::vector<uint8_t>{0, 0, 0, 0});
    }
    CHECK(h->fn(skb.r1(), u(map.get()), uint64_t{51} << 32, u(&meta), 4, &skb.state) ==
          neg(herr::efault));
    CHECK(h->fn(skb.r1(), u(map.get()), uint64_t{1} << 60, u(&meta), 4, &skb.state) ==
          neg(herr::einval));
    // No packet context: the tracing form, which takes no packet bytes.
    RunState plain;
    CHECK(h->fn(0, u(map.get()), flags, u(&meta), 4, &plain) == neg(herr::einval));
    CHECK(h->fn(0, u(map.get()), BPF_F_CURRENT_CPU, u(&meta), 4, &plain) == 0);
    CHECK(h->fn(0, u(map.get()), 1, u(&meta), 4, &plain) == neg(herr::e2big));
}

TEST_CASE("skb_get_tunnel_key reads the tunnel metadata the host gave the packet",
          "[helpers][skb]") {
    Skb t;
    uint32_t key[11];
    std::memset(key, 0xaa, sizeof key);
    CHECK(progtypes::skb_get_tunnel_key(t.r1(), u(key), sizeof key, 0, 0, &t.state) ==
          neg(herr::einval));
    CHECK(std::all_of(key, key + 11, [](uint32_t w) { return w == 0; }));
    // Received on a collect_md IPv6 tunnel: the remote end is the source.
    TunnelInfo& info = t.skb().tunnel;
    info.present = true;
    info.ipv6 = true;
    info.tun_id = 0x1122334455;
    info.src[15] = 1;
    info.dst[15] = 2;
    info.ttl = 9;
    info.label = 0xabcde;
    info.flags = 1 << 2; // TUNNEL_KEY
    CHECK(progtypes::skb_get_tunnel_key(t.r1(), u(key), sizeof key, 0, 0, &t.state) ==
          neg(herr::eproto));
    const uint64_t ipv6_flags = 1 | 1 << 4; // BPF_F_TUNINFO_IPV6 | BPF_F_TUNINFO_FLAGS
    CHECK(progtypes::skb_get_tunnel_key(t.r1(), u(key), sizeof key, ipv6_flags, 0, &t.state) == 0);
    const auto* bytes = reinterpret_cast<const uint8_t*>(key);
    CHECK(key[0] == 0x22334455);
    CHECK(bytes[4 + 15] == 1);  // remote_ipv6
    CHECK(bytes[28 + 15] == 2); // local_ipv6
    CHECK(bytes[21] == 9);
    CHECK(bytes[22] == 0); // tunnel_flags, big-endian
    CHECK(bytes[23] == 4);
    CHECK(key[6] == 0xabcde);
    // The layout with only an IPv4 remote address is refused for IPv6 metadata.
    CHECK(progtypes::skb_get_tunnel_key(t.r1(), u(key), 8, 1, 0, &t.state) == neg(herr::einval));
    // Options received with it (a Geneve option); they can only be set on metadata for sending.
    uint8_t opts[8] = {};
    CHECK(progtypes::skb_get_tunnel_opt(t.r1(), u(opts), sizeof opts, 0, 0, &t.state) ==
          neg(herr::enoent));
    info.flags |= 1 << 11; // IP_TUNNEL_GENEVE_OPT_BIT
    info.options[0] = 0x01;
    info.options[3] = 0x01;
    info.options_len = 4;
    std::memset(opts, 0xaa, sizeof opts);
    CHECK(progtypes::skb_get_tunnel_opt(t.r1(), u(opts), sizeof opts, 0, 0, &t.state) == 4);
    CHECK(std::vector<uint8_t>(opts, opts + 8) == std::vector<uint8_t>{1, 0, 0, 1, 0, 0, 0, 0});
    CHECK(progtypes::skb_get_tunnel_opt(t.r1(), u(opts), 3, 0, 0, &t.state) == neg(herr::enomem));
    CHECK(progtypes::skb_set_tunnel_opt(t.r1(), u(opts), 4, 0, 0, &t.state) == neg(herr::einval));
}

TEST_CASE("redirect_neigh and redirect_peer record the redirect for the host", "[helpers][skb]") {
    RunState state;
    const uint8_t nh[20] = {2, 0, 0, 0, 10, 0, 0, 1};
    CHECK(progtypes::redirect_peer(7, 0, 0, 0, 0, &state) == 7); // TC_ACT_REDIRECT
    CHECK(state.redirect.ifindex == 7);
    CHECK(state.redirect.flags == 1 << 2); // BPF_F_PEER
    CHECK(progtypes::redirect_neigh(8, u(nh), sizeof nh, 0, 0, &state) == 7);
    CHECK(state.redirect.ifindex == 8);
    CHECK(state.redirect.flags == (1 << 1 | 1 << 3)); // BPF_F_NEIGH | BPF_F_NEXTHOP
    CHECK(std::memcmp(state.redirect.nh, nh, sizeof nh) == 0);
    CHECK(progtypes::redirect_neigh(9, 0, 0, 0, 0, &state) == 7);
    CHECK(state.redirect.flags == 1 << 1);
    CHECK(progtypes::redirect_neigh(9, u(nh), 16, 0, 0, &state) == 2); // TC_ACT_SHOT
    CHECK(progtypes::redirect_peer(9, 1, 0, 0, 0, &state) == 2);
}

TEST_CASE("skb_get_xfrm_state reads the IPsec states the host gave the packet", "[helpers][skb]") {
    Skb t;
    uint8_t to[28];
    CHECK(progtypes::skb_get_xfrm_state(t.r1(), 0, u(to), sizeof to, 0, &t.state) ==
          neg(herr::einval));
    XfrmState states[2];
    states[0].reqid = 7;
    states[0].spi = 0x78563412;
    states[0].family = 2;
    states[0].saddr[0] = 10;
    states[0].saddr[3] = 9;
    states[1].family = 10;
    states[1].saddr[15] = 1;
    t.skb().sec_path = states;
    CHECK(progtypes::skb_get_xfrm_state(t.r1(), 0, u(to), sizeof to, 0, &t.state) == 0);
    CHECK(std::vector<uint8_t>(to, to + 16) ==
          std::vector<uint8_t>{7, 0, 0, 0, 0x12, 0x34, 0x56, 0x78, 2, 0, 0, 0, 10, 0, 0, 9});
    CHECK(progtypes::skb_get_xfrm_state(t.r1(), 1, u(to), sizeof to, 0, &t.state) == 0);
    CHECK(to[27] == 1);
    CHECK(progtypes::skb_get_xfrm_state(t.r1(), 2, u(to), sizeof to, 0, &t.state) ==
          neg(herr::einval));
    CHECK(progtypes::skb_get_xfrm_state(t.r1(), 0, u(to), sizeof to, 1, &t.state) ==
          neg(herr::einval));
    CHECK(std::all_of(to, to + 28, [](uint8_t b) { return b == 0; }));
}
