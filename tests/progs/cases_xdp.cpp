// The XDP programs' cases.
#include "tests/progs/cases.hpp"

#include <algorithm>
#include <cerrno>

namespace oracle {
namespace {

using namespace pkt;

const Ip a{false, "10.0.0.1", "10.0.0.2"};
const Ip b{false, "10.0.0.3", "10.0.0.2"};
const Ip c{false, "10.0.0.4", "10.0.0.2"};
const Ip a6{true, "2001:db8::1", "2001:db8::2"};

Case xdp(const std::string& name, std::vector<Input> inputs, std::vector<MapSetup> setup = {}) {
    return {name + ".o", name, ebpf::ProgType::xdp, std::move(setup), std::move(inputs), {}};
}

Ip to(const std::string& daddr, bool v6 = false, uint8_t ttl = 64) {
    return {v6, v6 ? "2001:db8::1" : "10.0.0.1", daddr, ttl, 0};
}

Case proto_count() {
    return xdp("xdp_proto_count",
               {{"tcp4 syn", tcp_frame(a, 40000, 80, tcp_syn)},
                {"udp6", udp_frame(a6, 5353, 53, text("hello"))},
                {"icmp4 echo", icmp_frame(a, 8, 1, 1, text("ping"))},
                {"arp", arp_frame()},
                {"ipv4 cut in its header", cut(tcp_frame(a, 40000, 80, tcp_ack), 30)},
                {"vlan udp4",
                 eth(eth_ip, ip_packet(a, ip_udp, udp(a, 1, 2, text("v"))), host_b, host_a, 42)},
                {"shorter than ethernet", Bytes(10, 0xab), {}, EINVAL}});
}

Case firewall() {
    const Ip blocked{false, "10.0.0.66", "10.0.0.2"};
    return xdp("xdp_firewall",
               {{"allowed tcp", tcp_frame(a, 40000, 80, tcp_syn)},
                {"blocked source", tcp_frame(blocked, 40000, 80, tcp_syn)},
                {"blocked port udp", udp_frame(a, 5000, 23)},
                {"blocked port tcp6", tcp_frame(a6, 5000, 23, tcp_syn)},
                {"blocked source again", udp_frame(blocked, 1, 2)},
                {"truncated", cut(udp_frame(a, 1, 2), 20)}},
               {{"blocked_src", addr4("10.0.0.66"), bytes_of<uint64_t>(0)},
                {"blocked_port", bytes_of<uint16_t>(23), bytes_of<uint64_t>(0)}});
}

// Ten flows into an LRU hash of eight, with lookups that mark some used: which ones survive is
// the eviction policy's business.
Case lru_conntrack() {
    std::vector<Input> inputs;
    std::vector<int> seen;
    auto flow = [&](int n) {
        // Input names are unique: "flow 0", then "flow 0 #2", "flow 0 #3".
        const auto times = std::count(seen.begin(), seen.end(), n) + 1;
        seen.push_back(n);
        inputs.push_back(
            {"flow " + std::to_string(n) + (times > 1 ? " #" + std::to_string(times) : ""),
             udp_frame(a, uint16_t(1000 + n), 53)});
    };
    for (int n = 0; n < 7; ++n)
        flow(n);
    for (int n : {0, 7, 8, 9, 0, 1, 8, 3})
        flow(n);
    inputs.push_back({"icmp", icmp_frame(a, 8, 1, 1)});
    return xdp("xdp_lru_conntrack", inputs);
}

Bytes lpm4(uint32_t prefixlen, const std::string& addr) {
    return cat({bytes_of(prefixlen), addr4(addr)});
}
Bytes lpm6(uint32_t prefixlen, const std::string& addr) {
    return cat({bytes_of(prefixlen), addr6(addr)});
}
Bytes next_hop(uint8_t mac_last, uint16_t id) {
    return cat({Bytes{0x02, 0, 0, 0, 0x0e, mac_last}, bytes_of(id)});
}

Case lpm_route() {
    return xdp("xdp_lpm_route",
               {{"host route", tcp_frame(to("10.1.2.3"), 1, 80, tcp_syn)},
                {"/16 route", udp_frame(to("10.1.9.9"), 1, 53)},
                {"/8 route", icmp_frame(to("10.200.0.1"), 8, 1, 1)},
                {"default route", tcp_frame(to("192.168.1.1"), 1, 443, tcp_ack)},
                {"ttl expires", udp_frame(to("10.1.2.3", false, 1), 1, 53)},
                {"ipv6 /48", udp_frame(to("2001:db8:1::5", true), 1, 53)},
                {"ipv6 /32", tcp_frame(to("2001:db8:2::1", true), 1, 80, tcp_syn)},
                {"ipv6 no route", udp_frame(to("2001:db9::1", true), 1, 53)},
                {"arp", arp_frame()},
                {"truncated ipv4", cut(udp_frame(a, 1, 2), 20)}},
               {{"routes_v4", lpm4(8, "10.0.0.0"), next_hop(1, 1)},
                {"routes_v4", lpm4(16, "10.1.0.0"), next_hop(2, 2)},
                {"routes_v4", lpm4(32, "10.1.2.3"), next_hop(3, 3)},
                {"routes_v4", lpm4(0, "0.0.0.0"), next_hop(9, 9)},
                {"routes_v6", lpm6(32, "2001:db8::"), next_hop(4, 4)},
                {"routes_v6", lpm6(48, "2001:db8:1::"), next_hop(5, 5)}});
}

Case tail_dispatch() {
    return xdp("xdp_tail_dispatch", {{"tcp4", tcp_frame(a, 1, 80, tcp_syn)},
                                     {"udp4 dns", udp_frame(a, 1, 53)},
                                     {"udp4 other", udp_frame(a, 1, 99)},
                                     {"icmp4: empty slot", icmp_frame(a, 8, 1, 1)},
                                     {"tcp6 through a subprogram", tcp_frame(a6, 1, 80, tcp_syn)},
                                     {"udp6 dns", udp_frame(a6, 1, 53)},
                                     {"arp: empty slot", arp_frame()},
                                     {"ethernet only", cut(udp_frame(a, 1, 2), 14)}});
}

Case map_in_map() {
    return xdp("xdp_map_in_map", {{"tcp4 80", tcp_frame(a, 1, 80, tcp_syn)},
                                  {"tcp4 80 again", tcp_frame(b, 2, 80, tcp_ack)},
                                  {"udp6 53", udp_frame(a6, 1, 53)},
                                  {"icmp4: empty slot", icmp_frame(a, 8, 1, 1)},
                                  {"udp4 53", udp_frame(a, 1, 53)},
                                  {"tcp6 443", tcp_frame(a6, 1, 443, tcp_syn)}});
}

Case ringbuf_events() {
    return xdp("xdp_ringbuf_events",
               {{"tcp syn: submitted", tcp_frame(a, 40000, 80, tcp_syn)},
                {"tcp ack: discarded", tcp_frame(a, 40000, 80, tcp_ack)},
                {"icmp: 13-byte record", icmp_frame(a, 8, 7, 1, text("payload!"))},
                {"icmp header only: 8-byte record", cut(icmp_frame(a, 8, 7, 2), 42)},
                {"udp: second reservation refused", udp_frame(a, 1, 2)},
                {"tcp syn again", tcp_frame(b, 40001, 443, tcp_syn)}});
}

// IPv6 with extension headers before the UDP header.
Bytes ipv6_ext_frame(const std::vector<uint8_t>& chain, const Bytes& payload, bool frag = false) {
    Bytes ext;
    for (size_t i = 0; i < chain.size(); ++i) {
        const uint8_t next = i + 1 < chain.size() ? chain[i + 1] : ip_udp;
        if (chain[i] == 44) // fragment header: offset 0, more fragments clear
            ext = cat({ext, Bytes{next, 0, 0, 0, 0, 0, 0, 1}});
        else // hop-by-hop / routing / destination options of 16 bytes, PadN filled
            ext = cat({ext, Bytes{next, 1, 1, 12}, Bytes(12, 0)});
    }
    const Bytes l4 = udp(a6, 7, 9, payload, !frag);
    Bytes ip = ip_packet(a6, chain.empty() ? ip_udp : chain[0], cat({ext, l4}));
    return eth(eth_ipv6, ip);
}

Case bounded_loops() {
    Bytes big(100);
    for (size_t i = 0; i < big.size(); ++i)
        big[i] = static_cast<uint8_t>(i * 7 + 1);
    return xdp("xdp_bounded_loops",
               {{"udp6", ipv6_ext_frame({}, text("checksum me"))},
                {"hop-by-hop and destination options", ipv6_ext_frame({0, 60}, text("abcdef"))},
                {"fragment header", ipv6_ext_frame({44}, text("frag"), true)},
                {"seven extension headers", ipv6_ext_frame({0, 60, 60, 60, 60, 60, 60}, text("x"))},
                {"extension header cut", cut(ipv6_ext_frame({0, 60}, text("abc")), 14 + 40 + 20)},
                {"100-byte payload", ipv6_ext_frame({43}, big)},
                {"empty payload", ipv6_ext_frame({}, {})},
                {"ipv4", udp_frame(a, 1, 2, text("v4"))}});
}

Case for_each_elem() {
    auto report = [](uint8_t threshold) { return udp_frame(c, 1, 9999, Bytes{threshold}); };
    return xdp("xdp_for_each_elem", {{"a1", udp_frame(a, 1, 2)},
                                     {"a2", tcp_frame(a, 1, 2, tcp_syn)},
                                     {"b1", udp_frame(b, 1, 2)},
                                     {"c1", icmp_frame(c, 8, 1, 1)},
                                     {"c2", udp_frame(c, 1, 2)},
                                     {"c3", udp_frame(c, 1, 2)},
                                     {"report, threshold 2", report(2)},
                                     {"report, threshold 0", report(0)},
                                     {"report cut before the threshold", cut(report(5), 42)},
                                     {"report, threshold 5", report(5)}});
}

Case icmp_echo() {
    const Ip other{false, "10.0.0.1", "10.0.0.9"};
    const Ip other6{true, "2001:db8::1", "2001:db8::9"};
    return xdp("xdp_icmp_echo",
               {{"echo request", icmp_frame(a, 8, 0x1234, 1, text("abcdefgh"))},
                {"echo request, odd payload", icmp_frame(a, 8, 0x1234, 2, text("abc"))},
                {"echo request to another host", icmp_frame(other, 8, 1, 1)},
                {"echo reply", icmp_frame(a, 0, 1, 1)},
                {"icmpv6 echo request", icmp_frame(a6, 128, 0x4321, 1, text("v6 ping"))},
                {"icmpv6 echo request to another host", icmp_frame(other6, 128, 1, 1)},
                {"truncated icmp", cut(icmp_frame(a, 8, 1, 1), 38)},
                {"udp", udp_frame(a, 1, 2)}});
}

Case tunnel() {
    const Ip outer{false, "172.16.0.2", "172.16.0.1"};
    const Ip outer_other{false, "172.16.0.2", "172.16.0.9"};
    const Bytes inner = ip_packet(a, ip_udp, udp(a, 1, 2, text("inner")));
    return xdp("xdp_tunnel",
               {{"to the remote network: encapsulated", tcp_frame(to("192.168.1.10"), 1, 80, 2)},
                {"ip-in-ip to us: decapsulated", eth(eth_ip, ip_packet(outer, ip_ipip, inner))},
                {"ip-in-ip to another endpoint", eth(eth_ip, ip_packet(outer_other, 4, inner))},
                {"ip-in-ip, inner header cut",
                 cut(eth(eth_ip, ip_packet(outer, ip_ipip, inner)), 14 + 20 + 10)},
                {"plain udp", udp_frame(a, 1, 2)},
                {"ipv6", udp_frame(a6, 1, 2)}});
}

Case tail_meta() {
    return xdp("xdp_tail_meta", {{"kept", udp_frame(a, 1, 2, Bytes(30, 0x11))},
                                 {"cut to 96", udp_frame(a, 1, 2, Bytes(108, 0x22))},
                                 {"exactly 96", udp_frame(a, 1, 2, Bytes(54, 0x33))},
                                 {"runt padded to 60", udp_frame(a, 1, 2)},
                                 {"arp padded", arp_frame()},
                                 {"ethernet header only", cut(arp_frame(), 14)}});
}

Case redirect_map() {
    auto to_port = [](uint8_t last) {
        return eth(eth_ip, ip_packet(a, ip_udp, udp(a, 1, 2)), Mac{2, 0, 0, 0, 0, last});
    };
    return xdp("xdp_redirect_map",
               {{"port 1: a device", to_port(1)},
                {"port 2: no device", to_port(2)},
                {"port 3: no device", to_port(0x0b)},
                {"port 1 again", to_port(5)}},
               {{"tx_ports", bytes_of<uint32_t>(1), bytes_of<uint32_t>(1) /* lo */}});
}

// CPU 1 has a queue; CPU 0 has none and CPUs 2 and 3 cannot have one on the kernel's 2 CPUs
// (the update fails with ENODEV). The source address's last byte picks the CPU.
Case cpu_redirect() {
    return xdp("xdp_cpu_redirect",
               {{"a: cpu 1", udp_frame(a, 1, 2)},
                {"c: cpu 0, no queue", tcp_frame(c, 40000, 80, tcp_syn)},
                {"b: cpu 3, no such cpu", udp_frame(b, 1, 2)},
                {"to an AF_XDP socket: none bound", udp_frame(a, 1, 7000)},
                {"broadcast: not a cpumap flag", udp_frame(a, 1, 9)},
                {"ipv6", udp_frame(a6, 1, 2)}},
               {{"cpus", bytes_of<uint32_t>(1), bytes_of<uint32_t>(128) /* qsize */}});
}

Case spin_lock_rate() {
    const Bytes tick = udp_frame(a, 1, 7777);
    return xdp("xdp_spin_lock_rate", {{"a: new bucket", udp_frame(a, 1, 2)},
                                      {"a: last token", tcp_frame(a, 1, 2, tcp_syn)},
                                      {"a: over budget", udp_frame(a, 1, 2)},
                                      {"tick from a", tick},
                                      {"a after the tick", udp_frame(a, 1, 2)},
                                      {"b", udp_frame(b, 1, 2)},
                                      {"tick from c: no bucket", udp_frame(c, 1, 7777)},
                                      {"ipv6", udp_frame(a6, 1, 2)}});
}

} // namespace

Case load_store() {
    return xdp("xdp_load_store", {{"udp", udp_frame(a, 1, 2, text("payload!"))},
                                  {"tcp6", tcp_frame(a6, 1, 2, tcp_syn)},
                                  {"ethernet header only", cut(udp_frame(a, 1, 2), 14)},
                                  {"arp", arp_frame()}});
}

std::vector<Case> xdp_cases() {
    return {proto_count(),   firewall(),     lru_conntrack(),  lpm_route(),
            tail_dispatch(), map_in_map(),   ringbuf_events(), bounded_loops(),
            for_each_elem(), icmp_echo(),    tunnel(),         tail_meta(),
            redirect_map(),  cpu_redirect(), spin_lock_rate(), load_store()};
}

} // namespace oracle
