// Packet captures through libpcap: --pcap reads pcap and pcapng files of Ethernet frames,
// --pcap-out writes the packets a program passed as a pcap file.
#pragma once

#include "cli/run/failure.hpp"
#include "vm/progtypes/prog_type.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

typedef struct pcap pcap_t;
typedef struct pcap_dumper pcap_dumper_t;

namespace ebpf::cli::run {

struct Packet {
    std::vector<uint8_t> bytes; // as captured (a snap length may have cut it)
    int64_t sec = 0, usec = 0;  // its timestamp
};

class PcapReader {
  public:
    // Opens a capture; anything but Ethernet frames is refused.
    static OrFailure<PcapReader> open(const std::string& path);
    PcapReader(PcapReader&& other) noexcept;
    PcapReader& operator=(PcapReader&&) = delete;
    ~PcapReader();

    // The next packet, none at the end; a damaged file is a failure.
    OrFailure<std::optional<Packet>> next();

  private:
    PcapReader(pcap_t* handle, std::string path) : handle_(handle), path_(std::move(path)) {}
    pcap_t* handle_;
    std::string path_;
};

class PcapWriter {
  public:
    static OrFailure<PcapWriter> open(const std::string& path);
    PcapWriter(PcapWriter&& other) noexcept;
    PcapWriter& operator=(PcapWriter&&) = delete;
    ~PcapWriter();

    void write(const Packet& packet);

  private:
    PcapWriter(pcap_t* dead, pcap_dumper_t* dumper) : dead_(dead), dumper_(dumper) {}
    pcap_t* dead_;
    pcap_dumper_t* dumper_;
};

// How many bytes of a packet go on after the program returned r0, none when it dropped it:
// XDP_PASS, XDP_TX and XDP_REDIRECT pass; tc passes all but TC_ACT_SHOT, TC_ACT_STOLEN,
// TC_ACT_QUEUED and TC_ACT_TRAP; a socket filter keeps r0 bytes past the Ethernet header, where
// its view of the packet starts (0 drops); cgroup_skb passes when bit 0 is set.
std::optional<size_t> passed_bytes(ProgType type, uint64_t r0, size_t packet_size);

} // namespace ebpf::cli::run
