// Writes the examples' sample packets, checksums and all, at build time:
//   http_syn.bin      TCP SYN 10.1.1.1:40000 -> 10.0.0.2:80 (the tc rewriter's service)
//   udp_service.bin   UDP 10.1.1.1:5000 -> 10.0.0.2:80
//   dns_blocked.bin   UDP 192.168.2.7:5353 -> 10.0.0.2:53 (a prefix the firewall blocks)
//   traffic.pcap      those, and more: another blocked source, ARP, IPv6, a runt frame
// Usage: make_packets OUTPUT_DIR
#include <pcap/pcap.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace {

using Bytes = std::vector<uint8_t>;

void put16(Bytes& b, uint16_t v) {
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}
void put32(Bytes& b, uint32_t v) {
    put16(b, static_cast<uint16_t>(v >> 16));
    put16(b, static_cast<uint16_t>(v));
}

// The Internet checksum (RFC 1071) of data, starting from sum.
uint16_t checksum(const uint8_t* data, size_t size, uint32_t sum = 0) {
    for (size_t i = 0; i + 1 < size; i += 2)
        sum += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
    if (size & 1) sum += static_cast<uint32_t>(data[size - 1] << 8);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

uint32_t ip(int a, int b, int c, int d) {
    return static_cast<uint32_t>(a << 24 | b << 16 | c << 8 | d);
}

Bytes ethernet(uint16_t type) {
    Bytes b = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01};
    put16(b, type);
    return b;
}

// Ethernet + IPv4 + a TCP or UDP segment, checksums filled in.
Bytes ipv4(uint8_t protocol, uint32_t src, uint32_t dst, const Bytes& l4_in) {
    Bytes l4 = l4_in;
    Bytes pseudo;
    put32(pseudo, src);
    put32(pseudo, dst);
    put16(pseudo, protocol);
    put16(pseudo, static_cast<uint16_t>(l4.size()));
    uint32_t sum = 0;
    for (size_t i = 0; i < pseudo.size(); i += 2)
        sum += static_cast<uint32_t>(pseudo[i] << 8 | pseudo[i + 1]);
    const size_t csum_at = protocol == 6 ? 16 : 6;
    const uint16_t l4sum = checksum(l4.data(), l4.size(), sum);
    l4[csum_at] = static_cast<uint8_t>(l4sum >> 8);
    l4[csum_at + 1] = static_cast<uint8_t>(l4sum);

    Bytes iph;
    put16(iph, 0x4500);
    put16(iph, static_cast<uint16_t>(20 + l4.size()));
    put32(iph, 0x12344000); // id 0x1234, don't fragment
    put16(iph, static_cast<uint16_t>(64 << 8 | protocol));
    put16(iph, 0);
    put32(iph, src);
    put32(iph, dst);
    const uint16_t ipsum = checksum(iph.data(), iph.size());
    iph[10] = static_cast<uint8_t>(ipsum >> 8);
    iph[11] = static_cast<uint8_t>(ipsum);

    Bytes frame = ethernet(0x0800);
    frame.insert(frame.end(), iph.begin(), iph.end());
    frame.insert(frame.end(), l4.begin(), l4.end());
    return frame;
}

Bytes tcp_syn(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport) {
    Bytes t;
    put16(t, sport);
    put16(t, dport);
    put32(t, 0x01020304); // sequence number
    put32(t, 0);
    put16(t, 0x5002); // 20-byte header, SYN
    put16(t, 64240);  // window
    put32(t, 0);      // checksum, urgent pointer
    return ipv4(6, src, dst, t);
}

Bytes udp(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, const std::string& text) {
    Bytes u;
    put16(u, sport);
    put16(u, dport);
    put16(u, static_cast<uint16_t>(8 + text.size()));
    put16(u, 0);
    u.insert(u.end(), text.begin(), text.end());
    return ipv4(17, src, dst, u);
}

Bytes arp_request() {
    Bytes b = ethernet(0x0806);
    for (uint8_t v :
         {0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 1, 1, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2})
        b.push_back(v);
    return b;
}

Bytes ipv6_udp() {
    Bytes b = ethernet(0x86dd);
    put32(b, 0x60000000);
    put16(b, 12);                 // payload length
    put16(b, 17 << 8 | 64);       // next header UDP, hop limit 64
    for (int i = 0; i < 2; ++i) { // fd00::1 -> fd00::2
        put32(b, 0xfd000000);
        put32(b, 0);
        put32(b, 0);
        put32(b, static_cast<uint32_t>(i + 1));
    }
    put16(b, 5000);
    put16(b, 80);
    put16(b, 12);
    put16(b, 0);
    for (uint8_t c : {'p', 'i', 'n', 'g'})
        b.push_back(c);
    return b;
}

bool write_file(const std::string& path, const Bytes& bytes) {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return false;
    const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    return std::fclose(f) == 0 && ok;
}

bool write_pcap(const std::string& path, const std::vector<Bytes>& packets) {
    pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
    pcap_dumper_t* out = dead ? pcap_dump_open(dead, path.c_str()) : nullptr;
    if (!out) return false;
    for (size_t i = 0; i < packets.size(); ++i) {
        pcap_pkthdr h{};
        h.ts.tv_sec = 1700000000;
        h.ts.tv_usec = static_cast<suseconds_t>(i * 1000);
        h.caplen = h.len = static_cast<bpf_u_int32>(packets[i].size());
        pcap_dump(reinterpret_cast<u_char*>(out), &h, packets[i].data());
    }
    pcap_dump_close(out);
    pcap_close(dead);
    return true;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_packets OUTPUT_DIR\n");
        return 2;
    }
    const std::string dir = argv[1];
    const Bytes http = tcp_syn(ip(10, 1, 1, 1), 40000, ip(10, 0, 0, 2), 80);
    const Bytes service = udp(ip(10, 1, 1, 1), 5000, ip(10, 0, 0, 2), 80, "hello");
    const Bytes dns = udp(ip(192, 168, 2, 7), 5353, ip(10, 0, 0, 2), 53, "query");
    const std::vector<Bytes> traffic = {
        http,
        dns,
        service,
        udp(ip(172, 16, 5, 5), 123, ip(10, 0, 0, 2), 123, "ntp"),
        arp_request(),
        ipv6_udp(),
        tcp_syn(ip(10, 1, 1, 9), 40001, ip(10, 0, 0, 3), 22),
        Bytes{0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0}, // a runt: shorter than an Ethernet header
    };
    const bool ok =
        write_file(dir + "/http_syn.bin", http) && write_file(dir + "/udp_service.bin", service) &&
        write_file(dir + "/dns_blocked.bin", dns) && write_pcap(dir + "/traffic.pcap", traffic);
    if (!ok) {
        std::fprintf(stderr, "make_packets: cannot write to %s\n", dir.c_str());
        return 1;
    }
    return 0;
}
