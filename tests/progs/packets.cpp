#include "tests/progs/packets.hpp"

#include <arpa/inet.h>
#include <catch2/catch.hpp>

namespace oracle::pkt {
namespace {

void put16(Bytes& b, uint16_t v) {
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}

void set16(Bytes& b, size_t off, uint16_t v) {
    b[off] = static_cast<uint8_t>(v >> 8);
    b[off + 1] = static_cast<uint8_t>(v);
}

template <typename C> void append(Bytes& b, const C& c) {
    b.insert(b.end(), c.begin(), c.end());
}

// The Internet checksum (RFC 1071) of bytes, starting from a partial sum.
uint16_t checksum(const Bytes& b, uint32_t sum = 0) {
    for (size_t i = 0; i + 1 < b.size(); i += 2)
        sum += (b[i] << 8) | b[i + 1];
    if (b.size() % 2) sum += b.back() << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

// The pseudo-header's sum for an L4 checksum (RFC 768, RFC 8200 section 8.1).
uint32_t pseudo_sum(const Ip& ip, uint8_t proto, size_t len) {
    Bytes p;
    if (ip.v6) {
        append(p, v6(ip.saddr));
        append(p, v6(ip.daddr));
    } else {
        append(p, v4(ip.saddr));
        append(p, v4(ip.daddr));
    }
    uint32_t sum = 0;
    for (size_t i = 0; i < p.size(); i += 2)
        sum += (p[i] << 8) | p[i + 1];
    return sum + proto + static_cast<uint32_t>(len);
}

void fill_checksum(const Ip& ip, uint8_t proto, Bytes& l4, size_t at) {
    set16(l4, at, checksum(l4, pseudo_sum(ip, proto, l4.size())));
}

} // namespace

std::array<uint8_t, 4> v4(const std::string& text) {
    std::array<uint8_t, 4> a{};
    INFO("IPv4 address " << text);
    REQUIRE(inet_pton(AF_INET, text.c_str(), a.data()) == 1);
    return a;
}

std::array<uint8_t, 16> v6(const std::string& text) {
    std::array<uint8_t, 16> a{};
    INFO("IPv6 address " << text);
    REQUIRE(inet_pton(AF_INET6, text.c_str(), a.data()) == 1);
    return a;
}

Bytes text(const std::string& s) {
    return Bytes(s.begin(), s.end());
}

Bytes tcp(const Ip& ip, uint16_t sport, uint16_t dport, uint8_t flags, const Bytes& payload) {
    Bytes b;
    put16(b, sport);
    put16(b, dport);
    append(b, Bytes{0, 0, 0x10, 0, 0, 0, 0, 0}); // seq 4096, ack 0
    b.push_back(5 << 4);                         // 20-byte header
    b.push_back(flags);
    put16(b, 64240); // window
    put16(b, 0);     // checksum
    put16(b, 0);     // urgent pointer
    append(b, payload);
    fill_checksum(ip, ip_tcp, b, 16);
    return b;
}

Bytes udp(const Ip& ip, uint16_t sport, uint16_t dport, const Bytes& payload, bool with_checksum) {
    Bytes b;
    put16(b, sport);
    put16(b, dport);
    put16(b, static_cast<uint16_t>(8 + payload.size()));
    put16(b, 0);
    append(b, payload);
    if (with_checksum) {
        fill_checksum(ip, ip_udp, b, 6);
        if (b[6] == 0 && b[7] == 0) b[6] = b[7] = 0xff; // 0 means "no checksum"
    }
    return b;
}

Bytes icmp(const Ip& ip, uint8_t type, uint8_t code, uint16_t id, uint16_t seq,
           const Bytes& payload) {
    Bytes b{type, code, 0, 0};
    put16(b, id);
    put16(b, seq);
    append(b, payload);
    if (ip.v6)
        fill_checksum(ip, ip_icmpv6, b, 2);
    else
        set16(b, 2, checksum(b));
    return b;
}

Bytes ip_packet(const Ip& ip, uint8_t proto, const Bytes& l4) {
    Bytes b;
    if (ip.v6) {
        b.push_back(static_cast<uint8_t>(0x60 | (ip.tos >> 4)));
        b.push_back(static_cast<uint8_t>(ip.tos << 4));
        put16(b, 0); // flow label
        put16(b, static_cast<uint16_t>(l4.size()));
        b.push_back(proto);
        b.push_back(ip.ttl);
        append(b, v6(ip.saddr));
        append(b, v6(ip.daddr));
    } else {
        b.push_back(0x45);
        b.push_back(ip.tos);
        put16(b, static_cast<uint16_t>(20 + l4.size()));
        put16(b, 0x1234); // id
        put16(b, 0x4000); // DF
        b.push_back(ip.ttl);
        b.push_back(proto);
        put16(b, 0);
        append(b, v4(ip.saddr));
        append(b, v4(ip.daddr));
        set16(b, 10, checksum(b));
    }
    append(b, l4);
    return b;
}

Bytes eth(uint16_t proto, const Bytes& payload, Mac dst, Mac src, uint16_t vlan) {
    Bytes b;
    append(b, dst);
    append(b, src);
    if (vlan) {
        put16(b, eth_vlan);
        put16(b, vlan);
    }
    put16(b, proto);
    append(b, payload);
    return b;
}

Bytes tcp_frame(const Ip& ip, uint16_t sport, uint16_t dport, uint8_t flags, const Bytes& payload) {
    return eth(ip.v6 ? eth_ipv6 : eth_ip,
               ip_packet(ip, ip_tcp, tcp(ip, sport, dport, flags, payload)));
}

Bytes udp_frame(const Ip& ip, uint16_t sport, uint16_t dport, const Bytes& payload) {
    return eth(ip.v6 ? eth_ipv6 : eth_ip, ip_packet(ip, ip_udp, udp(ip, sport, dport, payload)));
}

Bytes icmp_frame(const Ip& ip, uint8_t type, uint16_t id, uint16_t seq, const Bytes& payload) {
    return eth(ip.v6 ? eth_ipv6 : eth_ip,
               ip_packet(ip, ip.v6 ? ip_icmpv6 : ip_icmp, icmp(ip, type, 0, id, seq, payload)));
}

Bytes arp_frame() {
    Bytes b{0, 1, 0x08, 0, 6, 4, 0, 1}; // Ethernet, IPv4, request
    append(b, host_a);
    append(b, v4("10.0.0.1"));
    append(b, Mac{});
    append(b, v4("10.0.0.2"));
    return eth(eth_arp, b, Mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
}

Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes b;
    for (const auto& p : parts)
        append(b, p);
    return b;
}

Bytes addr4(const std::string& text) {
    const auto a = v4(text);
    return Bytes(a.begin(), a.end());
}

Bytes addr6(const std::string& text) {
    const auto a = v6(text);
    return Bytes(a.begin(), a.end());
}

Bytes port_be(uint16_t port) {
    return Bytes{static_cast<uint8_t>(port >> 8), static_cast<uint8_t>(port)};
}

Bytes cut(Bytes frame, size_t n) {
    if (frame.size() > n) frame.resize(n);
    return frame;
}

} // namespace oracle::pkt
