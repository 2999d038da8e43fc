// bpf_redirect_map and the redirect maps against the running kernel: which helpers the verifier
// lets a program call with which map kinds (check_map_func_compatibility, the read-only devmap
// values, the xskmap's socket), and what bpf_redirect_map answers for keys that hold a target,
// keys that do not, and each flag. Needs root on Linux; without the bpf() syscall's permission
// the tests warn and skip.
#if defined(__linux__) && __has_include(<bpf/bpf.h>)

#include "tests/helpers/helper_test.hpp"

#include "verifier/verifier.hpp"
#include "vm/progtypes/test_run.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>
#include <unistd.h>

using namespace ebpf;
using namespace helper_test;

namespace {

// A map on each side with the same attributes and the same elements (4-byte keys).
struct MapPair {
    int fd = -1;
    std::shared_ptr<Map> ours;

    MapPair(MapType type, uint32_t value_size) {
        const uint32_t key_size = type == MapType::queue ? 0 : 4;
        fd = bpf_map_create(static_cast<bpf_map_type>(type), "redirect", key_size, value_size, 4,
                            nullptr);
        ours = make_map(type, key_size, value_size, 4,
                        static_cast<uint32_t>(libbpf_num_possible_cpus()));
    }
    ~MapPair() {
        if (fd >= 0) close(fd);
    }
    MapPair(const MapPair&) = delete;
    MapPair& operator=(const MapPair&) = delete;

    void set(uint32_t key, uint64_t value) {
        REQUIRE(fd >= 0);
        REQUIRE(bpf_map_update_elem(fd, &key, &value, ebpf::BPF_ANY) == 0);
        REQUIRE(ours->sys_update(&key, &value, ebpf::BPF_ANY) == 0);
    }
};

// map[idx:0] becomes the kernel map's fd.
std::vector<Insn> with_fd(std::vector<Insn> insns, int fd) {
    for (auto& insn : insns)
        if (insn.opcode == (BPF_LD | BPF_IMM | BPF_DW) && insn.src == BPF_PSEUDO_MAP_IDX) {
            insn.src = BPF_PSEUDO_MAP_FD;
            insn.imm = fd;
        }
    return insns;
}

// "accept", or the verifier's last message before its statistics.
std::string kernel_verdict(ProgType type, const std::vector<Insn>& insns, int& prog_fd) {
    static char log[1 << 16];
    log[0] = 0;
    LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_level = 1, .log_size = sizeof log, .log_buf = log);
    prog_fd = bpf_prog_load(static_cast<bpf_prog_type>(type), "redirect", "GPL",
                            reinterpret_cast<const bpf_insn*>(insns.data()), insns.size(), &opts);
    if (prog_fd >= 0) return "accept";
    std::string text(log);
    text = text.substr(0, text.find("processed "));
    while (!text.empty() && text.back() == '\n')
        text.pop_back();
    return text.substr(text.rfind('\n') + 1);
}

std::string vm_verdict(ProgType type, const std::vector<Insn>& insns, const Map* map) {
    VerifierOptions options;
    options.prog_type = type;
    options.maps = {map};
    const VerifierResult r = verify(insns, options);
    return r.accepted ? "accept" : r.error;
}

bool kernel_ready() {
    const int fd = bpf_map_create(BPF_MAP_TYPE_DEVMAP, "probe", 4, 4, 1, nullptr);
    if (fd < 0) {
        WARN("bpf(BPF_MAP_CREATE) failed: " << strerror(errno)
                                            << "; comparing with the kernel needs root "
                                               "(CAP_BPF, CAP_NET_ADMIN): skipped");
        return false;
    }
    close(fd);
    return true;
}

const std::string lookup_then = R"(
    *(u32 *)(r10 -4) = 0
    r1 = map[idx:0]
    r2 = r10
    r2 += -4
    call bpf_map_lookup_elem#1
    if r0 == 0 goto pc+1
)";

const std::string key_value_call = R"(
    *(u64 *)(r10 -8) = 0
    *(u64 *)(r10 -16) = 0
    r1 = map[idx:0]
    r2 = r10
    r2 += -8
    r3 = r10
    r3 += -16
    r4 = 0
)";

} // namespace

TEST_CASE("which helpers take which redirect maps, as the kernel's verifier says",
          "[helpers][kernel][redirect]") {
    if (!kernel_ready()) return;
    const std::pair<std::string, std::string> programs[] = {
        {"lookup, read u32", lookup_then + "r1 = *(u32 *)(r0 +0)\nr0 = 2\nexit\n"},
        {"lookup, read u32 at 4", lookup_then + "r1 = *(u32 *)(r0 +4)\nr0 = 2\nexit\n"},
        {"lookup, read u8", lookup_then + "r1 = *(u8 *)(r0 +0)\nr0 = 2\nexit\n"},
        {"lookup, write", lookup_then + "*(u32 *)(r0 +0) = 1\nr0 = 2\nexit\n"},
        {"update", key_value_call + "call bpf_map_update_elem#2\nexit\n"},
        {"delete", key_value_call + "call bpf_map_delete_elem#3\nexit\n"},
        {"push", key_value_call + "r2 = r3\nr3 = 0\ncall bpf_map_push_elem#87\nexit\n"},
        {"redirect_map", "r1 = map[idx:0]\nr2 = 0\nr3 = 0\ncall bpf_redirect_map#51\nexit\n"},
    };
    struct Kind {
        MapType type;
        uint32_t value_size;
    };
    const Kind kinds[] = {{MapType::devmap, 8}, {MapType::devmap_hash, 4}, {MapType::cpumap, 8},
                          {MapType::xskmap, 4}, {MapType::array, 8},       {MapType::hash, 8},
                          {MapType::queue, 8},  {MapType::prog_array, 4}};
    std::string report;
    size_t compared = 0;
    for (const Kind& k : kinds) {
        for (const auto& [what, text] : programs) {
            auto insns = assemble(text);
            REQUIRE(insns);
            for (ProgType type : {ProgType::xdp, ProgType::sched_cls}) {
                MapPair maps(k.type, k.value_size); // fresh: a devmap keeps its first user's type
                int prog_fd = -1;
                const std::string theirs = kernel_verdict(type, with_fd(*insns, maps.fd), prog_fd);
                if (prog_fd >= 0) close(prog_fd);
                const std::string ours = vm_verdict(type, *insns, maps.ours.get());
                ++compared;
                if (theirs != ours)
                    report += std::string(map_type_name(k.type)) + " " + what +
                              (type == ProgType::xdp ? " (xdp)" : " (tc)") + ": kernel \"" +
                              theirs + "\", VM \"" + ours + "\"\n";
            }
        }
    }
    INFO(report);
    CHECK(report.empty());
    SUCCEED("compared " << compared << " verdicts with the kernel's");
}

TEST_CASE("bpf_redirect_map answers as the kernel's for each map kind, key and flag",
          "[helpers][kernel][redirect]") {
    if (!kernel_ready()) return;
    constexpr uint64_t XDP_PASS = 2, XDP_TX = 3, BPF_F_BROADCAST = 1 << 3,
                       BPF_F_EXCLUDE_INGRESS = 1 << 4;
    struct Kind {
        MapType type;
        uint32_t value_size;
        uint64_t value; // what key 1 holds: lo, a queue of 64, nothing (xskmap)
    };
    const Kind kinds[] = {{MapType::devmap, 8, 1},
                          {MapType::devmap_hash, 4, 1},
                          {MapType::cpumap, 4, 64},
                          {MapType::xskmap, 4, 0}};
    const uint64_t keys[] = {1, 2, 7, (uint64_t{1} << 32) | 1};
    const uint64_t flags[] = {0,
                              XDP_PASS,
                              XDP_TX,
                              4,
                              BPF_F_BROADCAST,
                              BPF_F_BROADCAST | XDP_PASS,
                              BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS,
                              BPF_F_EXCLUDE_INGRESS | XDP_PASS,
                              1 << 5};
    std::vector<uint8_t> frame(64, 0);
    frame[12] = 0x08;
    std::string report;
    size_t compared = 0;
    for (const Kind& k : kinds) {
        MapPair maps(k.type, k.value_size);
        if (k.value) maps.set(1, k.value);
        for (uint64_t key : keys) {
            for (uint64_t f : flags) {
                const std::string text = "r1 = map[idx:0]\nr2 = " + std::to_string(key) +
                                         " ll\nr3 = " + std::to_string(f) +
                                         "\ncall bpf_redirect_map#51\nexit\n";
                auto insns = assemble(text);
                REQUIRE(insns);
                int prog_fd = -1;
                const std::string verdict =
                    kernel_verdict(ProgType::xdp, with_fd(*insns, maps.fd), prog_fd);
                INFO(verdict);
                REQUIRE(prog_fd >= 0);
                LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(),
                            .data_size_in = static_cast<uint32_t>(frame.size()));
                REQUIRE(bpf_prog_test_run_opts(prog_fd, &opts) == 0);
                close(prog_fd);
                Program prog = load(text, {maps.ours.get()});
                for (Mode mode : both_modes) {
                    TestRunInput input;
                    input.data = frame;
                    auto ctx = make_test_run_context(ProgType::xdp, input);
                    REQUIRE(ctx);
                    RunState state;
                    REQUIRE_FALSE((*ctx)->attach(state));
                    auto r0 = run(prog, state, mode, reinterpret_cast<uint64_t>((*ctx)->ctx()));
                    REQUIRE(r0);
                    ++compared;
                    if (*r0 != opts.retval) {
                        report += std::string(map_type_name(k.type)) + " key " +
                                  std::to_string(key) + " flags " + std::to_string(f) + " (" +
                                  mode_name(mode) + "): kernel " + std::to_string(opts.retval) +
                                  ", VM " + std::to_string(*r0) + "\n";
                    } else if (*r0 == 4) {
                        // The target the host finds: the map and key, broadcast flags kept.
                        CHECK(state.redirect.map == maps.ours.get());
                        CHECK(state.redirect.ifindex == static_cast<uint32_t>(key));
                        CHECK(state.redirect.flags == (f & BPF_F_BROADCAST ? f : 0));
                    }
                }
            }
        }
    }
    INFO(report);
    CHECK(report.empty());
    SUCCEED("compared " << compared << " bpf_redirect_map runs with the kernel's test runs");
}

#endif
