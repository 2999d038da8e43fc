// ebpf-run --pcap and --pcap-out on captures the tests write themselves: pcap with libpcap,
// pcapng by hand.
#include "tests/cli/run_support.hpp"

#include <catch2/catch.hpp>

using namespace ebpf::test;
using nlohmann::json;

namespace {

const std::string firewall = example("xdp_firewall.o");
const std::string rules = example("xdp_firewall_rules.json");

// Two packets from blocked prefixes, two allowed, an ARP frame and a runt.
std::vector<std::vector<uint8_t>> mixed_traffic() {
    return {udp_packet(7, 192 /* 192.0.0.7: allowed */),
            udp_packet(1, 172 /* 172.0.0.1: allowed */),
            [] {
                auto p = udp_packet(7, 192);
                p[27] = 168, p[28] = 2; // 192.168.2.7: blocked
                return p;
            }(),
            [] {
                auto p = udp_packet(5, 172);
                p[27] = 16; // 172.16.0.5: blocked
                return p;
            }(),
            arp_packet(),
            {1, 2, 3, 4, 5}};
}

} // namespace

TEST_CASE("ebpf-run --pcap prints a histogram of return codes") {
    const std::string capture = scratch("mixed.pcap");
    write_pcap(capture, mixed_traffic());
    const auto o = ebpf_run(firewall + " --map-init " + rules + " --pcap " + capture);
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
    CHECK_THAT(o.out, Catch::Contains("packets   6, 3 passed\n"));
    CHECK_THAT(o.out, Catch::Contains("  XDP_DROP                     2\n"));
    CHECK_THAT(o.out, Catch::Contains("  XDP_PASS                     3\n"));
    CHECK_THAT(o.out, Catch::Contains("  not run: EINVAL              1\n"));
    CHECK_THAT(o.out, Catch::Contains("ns per packet (median)"));

    const auto j =
        json::parse(ebpf_run(firewall + " --map-init " + rules + " --json --pcap " + capture).out);
    CHECK(j["pcap"] ==
          json{{"packets", 6},
               {"passed", 3},
               {"verdicts", {{"XDP_DROP", 2}, {"XDP_PASS", 3}, {"not run: EINVAL", 1}}}});
    CHECK(j["r0"].is_null());
    CHECK(j["time_ns_per_run"].is_number());
}

TEST_CASE("ebpf-run reads pcapng as well") {
    const std::string capture = scratch("mixed.pcapng");
    write_pcapng(capture, mixed_traffic());
    const auto o = ebpf_run(firewall + " --map-init " + rules + " --pcap " + capture);
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
    CHECK_THAT(o.out, Catch::Contains("packets   6, 3 passed\n"));
}

TEST_CASE("ebpf-run --pcap-out writes the passed packets as the program left them") {
    const std::string in = scratch("tc_in.pcap"), out = scratch("tc_out.pcap");
    write_pcap(in, {udp_packet(1), udp_packet(2), {9, 9}});
    const auto o =
        ebpf_run(prog("run_types.o") + " -p tc_mark --pcap " + in + " --pcap-out " + out);
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
    const auto written = read_pcap(out);
    REQUIRE(written.size() == 2);
    for (size_t i = 0; i < 2; ++i) {
        auto expected = udp_packet(static_cast<uint8_t>(i + 1));
        expected[0] = 0xee;
        CHECK(written[i] == expected);
    }

    // The firewall's dropped packets stay out.
    const std::string fw_in = scratch("fw_in.pcap"), fw_out = scratch("fw_out.pcap");
    write_pcap(fw_in, mixed_traffic());
    REQUIRE(
        ebpf_run(firewall + " --map-init " + rules + " --pcap " + fw_in + " --pcap-out " + fw_out)
            .exit_code == 0);
    const auto passed = read_pcap(fw_out);
    REQUIRE(passed.size() == 3);
    CHECK(passed[0] == mixed_traffic()[0]);
    CHECK(passed[2] == arp_packet());
}

TEST_CASE("ebpf-run --pcap-out cuts socket filter packets to what they keep") {
    const std::string in = scratch("sf_in.pcap"), out = scratch("sf_out.pcap");
    auto packet = udp_packet();
    write_pcap(in, {packet});
    REQUIRE(
        ebpf_run(example("socket_counter.o") + " --pcap " + in + " --pcap-out " + out).exit_code ==
        0);
    const auto written = read_pcap(out);
    REQUIRE(written.size() == 1);
    CHECK(written[0] == packet); // it keeps skb->len bytes: all of them, header restored
}

TEST_CASE("ebpf-run --pcap refuses bad captures with one line") {
    const auto check = [](const std::string& args, const std::string& message) {
        const auto o = ebpf_run(args);
        INFO(args << "\n" << o.err);
        CHECK(o.exit_code == 2);
        CHECK(one_line_error(o));
        CHECK_THAT(o.err, Catch::Contains(message));
    };
    check(firewall + " --pcap /nonexistent.pcap", "/nonexistent.pcap");
    check(firewall + " --pcap " + scratch("random.pcap", "this is not a capture at all"),
          "random.pcap");

    const std::string good = scratch("good.pcap");
    write_pcap(good, mixed_traffic());
    const std::string bytes = slurp(good);
    for (size_t cut : {10, 30, 50, 70})
        check(firewall + " --pcap " + scratch("cut.pcap", bytes.substr(0, cut)), "cut.pcap");

    const std::string raw_ip = scratch("raw.pcap");
    write_pcap(raw_ip, {{0x45, 0, 0, 20}}, DLT_RAW);
    check(firewall + " --pcap " + raw_ip, "expected Ethernet");
    check(firewall + " --pcap " + good + " --pcap-out /nonexistent/dir/out.pcap",
          "/nonexistent/dir/out.pcap");
    check(prog("run_types.o") + " -p kprobe_sum --pcap " + good, "takes packets");
    check(firewall + " --pcap " + good + " --ctx " + example("packets/http_syn.bin"),
          "--pcap gives the packets");
    check(firewall + " --pcap " + good + " --repeat 3", "drop --repeat");
}

TEST_CASE("ebpf-run --pcap: a runtime fault names the packet") {
    const std::string in = scratch("fault.pcap");
    auto long_packet = udp_packet();
    long_packet.resize(128, 1);
    write_pcap(in, {long_packet, udp_packet()});
    const auto o = ebpf_run(prog("run_unsafe.o") + " --no-verify --pcap " + in);
    CHECK(o.exit_code == 4);
    CHECK(one_line_error(o));
    CHECK_THAT(o.err, Catch::Contains("packet 2: "));
}
