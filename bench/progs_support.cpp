#include "bench/progs_support.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <netinet/in.h>
#include <random>

extern "C" {

int bench_copy(NativeXdpMd*);
int bench_csum(NativeXdpMd*);
int bench_fivetuple(NativeXdpMd*);
int bench_fnv(NativeXdpMd*);
int bench_log2(NativeXdpMd*);
int bench_lpm(NativeXdpMd*);
int bench_murmur(NativeXdpMd*);
int bench_rewrite(NativeXdpMd*);
int bench_sieve(NativeXdpMd*);
int bench_strcmp(NativeXdpMd*);
int bench_switch(NativeXdpMd*);

extern NativeMap fivetuple_flows;
extern NativeMap lpm_routes;

// The native build's map lookups go to the same map code the VM's helper calls.
void* bench_map_lookup(void* map, const void* key) {
    return static_cast<ebpf::Map*>(map)->lookup(key, 0);
}

} // extern "C"

namespace bench {
namespace {

constexpr size_t payload_size = 1024;                                    // BENCH_PAYLOAD
constexpr uint32_t packet_saddr = 0x0a000001, packet_daddr = 0x0a000002; // 10.0.0.1 -> .2
constexpr uint16_t packet_sport = 12345, packet_dport = 53;

uint16_t fold(uint64_t sum) {
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

uint64_t sum16(const uint8_t* p, size_t len) {
    uint64_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        uint16_t w;
        std::memcpy(&w, p + i, 2);
        sum += w;
    }
    return sum;
}

// fivetuple.c's key and value.
struct FlowKey {
    uint32_t saddr, daddr;
    uint16_t sport, dport;
    uint8_t proto, pad[3];
};
struct FlowStats {
    uint64_t packets, bytes;
};

// 1,024 flows: the packet's and 1,023 others.
void fill_flows(const MapWriter& write) {
    std::mt19937 rng(7);
    const FlowStats zero{};
    for (int i = 0; i < 1024; ++i) {
        FlowKey key{};
        key.saddr = i == 0 ? htonl(packet_saddr) : rng();
        key.daddr = i == 0 ? htonl(packet_daddr) : rng();
        key.sport = i == 0 ? htons(packet_sport) : static_cast<uint16_t>(rng());
        key.dport = i == 0 ? htons(packet_dport) : static_cast<uint16_t>(rng());
        key.proto = i % 3 == 1 ? IPPROTO_TCP : IPPROTO_UDP;
        if (i == 0) key.proto = IPPROTO_UDP;
        write("fivetuple_flows", &key, &zero);
    }
}

// lpm.c's key.
struct LpmKey {
    uint32_t prefixlen;
    uint32_t addr;
};

// 1,024 routes from /8 to /32, among them 10.0.0.0/8 and 10.0.0.0/24 over the packet's
// destination; the next hop numbers start at 2 (XDP_PASS).
void fill_routes(const MapWriter& write) {
    std::mt19937 rng(11);
    for (uint32_t i = 0; i < 1024; ++i) {
        LpmKey key{static_cast<uint32_t>(8 + rng() % 25), static_cast<uint32_t>(rng())};
        if (i == 0) key = {8, htonl(packet_daddr)};
        if (i == 1) key = {24, htonl(packet_daddr)};
        key.addr &= htonl(key.prefixlen == 32 ? ~0u : ~(~0u >> key.prefixlen));
        const uint32_t next_hop = 2 + i % 64;
        write("lpm_routes", &key, &next_hop);
    }
}

std::vector<uint8_t> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

} // namespace

std::string object_path(const std::string& name) {
    return std::string(BENCH_PROGS_DIR) + "/" + name + ".o";
}

const std::vector<Case>& cases() {
    static const std::vector<Case> all = {
        {"sieve", &bench_sieve, nullptr, {}},
        {"copy", &bench_copy, nullptr, {}},
        {"strcmp", &bench_strcmp, nullptr, {}},
        {"switch", &bench_switch, nullptr, {}},
        {"log2", &bench_log2, nullptr, {}},
        {"fnv", &bench_fnv, nullptr, {}},
        {"murmur", &bench_murmur, nullptr, {}},
        {"csum", &bench_csum, nullptr, {}},
        {"fivetuple", &bench_fivetuple, &fill_flows, {{"fivetuple_flows", &fivetuple_flows}}},
        {"lpm", &bench_lpm, &fill_routes, {{"lpm_routes", &lpm_routes}}},
        {"rewrite", &bench_rewrite, nullptr, {}},
    };
    return all;
}

std::vector<uint8_t> bench_packet() {
    std::vector<uint8_t> p(sizeof(ethhdr) + sizeof(iphdr) + sizeof(udphdr) + payload_size);
    auto* eth = reinterpret_cast<ethhdr*>(p.data());
    const uint8_t dst[ETH_ALEN] = {2, 0, 0, 0, 0, 1}, src[ETH_ALEN] = {2, 0, 0, 0, 0, 2};
    std::memcpy(eth->h_dest, dst, ETH_ALEN);
    std::memcpy(eth->h_source, src, ETH_ALEN);
    eth->h_proto = htons(ETH_P_IP);
    auto* ip = reinterpret_cast<iphdr*>(eth + 1);
    ip->version = 4;
    ip->ihl = 5;
    ip->tot_len = htons(static_cast<uint16_t>(p.size() - sizeof(ethhdr)));
    ip->id = htons(1);
    ip->ttl = 64;
    ip->protocol = IPPROTO_UDP;
    ip->saddr = htonl(packet_saddr);
    ip->daddr = htonl(packet_daddr);
    ip->check = fold(sum16(reinterpret_cast<uint8_t*>(ip), sizeof *ip));
    auto* udp = reinterpret_cast<udphdr*>(ip + 1);
    udp->source = htons(packet_sport);
    udp->dest = htons(packet_dport);
    udp->len = htons(static_cast<uint16_t>(sizeof *udp + payload_size));

    // Payload: non-zero pseudo-random bytes, then for strcmp.c two equal strings (at 0 and at
    // the middle) up to a difference at their 400th byte.
    uint8_t* payload = reinterpret_cast<uint8_t*>(udp + 1);
    std::mt19937 rng(3);
    for (size_t i = 0; i < payload_size; ++i)
        payload[i] = static_cast<uint8_t>(1 + rng() % 255);
    for (size_t i = 0; i < 399; ++i)
        payload[i] = payload[payload_size / 2 + i] = static_cast<uint8_t>('a' + i % 26);
    payload[399] = 'x';
    payload[payload_size / 2 + 399] = 'y';

    const uint64_t pseudo =
        sum16(reinterpret_cast<uint8_t*>(&ip->saddr), 8) + htons(IPPROTO_UDP) + udp->len;
    udp->check = fold(pseudo + sum16(reinterpret_cast<uint8_t*>(udp), sizeof *udp + payload_size));
    if (udp->check == 0) udp->check = 0xffff;
    return p;
}

std::unique_ptr<VmProgram> VmProgram::load(const Case& c, std::string& error) {
    std::unique_ptr<VmProgram> vp(new VmProgram);
    const auto bytes = read_file(object_path(c.name));
    // The verifier may not know everything these use yet: fast-mode runs need no verdict.
    ebpf::ObjectOptions options;
    options.verify = false;
    auto object = ebpf::LoadedObject::open(bytes, c.name, vp->vm_, options);
    if (!object) {
        error = object.error().to_string();
        return nullptr;
    }
    vp->object_.emplace(std::move(*object));
    vp->program_ = vp->object_->program("bench_" + c.name);
    if (!vp->program_ || !vp->program_->program) {
        error = "no program bench_" + c.name;
        return nullptr;
    }
    if (c.fill_maps)
        c.fill_maps([&](const std::string& map, const void* key, const void* value) {
            vp->object_->map(map)->sys_update(key, value, BPF_ANY);
        });
    const auto packet = bench_packet();
    ebpf::TestRunInput input;
    input.data = packet;
    auto ctx = ebpf::make_test_run_context(ebpf::ProgType::xdp, input);
    if (!ctx) {
        error = ctx.error().to_string();
        return nullptr;
    }
    vp->ctx_ = std::move(*ctx);
    vp->state_ = std::make_unique<ebpf::RunState>();
    if (auto err = vp->ctx_->attach(*vp->state_)) {
        error = err->to_string();
        return nullptr;
    }
    vp->args_.r1 = reinterpret_cast<uint64_t>(vp->ctx_->ctx());

    auto jitted = ebpf::jit_compile(*vp->program_->program);
    if (!jitted) {
        error = jitted.error().to_string();
        return nullptr;
    }
    vp->jitted_.emplace(std::move(*jitted));

    vp->native_ = c.native;
    constexpr size_t page = 4096, headroom = 256; // XDP_PACKET_HEADROOM
    vp->native_page_.reset(static_cast<uint8_t*>(std::aligned_alloc(page, page)));
    std::memcpy(vp->native_page_.get() + headroom, packet.data(), packet.size());
    vp->native_ctx_.data = reinterpret_cast<uintptr_t>(vp->native_page_.get() + headroom);
    vp->native_ctx_.data_end = vp->native_ctx_.data + packet.size();
    return vp;
}

uint64_t VmProgram::run_interpreter() {
    auto r = ebpf::interpret(*program_->program, args_, *state_);
    return r ? r->r0 : UINT64_MAX;
}

uint64_t VmProgram::run_jit() {
    auto r = jitted_->run(args_, *state_);
    return r ? r->r0 : UINT64_MAX;
}

void VmProgram::bind_native_maps(const Case& c) {
    for (const auto& [name, native] : c.native_maps)
        native->map = object_->map(name).get();
}

std::vector<uint8_t> VmProgram::native_packet() const {
    const auto* data = reinterpret_cast<const uint8_t*>(native_ctx_.data);
    return {data, reinterpret_cast<const uint8_t*>(native_ctx_.data_end)};
}

int VmProgram::run_native() {
    return native_(&native_ctx_);
}

std::unique_ptr<KernelProgram> KernelProgram::load(const Case& c, std::string& error) {
    libbpf_set_print(nullptr);
    std::unique_ptr<KernelProgram> kp(new KernelProgram);
    kp->object_ = bpf_object__open_file(object_path(c.name).c_str(), nullptr);
    if (!kp->object_) {
        error = std::string("bpf_object__open_file: ") + std::strerror(errno);
        return nullptr;
    }
    if (int err = bpf_object__load(kp->object_)) {
        error = std::string("BPF_PROG_LOAD: ") + std::strerror(-err);
        return nullptr;
    }
    bpf_program* prog = bpf_object__find_program_by_name(kp->object_, ("bench_" + c.name).c_str());
    if (!prog) {
        error = "no program bench_" + c.name;
        return nullptr;
    }
    kp->fd_ = bpf_program__fd(prog);
    std::string map_error;
    if (c.fill_maps)
        c.fill_maps([&](const std::string& map, const void* key, const void* value) {
            const int fd = bpf_object__find_map_fd_by_name(kp->object_, map.c_str());
            if (fd < 0 || bpf_map_update_elem(fd, key, value, BPF_ANY) != 0)
                map_error = "map " + map + ": " + std::strerror(errno);
        });
    if (!map_error.empty()) {
        error = map_error;
        return nullptr;
    }
    return kp;
}

KernelProgram::~KernelProgram() {
    if (object_) bpf_object__close(object_);
}

std::optional<KernelProgram::Run> KernelProgram::run(uint32_t repeat, std::string& error) {
    static const std::vector<uint8_t> packet = bench_packet();
    Run run;
    run.packet.resize(packet.size());
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet.data(), .data_out = run.packet.data(),
                .data_size_in = static_cast<uint32_t>(packet.size()),
                .data_size_out = static_cast<uint32_t>(run.packet.size()),
                .repeat = static_cast<int>(repeat));
    if (bpf_prog_test_run_opts(fd_, &opts) != 0) {
        error = std::string("BPF_PROG_TEST_RUN: ") + std::strerror(errno);
        return std::nullopt;
    }
    run.retval = opts.retval;
    run.ns_per_run = opts.duration;
    run.packet.resize(opts.data_size_out);
    return run;
}

} // namespace bench
