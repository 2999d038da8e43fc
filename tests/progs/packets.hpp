// Frames for the oracle's inputs: Ethernet (optionally VLAN-tagged) carrying IPv4 or IPv6 with
// TCP, UDP or ICMP, with correct lengths and checksums, so that programs see what a NIC would
// hand them; edge cases are made by cutting or editing these.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace oracle {

using Bytes = std::vector<uint8_t>;

namespace pkt {

using Mac = std::array<uint8_t, 6>;
inline constexpr Mac host_a{0x02, 0, 0, 0, 0, 0x0a};
inline constexpr Mac host_b{0x02, 0, 0, 0, 0, 0x0b};

inline constexpr uint16_t eth_ip = 0x0800, eth_arp = 0x0806, eth_ipv6 = 0x86dd, eth_vlan = 0x8100;
inline constexpr uint8_t ip_icmp = 1, ip_ipip = 4, ip_tcp = 6, ip_udp = 17, ip_icmpv6 = 58;
inline constexpr uint8_t tcp_fin = 0x01, tcp_syn = 0x02, tcp_rst = 0x04, tcp_psh = 0x08,
                         tcp_ack = 0x10;

// An IPv4 or IPv6 address from its text form; the test fails on a typo.
std::array<uint8_t, 4> v4(const std::string& text);
std::array<uint8_t, 16> v6(const std::string& text);

// The bytes of a string, without its NUL.
Bytes text(const std::string& s);

// L4 segments: checksums need the IP addresses of the packet they go in, so these take them.
struct Ip {
    bool v6 = false;
    std::string saddr, daddr;
    uint8_t ttl = 64;
    uint8_t tos = 0;
};

Bytes tcp(const Ip& ip, uint16_t sport, uint16_t dport, uint8_t flags, const Bytes& payload = {});
Bytes udp(const Ip& ip, uint16_t sport, uint16_t dport, const Bytes& payload = {},
          bool checksum = true);
// ICMP (over IPv4) or ICMPv6 (over IPv6) echo request/reply and the like.
Bytes icmp(const Ip& ip, uint8_t type, uint8_t code, uint16_t id, uint16_t seq,
           const Bytes& payload = {});

// An IP packet around an L4 segment (proto is the IPv4 protocol or IPv6 next header).
Bytes ip_packet(const Ip& ip, uint8_t proto, const Bytes& l4);

// An Ethernet frame; vlan != 0 inserts an 802.1Q tag with that VLAN id.
Bytes eth(uint16_t proto, const Bytes& payload, Mac dst = host_b, Mac src = host_a,
          uint16_t vlan = 0);

// Common whole frames.
Bytes tcp_frame(const Ip& ip, uint16_t sport, uint16_t dport, uint8_t flags,
                const Bytes& payload = {});
Bytes udp_frame(const Ip& ip, uint16_t sport, uint16_t dport, const Bytes& payload = {});
Bytes icmp_frame(const Ip& ip, uint8_t type, uint16_t id, uint16_t seq, const Bytes& payload = {});
// An ARP request from 10.0.0.1 for 10.0.0.2.
Bytes arp_frame();

// The first n bytes of a frame: a truncated capture.
Bytes cut(Bytes frame, size_t n);

// A value's bytes, as the host stores it (map keys and values, context structs).
template <typename T> Bytes bytes_of(const T& value) {
    const auto* p = reinterpret_cast<const uint8_t*>(&value);
    return Bytes(p, p + sizeof(T));
}

// Byte strings one after the other.
Bytes cat(std::initializer_list<Bytes> parts);

// An IPv4 address's 4 bytes (network order), or an IPv6 address's 16, as a byte string.
Bytes addr4(const std::string& text);
Bytes addr6(const std::string& text);
// A port in network order.
Bytes port_be(uint16_t port);

} // namespace pkt
} // namespace oracle
