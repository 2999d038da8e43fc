// What the ebpf-run tests share: the binary and its inputs, scratch files, packets, and captures
// written with libpcap (pcap) or by hand (pcapng, which libpcap reads but cannot write).
#pragma once

#include "tests/cli/process.hpp"

#include <nlohmann/json.hpp>
#include <pcap/pcap.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace ebpf::test {

inline const std::string run_bin = EBPF_RUN;
inline const std::string examples_dir = EBPF_EXAMPLES_DIR;
inline const std::string progs_dir = EBPF_CLI_PROGS_DIR;

inline std::string example(const std::string& name) {
    return examples_dir + "/" + name;
}
inline std::string prog(const std::string& name) {
    return progs_dir + "/" + name;
}

// ebpf-run with these arguments.
inline Outcome ebpf_run(const std::string& args) {
    return run_command(run_bin + " " + args);
}

// The scratch directory of this test process (ctest runs test cases in parallel processes),
// removed when the process ends.
struct ScratchDir {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("ebpf_run_test_" + std::to_string(::getpid()));
    ScratchDir() { std::filesystem::create_directories(path); }
    ~ScratchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

// A scratch file holding bytes.
inline std::string scratch(const std::string& name, const std::string& bytes = "") {
    static const ScratchDir dir;
    const auto path = dir.path / name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path.string();
}

inline std::string as_string(const std::vector<uint8_t>& bytes) {
    return {bytes.begin(), bytes.end()};
}

inline std::string to_hex(const std::string& bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

// One line on stderr, "ebpf-run: ...", and nothing that looks like a crash report.
inline bool one_line_error(const Outcome& o) {
    return o.err.rfind("ebpf-run: ", 0) == 0 && std::count(o.err.begin(), o.err.end(), '\n') == 1;
}

// Ethernet + IPv4 + UDP from src to 10.0.0.2:53, payload bytes 1..8; checksums left zero.
inline std::vector<uint8_t> udp_packet(uint8_t src_last = 1, uint8_t src_net = 10) {
    std::vector<uint8_t> p = {0x02,    0,    0, 0,        0,  2,  0x02, 0, 0,  0,  0, 1,
                              0x08,    0x00,                                             // ethernet
                              0x45,    0,    0, 36,       0,  0,  0,    0, 64, 17, 0, 0, // ipv4
                              src_net, 0,    0, src_last, 10, 0,  0,    2,               //
                              0x30,    0x39, 0, 53,       0,  16, 0,    0,               // udp
                              1,       2,    3, 4,        5,  6,  7,    8};
    return p;
}

inline std::vector<uint8_t> arp_packet() {
    std::vector<uint8_t> p = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x06};
    p.resize(42, 0);
    return p;
}

// A pcap file of Ethernet frames, written with libpcap.
inline void write_pcap(const std::string& path, const std::vector<std::vector<uint8_t>>& packets,
                       int linktype = DLT_EN10MB) {
    pcap_t* dead = pcap_open_dead(linktype, 65535);
    pcap_dumper_t* out = pcap_dump_open(dead, path.c_str());
    for (size_t i = 0; i < packets.size(); ++i) {
        pcap_pkthdr h{};
        h.ts.tv_sec = 1000 + static_cast<long>(i);
        h.caplen = h.len = static_cast<bpf_u_int32>(packets[i].size());
        pcap_dump(reinterpret_cast<u_char*>(out), &h, packets[i].data());
    }
    pcap_dump_close(out);
    pcap_close(dead);
}

// A pcapng file: section header, one Ethernet interface, an enhanced packet block per packet.
inline void write_pcapng(const std::string& path,
                         const std::vector<std::vector<uint8_t>>& packets) {
    std::string out;
    const auto u32 = [&](uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); };
    const auto u16 = [&](uint16_t v) { out.append(reinterpret_cast<const char*>(&v), 2); };
    u32(0x0a0d0d0a), u32(28), u32(0x1a2b3c4d), u16(1), u16(0), u32(0xffffffff), u32(0xffffffff);
    u32(28);
    u32(1), u32(20), u16(1), u16(0), u32(65535), u32(20);
    for (const auto& p : packets) {
        const auto padded = static_cast<uint32_t>((p.size() + 3) & ~size_t{3});
        u32(6), u32(32 + padded), u32(0), u32(0), u32(1000);
        u32(static_cast<uint32_t>(p.size())), u32(static_cast<uint32_t>(p.size()));
        out.append(p.begin(), p.end());
        out.append(padded - p.size(), '\0');
        u32(32 + padded);
    }
    std::ofstream(path, std::ios::binary) << out;
}

// The packets of a capture, read back with libpcap.
inline std::vector<std::vector<uint8_t>> read_pcap(const std::string& path) {
    char err[PCAP_ERRBUF_SIZE];
    pcap_t* in = pcap_open_offline(path.c_str(), err);
    std::vector<std::vector<uint8_t>> packets;
    if (!in) return packets;
    pcap_pkthdr* h;
    const u_char* data;
    while (pcap_next_ex(in, &h, &data) == 1)
        packets.emplace_back(data, data + h->caplen);
    pcap_close(in);
    return packets;
}

} // namespace ebpf::test
