// The contexts the test-run builders make, as net/bpf/test_run.c makes them, and the memory they
// give checked mode.
#include "tests/progtypes/vm_run.hpp"
#include "vm/progtypes/skb.hpp"
#include "vm/progtypes/tracing.hpp"
#include "vm/progtypes/xdp.hpp"

#include <algorithm>
#include <catch2/catch.hpp>

#include <cstring>
#include <tuple>

namespace {

using namespace ebpf;
using progtypes_test::asm_prog;
using progtypes_test::make_context;
using progtypes_test::run_in_vm;
using progtypes_test::udp_frame;

std::string errno_of(ProgType type, const TestRunInput& input) {
    auto run = make_test_run_context(type, input);
    if (run) return "ok";
    return std::string(test_run_errno(run.error()));
}

std::span<const uint8_t> bytes_of(const auto& value) {
    return {reinterpret_cast<const uint8_t*>(&value), sizeof value};
}

TEST_CASE("skb test runs take 14 to 3712 bytes", "[progtypes][test_run]") {
    for (ProgType type : {ProgType::socket_filter, ProgType::sched_cls, ProgType::cgroup_skb}) {
        for (auto [size, expected] :
             {std::pair{size_t{13}, "EINVAL"}, {14, "ok"}, {3712, "ok"}, {3713, "EINVAL"}}) {
            std::vector<uint8_t> data(size, 0);
            TestRunInput input;
            input.data = data;
            INFO(static_cast<int>(type) << " size " << size);
            CHECK(errno_of(type, input) == expected);
        }
    }
}

TEST_CASE("skb test runs refuse IP packets shorter than their header", "[progtypes][test_run]") {
    for (auto [proto, size, expected] : {std::tuple{0x08, size_t{33}, "EINVAL"},
                                         {0x08, 34, "ok"},
                                         {0x86, 53, "EINVAL"},
                                         {0x86, 54, "ok"}}) {
        std::vector<uint8_t> data(size, 0);
        data[12] = static_cast<uint8_t>(proto);
        data[13] = proto == 0x86 ? 0xdd : 0x00;
        TestRunInput input;
        input.data = data;
        CHECK(errno_of(ProgType::sched_cls, input) == expected);
    }
}

TEST_CASE("skb test runs start at the network header except for tc", "[progtypes][test_run]") {
    const auto frame = udp_frame();
    auto sf = SkbTestRun::create(ProgType::socket_filter, {frame, {}, false, 0});
    REQUIRE(sf);
    SkBuff& skb = (*sf)->skb();
    CHECK(skb.len == frame.size() - 14);
    CHECK(skb.data[0] == 0x45);
    CHECK(skb.data_end == skb.data + skb.len);
    CHECK(skb.data_meta == skb.data);
    CHECK(skb.protocol == 0x0008); // ETH_P_IP, network byte order on a little-endian host
    CHECK(skb.pkt_type == uapi::packet_host);
    CHECK(skb.ifindex == 1);
    CHECK(skb.wire_len == 0); // set only when there is a context to convert
    REQUIRE(skb.sk);
    CHECK(skb.sk->family == uapi::af_inet);
    const uint8_t local[] = {10, 0, 0, 1}, remote[] = {10, 0, 0, 2};
    CHECK(std::memcmp(&skb.sk->src_ip4, local, 4) == 0);
    CHECK(std::memcmp(&skb.sk->dst_ip4, remote, 4) == 0);
    // The Ethernet header comes back zeroed.
    auto out = (*sf)->data_out();
    REQUIRE(out.size() == frame.size());
    CHECK(std::vector<uint8_t>(out.begin(), out.begin() + 14) == std::vector<uint8_t>(14, 0));
    CHECK(std::equal(out.begin() + 14, out.end(), frame.begin() + 14));
    CHECK_FALSE((*sf)->ctx_out());

    auto tc = SkbTestRun::create(ProgType::sched_cls, {frame, {}, false, 0});
    REQUIRE(tc);
    CHECK((*tc)->skb().len == frame.size());
    CHECK((*tc)->skb().data[12] == 0x08);
    CHECK((*tc)->data_out() == frame);
}

TEST_CASE("eth_type_trans sets pkt_type and protocol", "[progtypes][test_run]") {
    auto skb_of = [](std::vector<uint8_t> frame) {
        auto run = SkbTestRun::create(ProgType::sched_cls, {frame, {}, false, 0});
        REQUIRE(run);
        return (*run)->skb();
    };
    auto frame = udp_frame();
    std::memset(frame.data(), 0xff, 6);
    CHECK(skb_of(frame).pkt_type ==
          uapi::packet_multicast); // the loopback has no broadcast address
    frame[0] = 0x02;
    CHECK(skb_of(frame).pkt_type == uapi::packet_otherhost);
    frame[12] = 0x00; // a length, not an EtherType
    frame[13] = 0x40;
    CHECK(skb_of(frame).protocol == 0x0400); // ETH_P_802_2
    frame[14] = frame[15] = 0xff;
    CHECK(skb_of(frame).protocol == 0x0100); // ETH_P_802_3
}

TEST_CASE("ctx_in __sk_buff sets what the kernel lets it", "[progtypes][test_run]") {
    const auto frame = udp_frame();
    uapi::SkBuffMd md{};
    md.mark = 7;
    md.priority = 3;
    md.cb[4] = 0xcafe;
    md.tstamp = 99;
    md.gso_segs = 2;
    md.gso_size = 0x10005; // gso_size is 16 bits in the kernel's skb_shared_info
    md.ingress_ifindex = 5;
    auto run = SkbTestRun::create(ProgType::sched_cls, {frame, bytes_of(md), true, 0});
    REQUIRE(run);
    SkBuff& skb = (*run)->skb();
    CHECK(skb.mark == 7);
    CHECK(skb.priority == 3);
    CHECK(skb.cb[4] == 0xcafe);
    CHECK(skb.tstamp == 99);
    CHECK(skb.gso_segs == 2);
    CHECK(skb.gso_size == 5);
    CHECK(skb.skb_iif == 5);
    CHECK(skb.wire_len == frame.size());

    // A program's writes come back in ctx_out.
    auto r0 = run_in_vm(ProgType::sched_cls,
                        asm_prog("*(u32 *)(r1 +8) = 42\n"
                                 "r2 = 17\n"
                                 "*(u8 *)(r1 +49) = r2\n"
                                 "r0 = 0\n"
                                 "exit\n"),
                        {0, 2}, **run);
    INFO((r0 ? "" : r0.error().to_string()));
    REQUIRE(r0);
    auto out = (*run)->ctx_out();
    REQUIRE(out);
    REQUIRE(out->size() == sizeof(uapi::SkBuffMd));
    uapi::SkBuffMd back;
    std::memcpy(&back, out->data(), sizeof back);
    CHECK(back.mark == 42);
    CHECK(back.cb[0] == 0x1100);
    CHECK(back.ifindex == 1);
    CHECK(back.ingress_ifindex == 5);
    CHECK(back.wire_len == frame.size());
    CHECK(back.gso_size == 0x10005); // not converted back: ctx_in's value stays

    auto with = [&](auto change) {
        uapi::SkBuffMd m{};
        change(m);
        return errno_of(ProgType::cgroup_skb, {frame, bytes_of(m), false, 0});
    };
    CHECK(with([](uapi::SkBuffMd& m) { m.tc_index = 1; }) == "EINVAL");
    CHECK(with([](uapi::SkBuffMd& m) { m.data_end = 64; }) == "EINVAL");
    CHECK(with([](uapi::SkBuffMd& m) { m.wire_len = 10; }) == "EINVAL");
    CHECK(with([](uapi::SkBuffMd& m) { m.wire_len = 65537; }) == "EINVAL");
    CHECK(with([](uapi::SkBuffMd& m) { m.wire_len = 65536; }) == "ok");
    CHECK(with([](uapi::SkBuffMd& m) { m.gso_segs = 65536; }) == "EINVAL");
    CHECK(with([](uapi::SkBuffMd& m) { m.hwtstamp = 1; }) == "ok");

    std::vector<uint8_t> longer(sizeof(uapi::SkBuffMd) + 8, 0);
    CHECK(errno_of(ProgType::sched_cls, {frame, longer, false, 0}) == "ok");
    longer.back() = 1;
    CHECK(errno_of(ProgType::sched_cls, {frame, longer, false, 0}) == "E2BIG");

    // ctx_out alone converts a zeroed context.
    auto only_out = SkbTestRun::create(ProgType::sched_cls, {frame, {}, true, 0});
    REQUIRE(only_out);
    CHECK((*only_out)->skb().wire_len == frame.size());
    CHECK((*only_out)->ctx_out());
}

TEST_CASE("LD_ABS reads from skb->data", "[progtypes][test_run]") {
    const auto frame = udp_frame();
    const auto prog = asm_prog("r6 = r1\nr0 = *(u8 *)skb[9]\nexit\n");
    auto sf = make_context(ProgType::socket_filter, frame);
    auto r0 = run_in_vm(ProgType::socket_filter, prog, {}, *sf);
    REQUIRE(r0);
    CHECK(*r0 == 0x11); // the IPv4 header's protocol: UDP
    auto tc = make_context(ProgType::sched_cls, frame);
    r0 = run_in_vm(ProgType::sched_cls, asm_prog("r6 = r1\nr0 = *(u16 *)skb[12]\nexit\n"), {}, *tc);
    REQUIRE(r0);
    CHECK(*r0 == 0x0800);
}

TEST_CASE("checked mode lets programs write only what their type may", "[progtypes][test_run]") {
    const auto frame = udp_frame();
    // Unrewritten stores straight into our sk_buff: cb and mark, then len.
    auto store_at = [](size_t off) {
        return asm_prog("r2 = 1\n*(u32 *)(r1 +" + std::to_string(off) + ") = r2\nr0 = 0\nexit\n");
    };
    for (ProgType type : {ProgType::socket_filter, ProgType::cgroup_skb, ProgType::sched_cls}) {
        auto ctx = make_context(type, frame);
        CHECK(run_in_vm(type, store_at(offsetof(SkBuff, cb)), {}, *ctx));
        CHECK_FALSE(run_in_vm(type, store_at(offsetof(SkBuff, len)), {}, *ctx));
        CHECK_FALSE(run_in_vm(type, store_at(offsetof(SkBuff, data)), {}, *ctx));
        CHECK(run_in_vm(type, store_at(offsetof(SkBuff, mark)), {}, *ctx).ok() ==
              (type != ProgType::socket_filter));
        CHECK(run_in_vm(type, store_at(offsetof(SkBuff, tc_index)), {}, *ctx).ok() ==
              (type == ProgType::sched_cls));
    }
    // Packet bytes: writable for tc and xdp, readable for cgroup_skb.
    const auto write_packet = asm_prog("r2 = *(u32 *)(r1 +76)\n"
                                       "r3 = *(u32 *)(r1 +80)\n"
                                       "r4 = r2\n"
                                       "r4 += 15\n"
                                       "if r4 > r3 goto out\n"
                                       "r0 = *(u8 *)(r2 +14)\n"
                                       "*(u8 *)(r2 +14) = 0xab\n"
                                       "out:\n"
                                       "r0 = 1\n"
                                       "exit\n");
    auto tc = make_context(ProgType::sched_cls, frame);
    REQUIRE(run_in_vm(ProgType::sched_cls, write_packet, {0, 1}, *tc));
    CHECK(tc->data_out()[14] == 0xab);
    auto cg = make_context(ProgType::cgroup_skb, frame);
    auto denied = run_in_vm(ProgType::cgroup_skb, write_packet, {0, 1}, *cg);
    REQUIRE_FALSE(denied);
    auto fast = run_in_vm(ProgType::cgroup_skb,
                          asm_prog("r2 = *(u32 *)(r1 +76)\n"
                                   "r3 = *(u32 *)(r1 +80)\n"
                                   "r0 = r3\n"
                                   "r0 -= r2\n"
                                   "exit\n"),
                          {0, 1}, *cg, Mode::fast);
    REQUIRE(fast);
    CHECK(*fast == frame.size() - 14);
}

TEST_CASE("xdp test runs", "[progtypes][test_run]") {
    auto frame = udp_frame();
    TestRunInput input;
    input.data = frame;
    auto run = XdpTestRun::create(input);
    REQUIRE(run);
    XdpBuff& xdp = (*run)->xdp();
    CHECK(xdp.data - xdp.data_hard_start == 256);
    CHECK(xdp.data_meta == xdp.data);
    CHECK(static_cast<size_t>(xdp.data_end - xdp.data) == frame.size());
    CHECK(xdp.ingress_ifindex == 1);
    CHECK(xdp.rx_queue_index == 0);
    CHECK(xdp.frame_sz == 4096);
    CHECK((*run)->data_out() == frame);
    CHECK_FALSE((*run)->ctx_out());

    // Metadata: the first md.data bytes of data_in.
    uapi::XdpMd md{};
    md.data = 8;
    md.data_end = static_cast<uint32_t>(frame.size());
    std::vector<uint8_t> with_meta(8 + frame.size(), 0xee);
    std::copy(frame.begin(), frame.end(), with_meta.begin() + 8);
    md.data_end = static_cast<uint32_t>(with_meta.size());
    auto meta = XdpTestRun::create({with_meta, bytes_of(md), false, 0});
    REQUIRE(meta);
    auto r0 = run_in_vm(ProgType::xdp,
                        asm_prog("r2 = *(u32 *)(r1 +8)\n"
                                 "r3 = *(u32 *)(r1 +0)\n"
                                 "r0 = r3\n"
                                 "r0 -= r2\n"
                                 "exit\n"),
                        {0, 1}, **meta);
    REQUIRE(r0);
    CHECK(*r0 == 8);
    CHECK((*meta)->data_out() == with_meta);
    auto out = (*meta)->ctx_out();
    REQUIRE(out);
    uapi::XdpMd back;
    std::memcpy(&back, out->data(), sizeof back);
    CHECK(back.data == 8);
    CHECK(back.data_end == with_meta.size());

    auto with = [&](auto change, size_t size = 64) {
        std::vector<uint8_t> data(size, 0);
        uapi::XdpMd m{};
        m.data_end = static_cast<uint32_t>(size);
        change(m);
        return errno_of(ProgType::xdp, {data, bytes_of(m), false, 0});
    };
    CHECK(with([](uapi::XdpMd&) {}) == "ok");
    CHECK(with([](uapi::XdpMd& m) { m.data = 6; }) == "EINVAL");
    CHECK(with([](uapi::XdpMd& m) { m.data = 216; }, 300) == "ok");
    CHECK(with([](uapi::XdpMd& m) { m.data = 220; }, 300) == "EINVAL");
    CHECK(with([](uapi::XdpMd& m) { m.data = 52; }) == "EINVAL"); // 12 bytes of packet
    CHECK(with([](uapi::XdpMd& m) { m.data_meta = 4; }) == "EINVAL");
    CHECK(with([](uapi::XdpMd& m) { m.egress_ifindex = 1; }) == "EINVAL");
    CHECK(with([](uapi::XdpMd& m) { m.rx_queue_index = 1; }) == "EINVAL");
    CHECK(with([](uapi::XdpMd& m) {
              m.ingress_ifindex = 1;
              m.rx_queue_index = 1;
          }) == "EINVAL");
    CHECK(with([](uapi::XdpMd& m) { m.data_end = 30; }) == "EOPNOTSUPP"); // frags
    for (auto [size, expected] :
         {std::pair{size_t{13}, "EINVAL"}, {14, "ok"}, {3520, "ok"}, {3521, "EOPNOTSUPP"}}) {
        std::vector<uint8_t> data(size, 0);
        CHECK(errno_of(ProgType::xdp, {data, {}, false, 0}) == expected);
    }
}

TEST_CASE("tracing contexts come from ctx_in", "[progtypes][test_run]") {
    uint64_t args[3] = {11, 22, 33};
    TestRunInput input;
    input.ctx = bytes_of(args);
    auto raw = make_context(ProgType::raw_tracepoint, {}, bytes_of(args));
    auto r0 =
        run_in_vm(ProgType::raw_tracepoint, asm_prog("r0 = *(u64 *)(r1 +16)\nexit\n"), {0}, *raw);
    REQUIRE(r0);
    CHECK(*r0 == 33);
    // Past ctx_in: refused in checked mode, zero in fast mode.
    CHECK_FALSE(
        run_in_vm(ProgType::raw_tracepoint, asm_prog("r0 = *(u64 *)(r1 +24)\nexit\n"), {0}, *raw));
    input.max_ctx_offset = 32;
    CHECK(errno_of(ProgType::raw_tracepoint, input) == "EINVAL");
    input.max_ctx_offset = 24;
    CHECK(errno_of(ProgType::raw_tracepoint, input) == "ok");
    uint8_t packet[20] = {};
    input.data = packet;
    CHECK(errno_of(ProgType::raw_tracepoint, input) == "EINVAL");

    // A tracepoint record: the first 8 bytes are hidden.
    std::vector<uint8_t> record(24, 0);
    record[16] = 0x5a;
    auto tp = make_context(ProgType::tracepoint, {}, record);
    r0 = run_in_vm(ProgType::tracepoint, asm_prog("r0 = *(u8 *)(r1 +16)\nexit\n"), {0}, *tp);
    REQUIRE(r0);
    CHECK(*r0 == 0x5a);
    CHECK_FALSE(run_in_vm(ProgType::tracepoint, asm_prog("r0 = *(u8 *)(r1 +0)\nexit\n"), {}, *tp));
    TestRunInput tp_input;
    tp_input.ctx = std::span<const uint8_t>(record);
    tp_input.max_ctx_offset = 32;
    CHECK(errno_of(ProgType::tracepoint, tp_input) == "EACCES");

    // kprobe: pt_regs; perf_event: bpf_perf_event_data through the kernel's two pointers.
    uapi::PtRegsX86_64 regs{};
    regs.rdi = 0x1234;
    auto kp = make_context(ProgType::kprobe, {}, bytes_of(regs));
    r0 = run_in_vm(ProgType::kprobe,
                   asm_prog("r0 = *(u64 *)(r1 +" +
                            std::to_string(offsetof(uapi::PtRegsX86_64, rdi)) + ")\nexit\n"),
                   {0}, *kp);
    REQUIRE(r0);
    CHECK(*r0 == 0x1234);

    uapi::PerfEventData<uapi::PtRegsX86_64> pe{};
    pe.regs.rsi = 5;
    pe.sample_period = 0x1111222233334444;
    pe.addr = 77;
    auto perf = make_context(ProgType::perf_event, {}, bytes_of(pe));
    r0 = run_in_vm(ProgType::perf_event,
                   asm_prog("r2 = *(u32 *)(r1 +172)\n"
                            "r3 = *(u64 *)(r1 +176)\n"
                            "r4 = *(u64 *)(r1 +" +
                            std::to_string(offsetof(uapi::PtRegsX86_64, rsi)) +
                            ")\n"
                            "r0 = r2\n"
                            "r0 += r3\n"
                            "r0 += r4\n"
                            "exit\n"),
                   {0, 1, 2}, *perf);
    REQUIRE(r0);
    CHECK(*r0 == 0x11112222 + 77 + 5);
}

TEST_CASE("test-run errors name the kernel's errno", "[progtypes][test_run]") {
    CHECK(errno_of(ProgType::lsm, {}) == "ENOTSUPP");
    CHECK(test_run_errno(Error{"EINVAL: bad", std::nullopt}) == "EINVAL");
    CHECK(test_run_errno(Error{"invalid bpf_context access", std::nullopt}).empty());
    CHECK(test_run_errno(Error{"Eek: lowercase", std::nullopt}).empty());
}

} // namespace
