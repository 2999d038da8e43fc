// The socket buffer programs' cases: tc classifiers, socket filters and a cgroup_skb policy.
#include "tests/progs/cases.hpp"

#include <linux/bpf.h>

#include <cerrno>

namespace oracle {
namespace {

using namespace pkt;
using ebpf::ProgType;

const Ip a{false, "10.0.0.1", "10.0.0.2"};
const Ip b{false, "10.0.0.3", "10.0.0.2"};
const Ip c{false, "10.0.0.4", "10.0.0.2"};
const Ip d{false, "10.0.0.5", "10.0.0.2"};
const Ip e{false, "10.0.0.6", "10.0.0.2"};
const Ip a6{true, "2001:db8::1", "2001:db8::2"};

Case skb(ProgType type, const std::string& name, std::vector<Input> inputs,
         std::vector<MapSetup> setup = {}) {
    return {name + ".o", name, type, std::move(setup), std::move(inputs), {}};
}
Case tc(const std::string& name, std::vector<Input> inputs, std::vector<MapSetup> setup = {}) {
    return skb(ProgType::sched_cls, name, std::move(inputs), std::move(setup));
}

// A __sk_buff for ctx_in with the fields a test run takes from it.
Bytes skb_ctx(uint32_t mark, uint32_t priority = 0, uint32_t cb0 = 0) {
    __sk_buff s{};
    s.mark = mark;
    s.priority = priority;
    s.cb[0] = cb0;
    return bytes_of(s);
}

Case flow_table() {
    return tc("tc_flow_table",
              {{"syn a", tcp_frame(a, 40000, 80, tcp_syn)},
               {"data a", tcp_frame(a, 40000, 80, tcp_ack | tcp_psh, text("GET / HTTP/1.0"))},
               {"syn b", tcp_frame(b, 40001, 443, tcp_syn)},
               {"udp c", udp_frame(c, 5000, 53)},
               {"udp d: table full now", udp_frame(d, 5001, 53)},
               {"udp e: no room", udp_frame(e, 5002, 53)},
               {"fin a: removed", tcp_frame(a, 40000, 80, tcp_fin | tcp_ack)},
               {"udp e: room again", udp_frame(e, 5002, 53)},
               {"rst for an unknown flow", tcp_frame(a, 1, 1, tcp_rst)},
               {"udp6", udp_frame(a6, 1, 2)}});
}

Case percpu_bytes() {
    return tc("tc_percpu_bytes", {{"udp a", udp_frame(a, 1, 2, text("1234"))},
                                  {"tcp a", tcp_frame(a, 1, 2, tcp_syn)},
                                  {"udp b", udp_frame(b, 1, 2)},
                                  {"udp6 a", udp_frame(a6, 1, 2)},
                                  {"arp", arp_frame()},
                                  {"udp header cut", cut(udp_frame(a, 1, 2), 38)},
                                  {"ip header cut", cut(udp_frame(a, 1, 2), 20), {}, EINVAL}});
}

Case lru_percpu_sessions() {
    return tc("tc_lru_percpu_sessions", {{"a:1000 udp", udp_frame(a, 1000, 9)},
                                         {"a:1000 tcp", tcp_frame(a, 1000, 80, tcp_syn)},
                                         {"b:2000", udp_frame(b, 2000, 9)},
                                         {"a:1000 forget", udp_frame(a, 1000, 4000)},
                                         {"a:1000 forget again", udp_frame(a, 1000, 4000)},
                                         {"udp6", udp_frame(a6, 3000, 9)}});
}

Case tail_call_limit() {
    return tc("tc_tail_call_limit",
              {{"from 0", udp_frame(a, 1, 2)},
               {"cb[0] preset to 100", udp_frame(a, 1, 2), skb_ctx(0, 0, 100)},
               {"from 0 again", tcp_frame(a, 1, 2, tcp_syn)}});
}

Case queue_stack() {
    const Bytes control = udp_frame(b, 1, 7);
    return tc("tc_queue_stack", {{"udp", udp_frame(a, 1, 9)},
                                 {"tcp", tcp_frame(a, 1, 9, tcp_syn)},
                                 {"marked udp", udp_frame(a, 1, 9, text("mark")), skb_ctx(5)},
                                 {"queue full", udp_frame(a, 1, 9, text("full"))},
                                 {"control 1", control},
                                 {"control 2", control},
                                 {"control 3", control},
                                 {"control 4: queue empty", control},
                                 {"udp header cut", cut(control, 38)},
                                 {"ip header cut", cut(control, 20), {}, EINVAL}});
}

Case perf_sample() {
    return tc("tc_perf_sample",
              {{"long udp: 64 bytes appended", udp_frame(a, 1, 2, Bytes(40, 0x5a))},
               {"short udp: no room for 64 bytes", udp_frame(a, 1, 2)},
               {"marked tcp", tcp_frame(a, 1, 2, tcp_syn, Bytes(30, 1)), skb_ctx(0x77)},
               {"arp", arp_frame()}});
}

Case subprogs() {
    Ip tos{false, "10.0.5.6", "10.0.0.2"};
    tos.tos = 0x28;
    Ip tc6 = a6;
    tc6.tos = 0xb8;
    return tc("tc_subprogs",
              {{"tcp4 with tos", tcp_frame(tos, 1, 2, tcp_syn), skb_ctx(0x00ab0000)},
               {"udp6 with traffic class", udp_frame(tc6, 1, 2, text("six")), skb_ctx(1, 3)},
               {"big icmp: score capped", icmp_frame(a, 8, 1, 1, Bytes(2100, 9)), skb_ctx(0)},
               {"arp: not ip", arp_frame(), skb_ctx(0)},
               {"tcp header cut", cut(tcp_frame(a, 1, 2, tcp_syn), 40), skb_ctx(0)},
               {"ip header cut", cut(udp_frame(a, 1, 2), 24), skb_ctx(0), EINVAL},
               {"udp4 without ctx_in", udp_frame(a, 1, 2)}});
}

Case bpf_loop_hash() {
    return tc("tc_bpf_loop_hash", {{"dns", udp_frame(a, 1, 53, text("hello world"))},
                                   {"zero byte stops the hash",
                                    udp_frame(a, 1, 54, cat({text("ab"), Bytes{0}, text("cd")}))},
                                   {"40 bytes: 32 hashed", udp_frame(a, 1, 55, Bytes(40, 0x41))},
                                   {"tcp: skipped", tcp_frame(a, 1, 53, tcp_syn, text("x"))},
                                   {"empty payload", udp_frame(a, 1, 56)},
                                   {"dns again, other payload", udp_frame(b, 1, 53, text("bye"))}});
}

Bytes service(const std::string& addr, uint16_t port) {
    return cat({addr4(addr), port_be(port), Bytes{0, 0}});
}

Case nat() {
    const Ip client{false, "10.0.0.1", "10.96.0.10"};
    const Ip backend{false, "10.0.0.20", "10.0.0.1"};
    const Ip other{false, "10.0.0.1", "10.96.0.11"};
    return tc("tc_nat",
              {{"tcp to the vip", tcp_frame(client, 40000, 80, tcp_syn)},
               {"tcp reply from the backend", tcp_frame(backend, 8080, 40000, tcp_syn | tcp_ack)},
               {"udp to the vip", udp_frame(client, 40001, 53, text("query"))},
               {"udp to the vip without checksum",
                eth(eth_ip, ip_packet(client, ip_udp, udp(client, 40002, 53, text("q"), false)))},
               {"tcp elsewhere", tcp_frame(other, 40000, 80, tcp_syn)},
               {"udp6", udp_frame(a6, 1, 53)}},
              {{"backends", service("10.96.0.10", 80), service("10.0.0.20", 8080)},
               {"backends", service("10.96.0.10", 53), service("10.0.0.21", 5353)},
               {"vips", service("10.0.0.20", 8080), service("10.96.0.10", 80)}});
}

Case skb_edit() {
    return tc("tc_skb_edit", {{"runt udp padded", udp_frame(a, 1, 2, text("abcd"))},
                              {"long udp cut", udp_frame(a, 1, 2, Bytes(200, 0x61))},
                              {"udp", udp_frame(a, 1, 2, text("secret payload bytes"))},
                              {"tcp", tcp_frame(a, 1, 2, tcp_ack, text("not redacted"))},
                              {"arp padded", arp_frame()}});
}

Bytes port(uint32_t ifindex, uint32_t flags) {
    return cat({bytes_of(ifindex), bytes_of(flags)});
}

Case redirect() {
    auto to = [](const std::string& daddr) { return Ip{false, "10.0.0.1", daddr}; };
    return tc("tc_redirect",
              {{"egress redirect", udp_frame(to("10.0.0.2"), 1, 2)},
               {"ingress redirect", tcp_frame(to("10.0.0.3"), 1, 2, tcp_syn)},
               {"bad flags", udp_frame(to("10.0.0.4"), 1, 2)},
               {"no entry", udp_frame(to("10.0.0.9"), 1, 2)},
               {"udp6", udp_frame(a6, 1, 2)}},
              {{"fib", addr4("10.0.0.2"), port(1, 0)},
               {"fib", addr4("10.0.0.3"), port(1, BPF_F_INGRESS)},
               {"fib", addr4("10.0.0.4"), port(1, 0x80)}});
}

Case flow_log() {
    return tc("tc_flow_log", {{"tcp", tcp_frame(a, 40000, 80, tcp_syn)},
                              {"udp", udp_frame(b, 5353, 53, text("q"))},
                              {"udp6: not logged", udp_frame(a6, 1, 2)},
                              {"arp: not logged", arp_frame()}});
}

Case global_data() {
    return skb(ProgType::socket_filter, "socket_global_data",
               {{"udp: kept whole", udp_frame(a, 1, 2)},
                {"long udp: snapped", udp_frame(b, 1, 2, Bytes(100, 7))},
                {"tcp: dropped", tcp_frame(a, 1, 2, tcp_syn)},
                {"udp6: dropped", udp_frame(a6, 1, 2)},
                {"arp: dropped", arp_frame()},
                {"no udp header: LD_IND past the end", cut(udp_frame(a, 1, 2), 14 + 20)},
                {"ip header cut", cut(udp_frame(a, 1, 2), 14 + 10), {}, EINVAL}});
}

// A DNS query: header, the name's labels, type and class IN.
Bytes dns_query(const std::vector<std::string>& labels, uint16_t qtype) {
    Bytes q{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    for (const auto& l : labels) {
        q.push_back(static_cast<uint8_t>(l.size()));
        q = cat({q, text(l)});
    }
    return cat({q, Bytes{0}, port_be(qtype), Bytes{0, 1}});
}

Case dns() {
    Bytes bad_label = dns_query({"www"}, 1);
    bad_label[12] = 70; // a label length over 63
    const std::vector<std::string> nine(9, "a");
    return skb(
        ProgType::socket_filter, "socket_dns",
        {{"A query", udp_frame(a, 40000, 53, dns_query({"www", "example", "com"}, 1))},
         {"AAAA query", udp_frame(a, 40000, 53, dns_query({"example", "org"}, 28))},
         {"type 115: the last counter", udp_frame(b, 1, 53, dns_query({"mail"}, 115))},
         {"label too long", udp_frame(a, 1, 53, bad_label)},
         {"nine labels", udp_frame(a, 1, 53, dns_query(nine, 1))},
         {"name cut", cut(udp_frame(a, 1, 53, dns_query({"www", "example"}, 1)), 14 + 28 + 17)},
         {"tcp to 53", tcp_frame(a, 1, 53, tcp_syn)},
         {"udp to 54", udp_frame(a, 1, 54, dns_query({"x"}, 1))}});
}

Case ld_abs() {
    return skb(ProgType::socket_filter, "socket_ld_abs",
               {{"tcp: below SKF_LL_OFF", tcp_frame(a, 40000, 443, tcp_syn)},
                {"udp: a load past the end", udp_frame(b, 1, 53, Bytes{1, 2, 3})},
                {"ipv6: every load", tcp_frame(a6, 1, 80, tcp_syn)}});
}

Case cgroup_policy() {
    return skb(ProgType::cgroup_skb, "cgroup_skb_policy",
               {{"tcp to 443: allowed", tcp_frame(a, 40000, 443, tcp_syn)},
                {"tcp to 22: refused", tcp_frame(a, 40000, 22, tcp_syn)},
                {"udp6 to 53: allowed", udp_frame(a6, 1, 53)},
                {"icmp: allowed", icmp_frame(a, 8, 1, 1)},
                {"marked tcp to 22: allowed", tcp_frame(a, 40000, 22, tcp_syn), skb_ctx(0xdead)},
                {"tcp header cut: refused", cut(tcp_frame(a, 1, 443, tcp_syn), 14 + 20 + 2)},
                {"ip header cut", cut(tcp_frame(a, 1, 443, tcp_syn), 14 + 10), {}, EINVAL},
                {"udp to 8080: refused", udp_frame(b, 1, 8080)}},
               {{"allowed_ports", bytes_of<uint16_t>(443), Bytes{1}},
                {"allowed_ports", bytes_of<uint16_t>(53), Bytes{1}}});
}

} // namespace

Case encap() {
    Ip ect0 = a, ect1 = a, ce = a;
    ect0.tos = 0x02;
    ect1.tos = 0xb9;
    ce.tos = 0x03;
    Ip ect6 = a6;
    ect6.tos = 0x02;
    return tc("tc_encap", {{"ipip encap", udp_frame(ect0, 7, 1, text("inner"))},
                           {"net room", udp_frame(a, 7, 2, text("payload"))},
                           {"net room udp6", udp_frame(ect6, 7, 2, text("payload"))},
                           {"outer mac", udp_frame(ect1, 7, 3)},
                           {"bad arguments", udp_frame(ce, 7, 4)},
                           {"bad arguments udp6", udp_frame(a6, 7, 4)},
                           {"csum level", udp_frame(a, 7, 5)},
                           {"tunnel key", udp_frame(a, 7, 6)},
                           {"redirect peer", udp_frame(a, 7, 7)},
                           {"redirect neigh", udp_frame(a, 7, 8)},
                           {"redirect neigh bad flags", udp_frame(a, 7, 9)},
                           {"ipip encap udp6", udp_frame(a6, 7, 1)},
                           {"arp", arp_frame()}});
}

std::vector<Case> skb_cases() {
    return {flow_table(),      percpu_bytes(),  lru_percpu_sessions(),
            tail_call_limit(), queue_stack(),   perf_sample(),
            subprogs(),        bpf_loop_hash(), nat(),
            skb_edit(),        redirect(),      flow_log(),
            global_data(),     dns(),           cgroup_policy(),
            ld_abs(),          encap()};
}

} // namespace oracle
