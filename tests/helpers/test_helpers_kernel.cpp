// The helpers against the running kernel: the same program test-run with BPF_PROG_TEST_RUN and
// in this VM (fast and checked) on the same packet, comparing R0 and data_out. Needs root on
// Linux; without the bpf() syscall's permission the tests warn and skip.
#if defined(__linux__) && __has_include(<bpf/bpf.h>)

#include "tests/helpers/helper_test.hpp"
#include "tests/kernel/helper_probe.hpp"

#include "verifier/verifier.hpp"
#include "vm/loaded_object.hpp"
#include "vm/progtypes/prog_type_info.hpp"
#include "vm/progtypes/test_run.hpp"

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unistd.h>

using namespace ebpf;
using namespace helper_test;

namespace {

bool kernel_ready() {
    static const int verdict = [] {
        const Insn prog[] = {make_insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),
                             make_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)};
        int fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "probe", "GPL",
                               reinterpret_cast<const bpf_insn*>(prog), 2, nullptr);
        if (fd < 0) return errno;
        close(fd);
        return 0;
    }();
    if (verdict) {
        WARN("bpf(BPF_PROG_LOAD) failed: " << strerror(verdict)
                                           << "; comparing helpers with the kernel needs root "
                                              "(CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN): skipped");
    }
    return verdict == 0;
}

// An Ethernet + IPv4 + UDP frame with a correct IP header checksum.
std::vector<uint8_t> udp_frame() {
    return {0,    0,    0,    0,    0,    0,    2,    0,    0,    0,    0,    1,    0x08,
            0x00, 0x45, 0x00, 0x00, 0x24, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0x14, 0x7e,
            10,   0,    0,    1,    10,   0,    0,    2,    0x04, 0xd2, 0x00, 0x35, 0x00,
            0x10, 0x12, 0x34, 1,    2,    3,    4,    5,    6,    7,    8};
}

struct Outcome {
    std::string error; // the run's failure, if any
    uint32_t r0 = 0;
    std::vector<uint8_t> data_out;

    bool operator==(const Outcome& o) const {
        return error == o.error && r0 == o.r0 && data_out == o.data_out;
    }
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
    if (!o.error.empty()) return os << "error: " << o.error;
    os << "r0=" << o.r0 << " (" << static_cast<int32_t>(o.r0) << ") data_out[" << o.data_out.size()
       << "]:";
    for (uint8_t b : o.data_out)
        os << ' ' << std::hex << static_cast<int>(b) << std::dec;
    return os;
}

// The kernel's map for map[idx:0], if the program names one: lddw rewritten to its fd.
Outcome in_kernel(ProgType type, std::vector<Insn> insns, const std::vector<uint8_t>& data,
                  int map_fd) {
    for (auto& insn : insns) {
        if (insn.opcode == (BPF_LD | BPF_IMM | BPF_DW) && insn.src == BPF_PSEUDO_MAP_IDX) {
            insn.src = BPF_PSEUDO_MAP_FD;
            insn.imm = map_fd;
        }
    }
    static char log[1 << 16];
    log[0] = 0;
    LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_level = 1, .log_size = sizeof log, .log_buf = log);
    const int fd =
        bpf_prog_load(static_cast<bpf_prog_type>(type), "helpers", "GPL",
                      reinterpret_cast<const bpf_insn*>(insns.data()), insns.size(), &opts);
    if (fd < 0) return {std::string("kernel refuses the program: ") + log, 0, {}};
    Outcome out;
    out.data_out.assign(20000, 0);
    LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = data.data(), .data_out = out.data_out.data(),
                .data_size_in = static_cast<uint32_t>(data.size()),
                .data_size_out = static_cast<uint32_t>(out.data_out.size()));
    if (bpf_prog_test_run_opts(fd, &run) != 0) {
        out.error = std::string("kernel test run fails: ") + strerror(errno);
    } else {
        out.r0 = run.retval;
        out.data_out.resize(run.data_size_out);
    }
    close(fd);
    return out;
}

// A program without maps is verified (and its context accesses rewritten) as a loaded object's.
Outcome in_vm_verified(ProgType type, const std::vector<Insn>& insns,
                       const std::vector<uint8_t>& data, Mode mode) {
    ObjectOptions options;
    options.type = type;
    auto obj = LoadedObject::from_insns(insns, "helpers", vm(), options);
    if (!obj) return {obj.error().to_string(), 0, {}};
    const LoadedProgram& prog = obj->programs().front();
    if (!prog.program) return {"verifier: " + prog.verdict.error, 0, {}};
    TestRunInput input;
    input.data = data;
    auto ctx = make_test_run_context(type, input);
    if (!ctx) return {ctx.error().to_string(), 0, {}};
    RunOptions run;
    run.mode = mode;
    auto r = obj->run(prog, **ctx, run);
    if (!r) return {r.error().to_string(), 0, {}};
    return {"", static_cast<uint32_t>(r->r0), (*ctx)->data_out()};
}

Outcome in_vm(ProgType type, const std::vector<Insn>& insns, const std::vector<uint8_t>& data,
              Map* map, Mode mode) {
    if (!map) return in_vm_verified(type, insns, data, mode);
    static std::vector<Map*> maps;
    maps.assign(1, map);
    auto prog = Program::load(insns, vm().helpers(),
                              map ? std::span<Map* const>(maps) : std::span<Map* const>{});
    if (!prog) return {prog.error().to_string(), 0, {}};
    TestRunInput input;
    input.data = data;
    auto ctx = make_test_run_context(type, input);
    if (!ctx) return {ctx.error().to_string(), 0, {}};
    RunState state;
    if (auto err = (*ctx)->attach(state)) return {err->to_string(), 0, {}};
    RunArgs args;
    args.r1 = reinterpret_cast<uint64_t>((*ctx)->ctx());
    args.mode = mode;
    auto r = vm().run(*prog, args, state);
    if (!r) return {r.error().to_string(), 0, {}};
    return {"", static_cast<uint32_t>(r->r0), (*ctx)->data_out()};
}

struct Case {
    std::string what;
    ProgType type;
    std::string text;
    std::optional<MapType> map = std::nullopt; // map[idx:0]: 4-byte keys, 8-byte values, 4 entries
};

// Runs each case in the kernel and in both modes here; the differences, one a line.
std::string compare(const std::vector<Case>& cases, size_t& compared) {
    std::string report;
    const auto frame = udp_frame();
    for (const Case& c : cases) {
        auto insns = assemble(c.text);
        if (!insns) {
            report += c.what + ": " + insns.error().to_string() + "\n";
            continue;
        }
        int map_fd = -1;
        std::shared_ptr<Map> map;
        if (c.map) {
            const uint32_t key_size = *c.map == MapType::queue ? 0 : 4;
            map_fd = bpf_map_create(static_cast<bpf_map_type>(*c.map), "helpers", key_size, 8, 4,
                                    nullptr);
            map = make_map(*c.map, key_size, 8, 4);
        }
        const Outcome kernel = in_kernel(c.type, *insns, frame, map_fd);
        if (map_fd >= 0) close(map_fd);
        for (Mode mode : both_modes) {
            if (c.map) map = make_map(*c.map, *c.map == MapType::queue ? 0 : 4, 8, 4);
            const Outcome ours = in_vm(c.type, *insns, frame, map.get(), mode);
            ++compared;
            if (!(ours == kernel)) {
                std::ostringstream os;
                os << c.what << " (" << mode_name(mode) << "): kernel " << kernel << "; VM " << ours
                   << "\n";
                report += os.str();
            }
        }
    }
    return report;
}

// R0 = helper(args) for a csum_diff over stack words.
std::string csum_prog(int from_size, int to_size, int64_t seed) {
    return "*(u64 *)(r10 -8) = 0x11223344\n*(u64 *)(r10 -16) = -0x55667789\n"
           "*(u64 *)(r10 -24) = 0x0a000001\n*(u64 *)(r10 -32) = 0x7f000001\n"
           "r1 = r10\nr1 += -16\nr2 = " +
           std::to_string(from_size) + "\nr3 = r10\nr3 += -32\nr4 = " + std::to_string(to_size) +
           "\nr5 = " + std::to_string(seed) + "\ncall bpf_csum_diff#28\nexit\n";
}

// A store or csum call on the packet: R0 is its result.
std::string skb_call(const std::string& setup, const std::string& call) {
    return "r6 = r1\n*(u64 *)(r10 -8) = 0x0101a8c0\n" + setup + "r1 = r6\n" + call + "\nexit\n";
}

// R0 from a socket lookup over a zeroed tuple of len bytes: 1 if it found a socket (released),
// else 0.
std::string sock_lookup_prog(int id, int len, int64_t netns, int flags) {
    return "*(u64 *)(r10 -40) = 0\n*(u64 *)(r10 -32) = 0\n*(u64 *)(r10 -24) = 0\n"
           "*(u64 *)(r10 -16) = 0\n*(u64 *)(r10 -8) = 0\nr2 = r10\nr2 += -40\nr3 = " +
           std::to_string(len) + "\nr4 = " + std::to_string(netns) +
           "\nr5 = " + std::to_string(flags) + "\ncall helper#" + std::to_string(id) +
           "\nif r0 != 0 goto pc+1\nexit\nr1 = r0\ncall bpf_sk_release#86\nr0 = 1\nexit\n";
}

// A field of what call(skb->sk) returns (99: no skb->sk, 98: the call gave null).
std::string sk_field_prog(const std::string& call, const std::string& load) {
    return "r1 = *(u64 *)(r1 +168)\nif r1 != 0 goto pc+2\nr0 = 99\nexit\n" + call +
           "\nif r0 != 0 goto pc+2\nr0 = 98\nexit\n" + load + "\nexit\n";
}

// bpf_fib_lookup over 64 zeroed bytes with family and ifindex set, and the first IPv6 byte.
std::string fib_prog(int family, int ifindex, int v6_dst0, int plen, int flags) {
    std::string p;
    for (int off = -64; off < 0; off += 8)
        p += "*(u64 *)(r10 " + std::to_string(off) + ") = 0\n";
    return p + "*(u8 *)(r10 -64) = " + std::to_string(family) +
           "\n*(u32 *)(r10 -56) = " + std::to_string(ifindex) +
           "\n*(u8 *)(r10 -32) = " + std::to_string(v6_dst0) +
           "\nr2 = r10\nr2 += -64\nr3 = " + std::to_string(plen) +
           "\nr4 = " + std::to_string(flags) + "\ncall bpf_fib_lookup#69\nexit\n";
}

} // namespace

TEST_CASE("packet helpers match the running kernel", "[helpers][kernel]") {
    if (!kernel_ready()) return;
    std::vector<Case> cases;
    for (auto [f, t, seed] : {std::tuple{4, 4, 0},
                              {8, 8, 0},
                              {0, 8, 0},
                              {8, 0, 0},
                              {0, 4, 0x1234},
                              {4, 0, 0x12345},
                              {16, 16, 0},
                              {0, 0, 77},
                              {0, 0, 0x123456},
                              {3, 5, 0},
                              {2, 0, 0}}) {
        cases.push_back({"csum_diff " + std::to_string(f) + "," + std::to_string(t) + " seed " +
                             std::to_string(seed),
                         ProgType::xdp, csum_prog(f, t, seed)});
    }
    // skb_store_bytes then the checksum fix, and the helpers' error paths.
    const std::string set_src = "r2 = 26\nr3 = r10\nr3 += -8\nr4 = 4\nr5 = 0\n"
                                "call bpf_skb_store_bytes#9\nr1 = r6\n";
    for (const std::string l3 :
         {"r2 = 24\nr3 = 0x0100000a\nr4 = 0x0101a8c0\nr5 = 4",
          "r2 = 24\nr3 = 0x1234\nr4 = 0x4321\nr5 = 2", "r2 = 24\nr3 = 0\nr4 = 0x12345678\nr5 = 0",
          "r2 = 24\nr3 = 1\nr4 = 0\nr5 = 0", "r2 = 25\nr3 = 0\nr4 = 0\nr5 = 4",
          "r2 = 48\nr3 = 0\nr4 = 0\nr5 = 4", "r2 = 24\nr3 = 0\nr4 = 0\nr5 = 3",
          "r2 = 24\nr3 = 0\nr4 = 0\nr5 = 0x14"}) {
        cases.push_back({"l3_csum_replace " + l3, ProgType::sched_cls,
                         skb_call(set_src, l3 + "\ncall bpf_l3_csum_replace#10")});
    }
    for (const std::string l4 :
         {"r2 = 40\nr3 = 0x0100000a\nr4 = 0x0101a8c0\nr5 = 0x14",
          "r2 = 40\nr3 = 0x0100000a\nr4 = 0x0101a8c0\nr5 = 0x34",
          "r2 = 40\nr3 = 0\nr4 = 0x1234\nr5 = 0x90", "r2 = 40\nr3 = 0x3412\nr4 = 0\nr5 = 0x62",
          "r2 = 40\nr3 = 0\nr4 = 0\nr5 = 0x100", "r2 = 41\nr3 = 0\nr4 = 0\nr5 = 2"}) {
        cases.push_back({"l4_csum_replace " + l4, ProgType::sched_cls,
                         skb_call("", l4 + "\ncall bpf_l4_csum_replace#11")});
    }
    for (const std::string store : {"r2 = 46\nr3 = r10\nr3 += -8\nr4 = 4\nr5 = 0",
                                    "r2 = 47\nr3 = r10\nr3 += -8\nr4 = 4\nr5 = 0",
                                    "r2 = 0\nr3 = r10\nr3 += -8\nr4 = 4\nr5 = 3",
                                    "r2 = 0\nr3 = r10\nr3 += -8\nr4 = 4\nr5 = 4",
                                    "r2 = 0x80000000\nr3 = r10\nr3 += -8\nr4 = 4\nr5 = 0"}) {
        cases.push_back({"skb_store_bytes " + store, ProgType::sched_cls,
                         skb_call("", store + "\ncall bpf_skb_store_bytes#9")});
    }
    for (int off : {0, 42, 43, 60}) {
        cases.push_back({"skb_load_bytes at " + std::to_string(off), ProgType::sched_cls,
                         "r2 = " + std::to_string(off) +
                             "\nr3 = r10\nr3 += -8\nr4 = 8\ncall bpf_skb_load_bytes#26\n"
                             "r1 = *(u64 *)(r10 -8)\nr0 += r1\nexit\n"});
    }
    for (int len : {0, 30, 50, 51}) {
        cases.push_back({"skb_pull_data " + std::to_string(len), ProgType::sched_cls,
                         "r2 = " + std::to_string(len) + "\ncall bpf_skb_pull_data#39\nexit\n"});
    }
    for (auto [len, flags] : {std::pair{30, 0}, {14, 0}, {13, 0}, {80, 0}, {50, 1}, {16065, 0}}) {
        cases.push_back(
            {"skb_change_tail " + std::to_string(len) + " flags " + std::to_string(flags),
             ProgType::sched_cls,
             "r2 = " + std::to_string(len) + "\nr3 = " + std::to_string(flags) +
                 "\ncall bpf_skb_change_tail#38\nexit\n"});
    }
    for (int delta : {-14, -200, -216, -217, 14, 36, 37}) {
        cases.push_back(
            {"xdp_adjust_head " + std::to_string(delta), ProgType::xdp,
             "r2 = " + std::to_string(delta) + "\ncall bpf_xdp_adjust_head#44\nexit\n"});
    }
    for (int delta : {-36, -37, 20, 3000, 3470, 3471}) {
        cases.push_back(
            {"xdp_adjust_tail " + std::to_string(delta), ProgType::xdp,
             "r2 = " + std::to_string(delta) + "\ncall bpf_xdp_adjust_tail#65\nexit\n"});
    }
    if (!kernel_probe::kernel_offers_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_xdp_adjust_meta)) {
        WARN("this kernel build refuses bpf_xdp_adjust_meta to XDP programs (mainline Linux "
             "offers it): its runs are not compared");
    }
    for (int delta : {-4, -32, -36, -252, -256, -2, 4}) {
        if (!kernel_probe::kernel_offers_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_xdp_adjust_meta)) break;
        cases.push_back(
            {"xdp_adjust_meta " + std::to_string(delta), ProgType::xdp,
             "r2 = " + std::to_string(delta) + "\ncall bpf_xdp_adjust_meta#54\nexit\n"});
    }
    for (auto [ifindex, flags] : {std::pair{1, 0}, {1, 1}, {1, 2}}) {
        for (ProgType type : {ProgType::sched_cls, ProgType::xdp}) {
            cases.push_back({"redirect flags " + std::to_string(flags), type,
                             "r1 = " + std::to_string(ifindex) + "\nr2 = " + std::to_string(flags) +
                                 "\ncall bpf_redirect#23\nexit\n"});
        }
    }
    size_t compared = 0;
    const std::string report = compare(cases, compared);
    INFO(report);
    CHECK(report.empty());
    SUCCEED("compared " << compared << " packet helper runs with the kernel's test runs");
}

TEST_CASE("map, printk and probe helpers' answers match the running kernel", "[helpers][kernel]") {
    if (!kernel_ready()) return;
    std::vector<Case> cases;
    // update NOEXIST twice, EXIST on a missing key, delete a missing key: the four answers.
    const std::string map_codes = R"(
        *(u32 *)(r10 -4) = 1
        *(u64 *)(r10 -16) = 5
        r1 = map[idx:0]
        r2 = r10
        r2 += -4
        r3 = r10
        r3 += -16
        r4 = 1
        call bpf_map_update_elem#2
        r6 = r0
        r1 = map[idx:0]
        r2 = r10
        r2 += -4
        r3 = r10
        r3 += -16
        r4 = 1
        call bpf_map_update_elem#2
        r6 <<= 8
        r6 |= r0
        *(u32 *)(r10 -4) = 9
        r1 = map[idx:0]
        r2 = r10
        r2 += -4
        call bpf_map_delete_elem#3
        r6 <<= 8
        r6 |= r0
        r1 = map[idx:0]
        r2 = r10
        r2 += -4
        r3 = r10
        r3 += -16
        r4 = 2
        call bpf_map_update_elem#2
        r6 <<= 8
        r6 |= r0
        r0 = r6
        exit
    )";
    cases.push_back({"hash update/delete codes", ProgType::sched_cls, map_codes, MapType::hash});
    cases.push_back({"array update/delete codes", ProgType::sched_cls, map_codes, MapType::array});
    cases.push_back({"queue push/pop codes", ProgType::sched_cls, R"(
        *(u64 *)(r10 -8) = 5
        r1 = map[idx:0]
        r2 = r10
        r2 += -8
        call bpf_map_pop_elem#88
        r6 = r0
        r6 <<= 8
        r1 = map[idx:0]
        r2 = r10
        r2 += -8
        r3 = 1
        call bpf_map_push_elem#87
        r6 |= r0
        r0 = r6
        exit
    )",
                     MapType::queue});
    // trace_printk's return value for formats the kernel accepts or refuses.
    for (const std::string fmt : {"%d", "%5d|%-3x", "%llx %lu", "%p", "%%d", "%c", "%pI4", "%hd",
                                  "%d%d%d%d", "%sx", "%#x", "%5.1d", "%px", "%pa"}) {
        std::string text = "r1 = 0\n";
        for (size_t i = 0; i < (fmt.size() + 8) / 8; ++i) {
            uint64_t word = 0;
            for (size_t j = 0; j < 8 && i * 8 + j < fmt.size(); ++j)
                word |= uint64_t{static_cast<uint8_t>(fmt[i * 8 + j])} << (8 * j);
            text += "r1 = " + std::to_string(word) + " ll\n*(u64 *)(r10 " +
                    std::to_string(-32 + 8 * static_cast<int>(i)) + ") = r1\n";
        }
        text += "r1 = r10\nr1 += -32\nr2 = " + std::to_string(fmt.size() + 1) +
                "\nr3 = -7\nr4 = 0x1234\nr5 = 0x41\ncall bpf_trace_printk#6\nexit\n";
        cases.push_back({"trace_printk \"" + fmt + "\"", ProgType::sched_cls, text});
    }
    // probe_read answers for addresses nothing maps.
    for (const std::string call :
         {"r3 = 0\ncall bpf_probe_read_kernel#113", "r3 = 0x1000\ncall bpf_probe_read_kernel#113",
          "r3 = 0x8000000000000000 ll\ncall bpf_probe_read_kernel#113",
          "r3 = 0xffff800000000000 ll\ncall bpf_probe_read_kernel#113",
          "r3 = 0\ncall bpf_probe_read_user#112", "r3 = 0\ncall bpf_probe_read_kernel_str#115",
          "r3 = 0\ncall bpf_probe_read_user_str#114"}) {
        cases.push_back(
            {call, ProgType::sched_cls,
             "r1 = r10\nr1 += -8\nr2 = 8\n" + call + "\nr1 = *(u64 *)(r10 -8)\nr0 += r1\nexit\n"});
    }
    size_t compared = 0;
    const std::string report = compare(cases, compared);
    INFO(report);
    CHECK(report.empty());
    SUCCEED("compared " << compared << " map, printk and probe helper runs with the kernel");
}

TEST_CASE("socket, vlan, hash, csum_update, route, classid and fib helpers match the running "
          "kernel",
          "[helpers][kernel]") {
    if (!kernel_ready()) return;
    std::vector<Case> cases;
    // No socket matches a zeroed tuple; lengths other than the two tuples, flags and a namespace
    // id find none either.
    for (int id : {84, 85, 99})
        for (auto [len, netns, flags] : {std::tuple{12, -1, 0},
                                         {36, -1, 0},
                                         {7, -1, 0},
                                         {12, 0, 0},
                                         {12, -1, 1},
                                         {12, 0x7fffffff, 0}})
            cases.push_back({"lookup #" + std::to_string(id) + " len " + std::to_string(len) +
                                 " netns " + std::to_string(netns) + " flags " +
                                 std::to_string(flags),
                             ProgType::sched_cls, sock_lookup_prog(id, len, netns, flags)});
    // The test run's socket through bpf_sk_fullsock: every bpf_sock field.
    for (int off : {0, 4, 8, 12, 16, 20, 24, 28, 44, 48, 52, 56, 72, 76})
        cases.push_back({"fullsock field " + std::to_string(off), ProgType::sched_cls,
                         sk_field_prog("call bpf_sk_fullsock#95",
                                       "r0 = *(u32 *)(r0 +" + std::to_string(off) + ")")});
    cases.push_back({"fullsock state byte", ProgType::sched_cls,
                     sk_field_prog("call bpf_sk_fullsock#95", "r0 = *(u8 *)(r0 +72)")});
    cases.push_back({"tcp_sock", ProgType::sched_cls,
                     sk_field_prog("call bpf_tcp_sock#96", "r0 = *(u32 *)(r0 +0)")});
    cases.push_back({"get_listener_sock", ProgType::sched_cls,
                     sk_field_prog("call bpf_get_listener_sock#98", "r0 = *(u32 *)(r0 +72)")});
    cases.push_back({"skc_to_tcp_sock", ProgType::sched_cls,
                     sk_field_prog("call bpf_skc_to_tcp_sock#137", "r0 = 1")});
    // vlan: the first push only tags the skb, the next ones put the held tag in the packet.
    const std::string push = "r1 = r6\nr2 = 0x81\nr3 = 0x2005\ncall bpf_skb_vlan_push#18\n";
    const std::string push_ad = "r1 = r6\nr2 = 0xa888\nr3 = 7\ncall bpf_skb_vlan_push#18\n";
    const std::string pop = "r1 = r6\ncall bpf_skb_vlan_pop#19\n";
    const std::string fields = "r7 = *(u32 *)(r6 +20)\nr0 = *(u32 *)(r6 +24)\nr0 <<= 8\nr0 |= r7\n"
                               "r7 = *(u32 *)(r6 +28)\nr0 <<= 16\nr0 |= r7\nr7 = *(u32 *)(r6 +16)"
                               "\nr0 <<= 16\nr0 |= r7\nr7 = *(u32 *)(r6 +0)\nr0 += r7\nexit\n";
    for (const std::string& seq :
         {push, push + push, push_ad + push + push, push + push + pop, push + push + pop + pop,
          push + push + push + pop + pop + pop, pop,
          "r1 = r6\nr2 = 1\nr3 = 0xffff\n"
          "call bpf_skb_vlan_push#18\n" +
              push})
        cases.push_back({"vlan " + seq, ProgType::sched_cls, "r6 = r1\n" + seq + fields});
    cases.push_back(
        {"csum_update", ProgType::sched_cls, "r2 = 0x1234\ncall bpf_csum_update#40\nexit\n"});
    cases.push_back({"get_hash_recalc is not 0 and stays", ProgType::sched_cls,
                     "r6 = r1\ncall bpf_get_hash_recalc#34\nr7 = r0\nr1 = r6\n"
                     "call bpf_get_hash_recalc#34\nif r0 != r7 goto pc+3\nif r0 == 0 goto pc+2\n"
                     "r0 = *(u32 *)(r6 +72)\nif r0 == r7 goto pc+1\nr0 = 0\nr0 = 1\nexit\n"});
    // The hash as software sets it: kept, even zero, until cleared; then computed anew.
    const std::string recalc = "r1 = r6\ncall bpf_get_hash_recalc#34\n";
    cases.push_back({"set_hash", ProgType::sched_cls,
                     "r6 = r1\nr2 = 0x12345678\ncall bpf_set_hash#48\nr7 = r0\n" + recalc +
                         "r0 += r7\nr7 = *(u32 *)(r6 +72)\nr0 += r7\nexit\n"});
    cases.push_back({"set_hash 0 stands", ProgType::sched_cls,
                     "r6 = r1\nr2 = 0\ncall bpf_set_hash#48\n" + recalc + "exit\n"});
    cases.push_back(
        {"set_hash_invalid: computed anew", ProgType::sched_cls,
         "r6 = r1\nr2 = 5\ncall bpf_set_hash#48\nr1 = r6\ncall bpf_set_hash_invalid#41\n"
         "r7 = *(u32 *)(r6 +72)\n" +
             recalc +
             "if r7 != 0x0 goto pc+3\nif r0 == 0x5 goto pc+2\n"
             "if r0 == 0x0 goto pc+1\nr7 = 1\nr0 = r7\nexit\n"});
    // The test run's socket: a cookie, the same when asked again; uid 0, having no file.
    for (ProgType type : {ProgType::sched_cls, ProgType::socket_filter}) {
        cases.push_back({"get_socket_cookie is not 0 and stays", type,
                         "r6 = r1\ncall bpf_get_socket_cookie#46\nr7 = r0\nr1 = r6\n"
                         "call bpf_get_socket_cookie#46\nif r0 != r7 goto pc+2\n"
                         "if r0 == 0x0 goto pc+1\nr0 = 1\nexit\n"});
        cases.push_back({"get_socket_uid", type, "call bpf_get_socket_uid#47\nexit\n"});
    }
    cases.push_back(
        {"get_cgroup_classid", ProgType::sched_cls, "call bpf_get_cgroup_classid#17\nexit\n"});
    cases.push_back(
        {"get_route_realm", ProgType::sched_cls, "call bpf_get_route_realm#24\nexit\n"});
    // The type changes (pkt_type at __sk_buff offset 4) within PACKET_HOST..PACKET_OTHERHOST.
    for (int type : {0, 1, 3, 4, 7, -1})
        cases.push_back({"skb_change_type " + std::to_string(type), ProgType::sched_cls,
                         "r6 = r1\nr2 = " + std::to_string(type) +
                             "\ncall bpf_skb_change_type#32\nr7 = *(u32 *)(r6 +4)\nr7 <<= 32\n"
                             "r0 &= 0xffffffff\nr0 |= r7\nexit\n"});
    // IPv4 to IPv6 and back: the packet's length and protocol after each (len at 0, protocol at
    // 16 of __sk_buff), and the answers for the same family, another one and flags.
    const std::string proto_after = "r7 = *(u32 *)(r6 +0)\nr8 = *(u32 *)(r6 +16)\nr8 <<= 16\n"
                                    "r7 |= r8\nr7 <<= 32\nr0 &= 0xffffffff\nr0 |= r7\n";
    for (const std::string seq :
         {"r2 = 0xdd86\nr3 = 0\n", "r2 = 0x8\nr3 = 0\n", "r2 = 0xdd86\nr3 = 1\n",
          "r2 = 0x0608\nr3 = 0\n",
          "r2 = 0xdd86\nr3 = 0\ncall bpf_skb_change_proto#31\nr1 = r6\nr2 = 0x8\nr3 = 0\n",
          "r2 = 0xdd86\nr3 = 0\ncall bpf_skb_change_proto#31\nr1 = r6\nr2 = 0xdd86\nr3 = 0\n"})
        cases.push_back(
            {"skb_change_proto " + seq, ProgType::sched_cls,
             "r6 = r1\n" + seq + "call bpf_skb_change_proto#31\n" + proto_after + "exit\n"});
    // Copies to the loopback device, egress and ingress; bad flags; a device there is none of.
    for (auto [ifindex, flags] : {std::pair{1, 0}, {1, 1}, {1, 2}, {0x7fff, 0}})
        cases.push_back(
            {"clone_redirect " + std::to_string(ifindex) + " flags " + std::to_string(flags),
             ProgType::sched_cls,
             "r2 = " + std::to_string(ifindex) + "\nr3 = " + std::to_string(flags) +
                 "\ncall bpf_clone_redirect#13\nexit\n"});
    cases.push_back({"ktime_get_tai_ns is past 2026", ProgType::sched_cls,
                     "call bpf_ktime_get_tai_ns#208\nr1 = 1767225600000000000 ll\n"
                     "if r0 > r1 goto pc+2\nr0 = 0\nexit\nr0 = 1\nexit\n"});
    for (ProgType type : {ProgType::xdp, ProgType::sched_cls})
        for (auto [family, ifindex, v6, plen, flags] : {std::tuple{2, 1, 0, 64, 0},
                                                        {2, 0, 0, 64, 0},
                                                        {2, 1, 0, 63, 0},
                                                        {2, 1, 0, 64, 64},
                                                        {10, 1, 0, 64, 0},
                                                        {10, 1, 0xff, 64, 0},
                                                        {10, 0, 0xfe, 64, 0},
                                                        {0, 1, 0, 64, 0},
                                                        {2, 1, 0, 64, 3},
                                                        {10, 1234, 0x20, 64, 0}})
            cases.push_back({"fib_lookup family " + std::to_string(family) + " ifindex " +
                                 std::to_string(ifindex) + " dst " + std::to_string(v6) + " plen " +
                                 std::to_string(plen) + " flags " + std::to_string(flags),
                             type, fib_prog(family, ifindex, v6, plen, flags)});
    size_t compared = 0;
    const std::string report = compare(cases, compared);
    INFO(report);
    CHECK(report.empty());
    SUCCEED("compared " << compared << " socket and skb header helper runs with the kernel");
}

// R0 = call(r1 = ctx, setup), then R0 folded with the packet's length, so that a call that moved
// the packet shows it.
std::string len_after(const std::string& call) {
    return "r6 = r1\n" + call +
           "\nr7 = *(u32 *)(r6 +0)\nr7 <<= 32\nr0 &= 0xffffffff\nr0 |= r7\n"
           "exit\n";
}

TEST_CASE("header room, tunnel, csum level, ecn, redirect and xdp buffer helpers match the "
          "running kernel",
          "[helpers][kernel]") {
    if (!kernel_ready()) return;
    std::vector<Case> cases;
    for (auto [len_diff, mode, flags] : {std::tuple{20, 1, 0x2ll},
                                         {8, 0, 0ll},
                                         {-8, 0, 0ll},
                                         {-16, 0, 0ll},
                                         {-14, 1, 0ll},
                                         {-20, 1, 0x80ll},
                                         {-20, 1, 0x100ll},
                                         {-20, 1, 0x180ll},
                                         {40, 1, 0x4ll},
                                         {40, 1, 0x6ll},
                                         {28, 1, 0x12ll},
                                         {28, 1, 0x1all},
                                         {34, 1, 0x4ll | 0x40 | (14ll << 56)},
                                         {34, 1, 0x4ll | 0x40 | (13ll << 56)},
                                         {8, 1, 0x2ll | (9ll << 56)},
                                         {0xfff, 1, 0ll},
                                         {0x1000, 1, 0ll},
                                         {-0x1000, 1, 0ll},
                                         {4, 2, 0ll},
                                         {4, 1, 0x200ll},
                                         {100, 1, 0x20ll},
                                         {-36, 1, 0ll}}) {
        cases.push_back({"skb_adjust_room " + std::to_string(len_diff) + " mode " +
                             std::to_string(mode) + " flags " + std::to_string(flags),
                         ProgType::sched_cls,
                         len_after("r2 = " + std::to_string(len_diff) + "\nr3 = " +
                                   std::to_string(mode) + "\nr4 = " + std::to_string(flags) +
                                   " ll" + "\ncall bpf_skb_adjust_room#50")});
    }
    for (auto [room, flags] : {std::pair{14, 0}, {0, 0}, {64, 0}, {100, 0}, {4000, 0}, {1, 1}}) {
        cases.push_back(
            {"skb_change_head " + std::to_string(room) + " flags " + std::to_string(flags),
             ProgType::sched_cls,
             len_after("r2 = " + std::to_string(room) + "\nr3 = " + std::to_string(flags) +
                       "\ncall bpf_skb_change_head#43")});
    }
    for (ProgType type : {ProgType::sched_cls, ProgType::socket_filter})
        for (auto [off, len, start] : {std::tuple{0, 8, 0},
                                       {6, 8, 0},
                                       {0, 8, 1},
                                       {42, 8, 0},
                                       {28, 8, 1},
                                       {29, 8, 1},
                                       {0, 8, 2},
                                       {0x10000, 8, 1}})
            cases.push_back({"skb_load_bytes_relative " + std::to_string(off) + " start " +
                                 std::to_string(start),
                             type,
                             "r2 = " + std::to_string(off) + "\nr3 = r10\nr3 += -8\nr4 = " +
                                 std::to_string(len) + "\nr5 = " + std::to_string(start) +
                                 "\ncall bpf_skb_load_bytes_relative#68\n"
                                 "r1 = *(u64 *)(r10 -8)\nr0 += r1\nexit\n"});
    for (const std::string levels :
         {"0", "1 0", "1 1 1 1 1 0", "1 2 0", "1 1 2 0", "3 0", "4", "1 3 0"}) {
        std::string p = "r6 = r1\n";
        std::istringstream in(levels);
        for (int level; in >> level;)
            p += "r1 = r6\nr2 = " + std::to_string(level) + "\ncall bpf_csum_level#135\n";
        cases.push_back({"csum_level " + levels, ProgType::sched_cls, p + "exit\n"});
    }
    // bpf_skb_ecn_set_ce on the frame with its TOS byte set first.
    for (int tos : {0, 1, 2, 3, 0xfe})
        cases.push_back({"skb_ecn_set_ce tos " + std::to_string(tos), ProgType::sched_cls,
                         skb_call("*(u8 *)(r10 -8) = " + std::to_string(tos) +
                                      "\nr1 = r6\nr2 = 15\nr3 = r10\nr3 += -8\nr4 = 1\nr5 = 0\n"
                                      "call bpf_skb_store_bytes#9\n",
                                  "call bpf_skb_ecn_set_ce#97")});
    // get with no tunnel metadata, then set and get in the layouts and families given.
    const std::string key = "r2 = r10\nr2 += -48\n";
    const std::string zero_key = "*(u64 *)(r10 -48) = 0\n*(u64 *)(r10 -40) = 0\n"
                                 "*(u64 *)(r10 -32) = 0\n*(u64 *)(r10 -24) = 0\n"
                                 "*(u64 *)(r10 -16) = 0\n*(u32 *)(r10 -8) = 0\n";
    for (auto [set_size, set_flags, get_size, get_flags] : {std::tuple{44, 0, 44, 0},
                                                            {44, 0, 44, 16},
                                                            {44, 1, 44, 1},
                                                            {44, 1, 44, 0},
                                                            {44, 14, 44, 16},
                                                            {44, 0x20, 44, 0},
                                                            {28, 0, 8, 0},
                                                            {24, 0, 28, 0},
                                                            {22, 0, 44, 0},
                                                            {44, 1, 8, 1},
                                                            {30, 0, 44, 0},
                                                            {44, 0, 44, 2}}) {
        cases.push_back(
            {"tunnel key set " + std::to_string(set_size) + "/" + std::to_string(set_flags) +
                 " get " + std::to_string(get_size) + "/" + std::to_string(get_flags),
             ProgType::sched_cls,
             "r6 = r1\n" + zero_key +
                 "*(u32 *)(r10 -48) = 0x123456\n*(u32 *)(r10 -44) = 0x0a000063\n"
                 "*(u16 *)(r10 -28) = 0x0710\n*(u32 *)(r10 -20) = 0x0a000001\n"
                 "*(u32 *)(r10 -36) = 0x0a000064\nr1 = r6\n" +
                 key +
                 "r3 = 44\nr4 = 0\ncall bpf_skb_get_tunnel_key#20\nr8 = r0\n"
                 "*(u32 *)(r10 -48) = 0x123456\n*(u32 *)(r10 -44) = 0x0a000063\n"
                 "*(u16 *)(r10 -28) = 0x0710\nr1 = r6\n" +
                 key + "r3 = " + std::to_string(set_size) + "\nr4 = " + std::to_string(set_flags) +
                 "\ncall bpf_skb_set_tunnel_key#21\nr8 <<= 8\nr8 |= r0\n" + zero_key + "r1 = r6\n" +
                 key + "r3 = " + std::to_string(get_size) + "\nr4 = " + std::to_string(get_flags) +
                 "\ncall bpf_skb_get_tunnel_key#20\nr8 <<= 8\nr8 |= r0\n"
                 "r0 = *(u64 *)(r10 -48)\nr0 += r8\nr1 = *(u64 *)(r10 -40)\nr0 ^= r1\n"
                 "r1 = *(u64 *)(r10 -32)\nr0 += r1\nr1 = *(u64 *)(r10 -24)\nr0 ^= r1\n"
                 "r1 = *(u64 *)(r10 -16)\nr0 += r1\nr1 = *(u32 *)(r10 -8)\nr0 ^= r1\n"
                 "r1 = r0\nr1 >>= 32\nr0 ^= r1\nexit\n"});
    }
    // bpf_skb_set_tstamp: R0, then the tstamp and tstamp_type the program reads.
    for (auto [tstamp, type] : {std::pair{0, 0}, {5, 0}, {0, 1}, {7, 1}, {0, 2}, {9, 2}, {9, 3}})
        cases.push_back(
            {"skb_set_tstamp " + std::to_string(tstamp) + " type " + std::to_string(type),
             ProgType::sched_cls,
             "r6 = r1\nr2 = " + std::to_string(tstamp) + "\nr3 = " + std::to_string(type) +
                 "\ncall bpf_skb_set_tstamp#192\nr0 <<= 16\n"
                 "r1 = *(u64 *)(r6 +152)\nr1 <<= 8\nr0 ^= r1\n"
                 "r1 = *(u8 *)(r6 +180)\nr0 ^= r1\nr1 = r0\nr1 >>= 32\nr0 ^= r1\n"
                 "exit\n"});
    // Tunnel options: set on fresh metadata (or none), then read back, with the key's flags.
    const std::string set_key =
        zero_key + "r1 = r6\n" + key + "r3 = 44\nr4 = 0\ncall bpf_skb_set_tunnel_key#21\n";
    for (auto [with_key, set_size, get_size] : {std::tuple{true, 8, 8},
                                                {true, 8, 16},
                                                {true, 8, 4},
                                                {true, 6, 8},
                                                {false, 8, 8},
                                                {true, 256, 8},
                                                {true, 252, 256}}) {
        std::string p = "r6 = r1\n" + std::string(with_key ? set_key : "") +
                        "*(u64 *)(r10 -256) = 0\n*(u64 *)(r10 -248) = 0\n";
        for (int off = -256; off < 0; off += 8)
            p += "*(u64 *)(r10 " + std::to_string(off - 256) + ") = " + std::to_string(off * 7919) +
                 "\n";
        p += "r1 = r6\nr2 = r10\nr2 += -512\nr3 = " + std::to_string(set_size) +
             "\ncall bpf_skb_set_tunnel_opt#30\nr8 = r0\nr1 = r6\nr2 = r10\nr2 += -256\nr3 = " +
             std::to_string(get_size) +
             "\ncall bpf_skb_get_tunnel_opt#29\nr8 <<= 8\nr8 ^= r0\n"
             "r0 = *(u64 *)(r10 -256)\nr0 ^= r8\nr1 = *(u64 *)(r10 -248)\nr0 += r1\n"
             "r7 = r0\nr1 = r6\nr2 = r10\nr2 += -48\nr3 = 44\nr4 = 16\n"
             "call bpf_skb_get_tunnel_key#20\nr0 = *(u16 *)(r10 -26)\nr0 <<= 32\nr0 ^= r7\n"
             "r1 = r0\nr1 >>= 32\nr0 ^= r1\nexit\n";
        cases.push_back({"tunnel opt " + std::string(with_key ? "after key " : "no key ") +
                             std::to_string(set_size) + " get " + std::to_string(get_size),
                         ProgType::sched_cls, p});
    }
    // A test run's packet came through no IPsec: every bpf_skb_get_xfrm_state is -EINVAL.
    for (auto [index, size, flags] : {std::tuple{0, 28, 0}, {1, 28, 0}, {0, 24, 0}, {0, 28, 1}})
        cases.push_back({"skb_get_xfrm_state " + std::to_string(index) + " size " +
                             std::to_string(size) + " flags " + std::to_string(flags),
                         ProgType::sched_cls,
                         "*(u64 *)(r10 -32) = -1\nr2 = " + std::to_string(index) +
                             "\nr3 = r10\nr3 += -32\nr4 = " + std::to_string(size) +
                             "\nr5 = " + std::to_string(flags) +
                             "\ncall bpf_skb_get_xfrm_state#66\nr1 = *(u64 *)(r10 -32)\n"
                             "r0 += r1\nexit\n"});
    cases.push_back({"redirect_peer", ProgType::sched_cls,
                     "r1 = 3\nr2 = 0\ncall bpf_redirect_peer#155\nexit\n"});
    cases.push_back({"redirect_peer flags", ProgType::sched_cls,
                     "r1 = 3\nr2 = 1\ncall bpf_redirect_peer#155\nexit\n"});
    for (auto [plen, flags] : {std::pair{0, 0}, {20, 0}, {24, 0}, {16, 0}, {0, 1}}) {
        cases.push_back(
            {"redirect_neigh plen " + std::to_string(plen) + " flags " + std::to_string(flags),
             ProgType::sched_cls,
             "*(u64 *)(r10 -24) = 2\n*(u64 *)(r10 -16) = 0\n*(u64 *)(r10 -8) = 0\nr1 = 3\n" +
                 std::string(plen ? "r2 = r10\nr2 += -24\n" : "r2 = 0\n") +
                 "r3 = " + std::to_string(plen) + "\nr4 = " + std::to_string(flags) +
                 "\ncall bpf_redirect_neigh#152\nexit\n"});
    }
    // bpf_check_mtu: R0 and what it wrote to mtu_len, together.
    for (ProgType type : {ProgType::sched_cls, ProgType::xdp})
        for (auto [ifindex, mtu_len, len_diff, flags] : {std::tuple{0, 0, 0, 0},
                                                         {1, 0, 0, 0},
                                                         {99, 0, 0, 0},
                                                         {0, 1500, 0, 0},
                                                         {0, 65536, 0, 0},
                                                         {0, 65537, 0, 0},
                                                         {0, 65500, 100, 0},
                                                         {0, 0, 65500, 0},
                                                         {0, 0, -100, 0},
                                                         {0, 0, 0, 1},
                                                         {0, 1500, 0, 1},
                                                         {0, 0, 8, 1},
                                                         {0, 0, 0, 2},
                                                         {0, -1, 20, 0}})
            cases.push_back({"check_mtu ifindex " + std::to_string(ifindex) + " mtu_len " +
                                 std::to_string(mtu_len) + " len_diff " + std::to_string(len_diff) +
                                 " flags " + std::to_string(flags),
                             type,
                             "*(u32 *)(r10 -4) = " + std::to_string(mtu_len) +
                                 "\nr2 = " + std::to_string(ifindex) +
                                 "\nr3 = r10\nr3 += -4\nr4 = " + std::to_string(len_diff) +
                                 "\nr5 = " + std::to_string(flags) +
                                 "\ncall bpf_check_mtu#163\nr0 <<= 32\n"
                                 "r1 = *(u32 *)(r10 -4)\nr0 |= r1\nr1 = r0\nr1 >>= 32\n"
                                 "r0 ^= r1\nexit\n"});
    cases.push_back({"xdp_get_buff_len", ProgType::xdp, "call bpf_xdp_get_buff_len#188\nexit\n"});
    for (auto [off, len] : {std::pair{0, 8}, {42, 8}, {43, 8}, {0x10000, 8}, {0, 0x10000}}) {
        if (len > 512) continue; // the stack holds the buffer
        for (std::string call : {"bpf_xdp_load_bytes#189", "bpf_xdp_store_bytes#190"})
            cases.push_back({call + " " + std::to_string(off), ProgType::xdp,
                             "*(u64 *)(r10 -8) = 0x1234\nr2 = " + std::to_string(off) +
                                 "\nr3 = r10\nr3 += -8\nr4 = " + std::to_string(len) + "\ncall " +
                                 call + "\nr1 = *(u64 *)(r10 -8)\nr0 += r1\nexit\n"});
    }
    size_t compared = 0;
    const std::string report = compare(cases, compared);
    INFO(report);
    CHECK(report.empty());
    SUCCEED("compared " << compared << " header room, tunnel and xdp buffer helper runs");
}

// The kernel's test runs see the runner's cgroup; the VM's default is the root cgroup alone.
bool in_root_cgroup() {
    std::ifstream in("/proc/self/cgroup");
    for (std::string line; std::getline(in, line);)
        if (line == "0::/") return true;
    return false;
}

TEST_CASE("cgroup id helpers match the running kernel for a runner in the root cgroup",
          "[helpers][kernel]") {
    if (!kernel_ready()) return;
    if (!in_root_cgroup()) {
        WARN("the test runs outside the root cgroup (v2): the kernel's answers differ; skipped");
        return;
    }
    std::vector<Case> cases;
    cases.push_back({"skb_cgroup_id", ProgType::sched_cls, "call bpf_skb_cgroup_id#79\nexit\n"});
    cases.push_back(
        {"skb_cgroup_classid", ProgType::sched_cls, "call bpf_skb_cgroup_classid#151\nexit\n"});
    for (int level : {0, 1, 2, -1})
        cases.push_back(
            {"skb_ancestor_cgroup_id " + std::to_string(level), ProgType::sched_cls,
             "r2 = " + std::to_string(level) + "\ncall bpf_skb_ancestor_cgroup_id#83\nexit\n"});
    // cgroup_skb returns 0 or 1: whether the id is the one asked about.
    for (auto [call, expected] : {std::pair{"r2 = 0\ncall bpf_sk_cgroup_id#128", 1},
                                  {"r2 = 0\ncall bpf_sk_cgroup_id#128", 0},
                                  {"r2 = 0\ncall bpf_sk_ancestor_cgroup_id#129", 1},
                                  {"r2 = 1\ncall bpf_sk_ancestor_cgroup_id#129", 0},
                                  {"r2 = 1\ncall bpf_sk_ancestor_cgroup_id#129", 1}})
        cases.push_back({std::string(call) + " is " + std::to_string(expected),
                         ProgType::cgroup_skb,
                         "r1 = *(u64 *)(r1 +168)\nif r1 != 0 goto pc+2\nr0 = 0\nexit\n" +
                             std::string(call) + "\nif r0 == " + std::to_string(expected) +
                             " goto pc+2\nr0 = 0\nexit\nr0 = 1\nexit\n"});
    size_t compared = 0;
    const std::string report = compare(cases, compared);
    INFO(report);
    CHECK(report.empty());
    SUCCEED("compared " << compared << " cgroup id helper runs with the kernel's test runs");
}

// The kernel's verdict on a program: "" when it loads, else its log's message (the line before
// the statistics).
std::string kernel_verdict(ProgType type, const std::vector<Insn>& insns) {
    static char log[1 << 16];
    log[0] = 0;
    LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_level = 1, .log_size = sizeof log, .log_buf = log);
    const int fd =
        bpf_prog_load(static_cast<bpf_prog_type>(type), "verdict", "GPL",
                      reinterpret_cast<const bpf_insn*>(insns.data()), insns.size(), &opts);
    if (fd >= 0) {
        close(fd);
        return "";
    }
    std::istringstream in(log);
    std::string line, message;
    for (; std::getline(in, line);)
        if (line.rfind("processed ", 0) != 0 && !line.empty()) message = line;
    return message;
}

TEST_CASE("check_mtu's mtu_len argument is checked as the kernel checks it", "[helpers][kernel]") {
    if (!kernel_ready()) return;
    const std::string call = "\nr2 = 0\nr4 = 0\nr5 = 0\ncall bpf_check_mtu#163\nr0 = 0\nexit\n";
    for (ProgType type : {ProgType::sched_cls, ProgType::xdp})
        for (const std::string arg :
             {"*(u32 *)(r10 -8) = 0\nr3 = r10\nr3 += -8",
              "*(u64 *)(r10 -8) = 0\nr3 = r10\nr3 += -6", "r3 = r10\nr3 += -4",
              "r3 = r10\nr3 += -2", "r3 = 0",
              "r6 = r1\nr3 = *(u32 *)(r6 +76)\nr7 = *(u32 *)(r6 +80)\nr8 = r3\nr8 += 4\n"
              "if r8 > r7 goto pc+1\nr1 = r6"}) {
            std::string text = arg + call;
            if (type == ProgType::xdp) { // xdp_md's data and data_end
                const auto at = text.find("+76)");
                if (at != std::string::npos) text.replace(at, 4, "+0)");
                const auto end = text.find("+80)");
                if (end != std::string::npos) text.replace(end, 4, "+4)");
            }
            auto insns = assemble(text);
            REQUIRE(insns);
            VerifierOptions options;
            options.prog_type = type;
            INFO(text);
            CHECK(verify(*insns, options).error == kernel_verdict(type, *insns));
        }
}

TEST_CASE("perf_event and kprobe attachment helpers are verified as the kernel verifies them",
          "[helpers][kernel]") {
    if (!kernel_ready()) return;
    const std::string value_buf = "*(u64 *)(r10 -24) = 0\nr2 = r10\nr2 += -24\n";
    const std::vector<std::string> bodies = {
        value_buf + "r3 = 24\ncall bpf_perf_prog_read_value#56",
        value_buf + "r3 = 0\ncall bpf_perf_prog_read_value#56",
        value_buf + "r3 = 24\nr4 = 0\ncall bpf_read_branch_records#119",
        "r2 = 0\nr3 = 0\nr4 = 1\ncall bpf_read_branch_records#119",
        "r2 = 0\nr3 = 8\nr4 = 0\ncall bpf_read_branch_records#119",
        "call bpf_get_func_ip#173",
        "call bpf_get_attach_cookie#174"};
    for (ProgType type : {ProgType::perf_event, ProgType::kprobe, ProgType::tracepoint})
        for (const std::string& body : bodies) {
            auto insns = assemble(body + "\nr0 = 0\nexit\n");
            REQUIRE(insns);
            VerifierOptions options;
            options.prog_type = type;
            INFO(prog_type_info(type)->name << ": " << body);
            CHECK(verify(*insns, options).error == kernel_verdict(type, *insns));
        }
}

#endif
