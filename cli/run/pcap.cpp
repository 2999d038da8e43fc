#include "cli/run/pcap.hpp"

#include <pcap/pcap.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace ebpf::cli::run {
namespace {

constexpr int snaplen = 262144; // libpcap's MAXIMUM_SNAPLEN
constexpr uint32_t eth_hlen = 14;

} // namespace

OrFailure<PcapReader> PcapReader::open(const std::string& path) {
    char err[PCAP_ERRBUF_SIZE] = "";
    // Reads pcap and pcapng alike.
    pcap_t* handle = pcap_open_offline(path.c_str(), err);
    if (!handle) return Failure{Exit::usage, "--pcap " + path + ": " + err};
    PcapReader reader(handle, path);
    if (const int link = pcap_datalink(handle); link != DLT_EN10MB) {
        const char* name = pcap_datalink_val_to_name(link);
        return Failure{Exit::usage, "--pcap " + path + ": link type " +
                                        (name ? name : std::to_string(link)) +
                                        ", expected Ethernet (EN10MB)"};
    }
    return reader;
}

PcapReader::PcapReader(PcapReader&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)), path_(std::move(other.path_)) {}

PcapReader::~PcapReader() {
    if (handle_) pcap_close(handle_);
}

OrFailure<std::optional<Packet>> PcapReader::next() {
    pcap_pkthdr* header = nullptr;
    const u_char* data = nullptr;
    switch (pcap_next_ex(handle_, &header, &data)) {
    case 1: {
        Packet p;
        p.bytes.assign(data, data + header->caplen);
        p.sec = header->ts.tv_sec;
        p.usec = header->ts.tv_usec;
        return std::optional<Packet>(std::move(p));
    }
    case PCAP_ERROR_BREAK: return std::optional<Packet>();
    default: return Failure{Exit::usage, "--pcap " + path_ + ": " + pcap_geterr(handle_)};
    }
}

OrFailure<PcapWriter> PcapWriter::open(const std::string& path) {
    pcap_t* dead = pcap_open_dead(DLT_EN10MB, snaplen);
    if (!dead) return Failure{Exit::usage, "--pcap-out " + path + ": libpcap failed"};
    pcap_dumper_t* dumper = pcap_dump_open(dead, path.c_str());
    if (!dumper) {
        Failure f{Exit::usage, "--pcap-out " + path + ": " + pcap_geterr(dead)};
        pcap_close(dead);
        return f;
    }
    return PcapWriter(dead, dumper);
}

PcapWriter::PcapWriter(PcapWriter&& other) noexcept
    : dead_(std::exchange(other.dead_, nullptr)), dumper_(std::exchange(other.dumper_, nullptr)) {}

PcapWriter::~PcapWriter() {
    if (dumper_) pcap_dump_close(dumper_);
    if (dead_) pcap_close(dead_);
}

void PcapWriter::write(const Packet& packet) {
    pcap_pkthdr header{};
    header.ts.tv_sec = packet.sec;
    header.ts.tv_usec = packet.usec;
    header.caplen = header.len = static_cast<bpf_u_int32>(packet.bytes.size());
    pcap_dump(reinterpret_cast<u_char*>(dumper_), &header, packet.bytes.data());
}

std::optional<size_t> passed_bytes(ProgType type, uint64_t r0, size_t packet_size) {
    // Programs return an int; the callers compare it as one.
    const auto verdict = static_cast<int32_t>(r0);
    switch (type) {
    case ProgType::xdp: // XDP_PASS, XDP_TX, XDP_REDIRECT
        if (verdict >= 2 && verdict <= 4) return packet_size;
        return std::nullopt;
    case ProgType::sched_cls:
    case ProgType::sched_act: // TC_ACT_SHOT, TC_ACT_STOLEN, TC_ACT_QUEUED, TC_ACT_TRAP
        if (verdict == 2 || verdict == 4 || verdict == 5 || verdict == 8) return std::nullopt;
        return packet_size;
    case ProgType::socket_filter: // r0 counts from the network header, where the program starts
        if (static_cast<uint32_t>(r0) == 0) return std::nullopt;
        return std::min<size_t>(packet_size, uint64_t{eth_hlen} + static_cast<uint32_t>(r0));
    case ProgType::cgroup_skb:
        if (r0 & 1) return packet_size;
        return std::nullopt;
    default: return std::nullopt;
    }
}

} // namespace ebpf::cli::run
