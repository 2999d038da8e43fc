// The program types against the running kernel: every context offset and size loaded with
// BPF_PROG_LOAD and compared with is_valid_access; the same programs test-run with
// BPF_PROG_TEST_RUN and in this VM (after convert_ctx_accesses) on the same input, comparing R0,
// data_out and ctx_out; the helpers each type may call; the test-run framing's errors.
// Needs root on Linux; without the bpf() syscall's permission the tests warn and skip.
#if defined(__linux__) && __has_include(<bpf/bpf.h>)

#include "tests/progtypes/vm_run.hpp"
#include "vm/progtypes/emit.hpp"
#include "vm/progtypes/skb.hpp"

#include <algorithm>
#include <bpf/bpf.h>
#include <catch2/catch.hpp>
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

using namespace ebpf;
using namespace ebpf::progtypes;
using progtypes_test::make_context;
using progtypes_test::run_in_vm;
using progtypes_test::udp_frame;

// The kernel, if this process may load programs with the privileges the tables assume (an
// unprivileged loader may still load socket filters, under other rules).
bool kernel_ready() {
    static const int verdict = [] {
        const Insn prog[] = {make_insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),
                             make_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)};
        for (bpf_prog_type type : {BPF_PROG_TYPE_SCHED_CLS, BPF_PROG_TYPE_KPROBE}) {
            int fd = bpf_prog_load(type, "probe", "GPL", reinterpret_cast<const bpf_insn*>(prog), 2,
                                   nullptr);
            if (fd < 0) return errno;
            close(fd);
        }
        return 0;
    }();
    if (verdict == EPERM || verdict == EACCES) {
        WARN("bpf(BPF_PROG_LOAD) returned " << strerror(verdict)
                                            << ": comparing with the kernel needs root (CAP_BPF, "
                                               "CAP_PERFMON, CAP_NET_ADMIN); skipped");
        return false;
    }
    if (verdict != 0) {
        WARN("bpf(BPF_PROG_LOAD) failed: " << strerror(verdict) << "; kernel comparison skipped");
        return false;
    }
    return true;
}

// A program loaded into the kernel; fd < 0 and the verifier's log when refused.
struct Loaded {
    int fd = -1;
    std::string log;

    Loaded() = default;
    Loaded(const Loaded&) = delete;
    Loaded& operator=(const Loaded&) = delete;
    ~Loaded() {
        if (fd >= 0) close(fd);
    }
};

void kernel_load(Loaded& out, ProgType type, const std::vector<Insn>& insns) {
    static char log[1 << 16];
    log[0] = 0;
    LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_level = 1, .log_size = sizeof log, .log_buf = log);
    out.fd = bpf_prog_load(static_cast<bpf_prog_type>(type), "progtypes", "GPL",
                           reinterpret_cast<const bpf_insn*>(insns.data()), insns.size(), &opts);
    out.log = out.fd < 0 ? std::string(log) + " (" + strerror(errno) + ")" : "";
}

struct KernelRun {
    int err = 0; // errno when the run failed
    uint32_t retval = 0;
    std::vector<uint8_t> data_out;
    std::vector<uint8_t> ctx_out;
};

KernelRun kernel_run(int fd, std::span<const uint8_t> data,
                     std::optional<std::span<const uint8_t>> ctx, size_t ctx_out_size) {
    KernelRun run;
    run.data_out.assign(8192, 0);
    run.ctx_out.assign(ctx_out_size, 0);
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data.empty() ? nullptr : data.data(),
                .data_out = data.empty() ? nullptr : run.data_out.data(),
                .data_size_in = static_cast<uint32_t>(data.size()),
                .data_size_out = data.empty() ? 0u : static_cast<uint32_t>(run.data_out.size()),
                .ctx_in = ctx ? ctx->data() : nullptr,
                .ctx_out = ctx_out_size ? run.ctx_out.data() : nullptr,
                .ctx_size_in = ctx ? static_cast<uint32_t>(ctx->size()) : 0u,
                .ctx_size_out = static_cast<uint32_t>(ctx_out_size));
    if (bpf_prog_test_run_opts(fd, &opts) != 0) {
        run.err = errno;
        return run;
    }
    run.retval = opts.retval;
    run.data_out.resize(data.empty() ? 0 : opts.data_size_out);
    run.ctx_out.resize(ctx_out_size ? opts.ctx_size_out : 0);
    return run;
}

Insn mov64_imm(uint8_t dst, int32_t imm) {
    return make_insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}
Insn exit_insn() {
    return make_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}
Insn ldx(int size, uint8_t dst, int off, bool sx = false) {
    return make_insn(BPF_LDX | (sx ? BPF_MEMSX : BPF_MEM) | bpf_size_code(size), dst, 1,
                     static_cast<int16_t>(off), 0);
}
Insn stx(int size, int off, uint8_t src) {
    return make_insn(BPF_STX | BPF_MEM | bpf_size_code(size), 1, src, static_cast<int16_t>(off), 0);
}
Insn st(int size, int off, int32_t imm) {
    return make_insn(BPF_ST | BPF_MEM | bpf_size_code(size), 1, 0, static_cast<int16_t>(off), imm);
}

// "EINVAL" for EINVAL; the number for errnos the C library has no name for (the kernel's
// ENOTSUPP).
std::string errno_name(int err) {
    const char* name = strerrorname_np(err);
    return name ? name : "errno " + std::to_string(err);
}

enum class Kind { read, ldsx, write };
const char* kind_name(Kind k) {
    return k == Kind::read ? "read" : k == Kind::ldsx ? "ldsx" : "write";
}

// The offsets worth trying for a type: the whole context and a little around it.
std::vector<int> offsets_of(const ProgTypeInfo& info) {
    std::vector<int> offs;
    if (info.type == ProgType::tracepoint) {
        for (int off = -8; off < 72; ++off)
            offs.push_back(off);
        for (int off = uapi::PERF_MAX_TRACE_SIZE - 24; off < uapi::PERF_MAX_TRACE_SIZE + 8; ++off) {
            offs.push_back(off);
        }
        return offs;
    }
    for (int off = -8; off < static_cast<int>(info.ctx_size) + 8; ++off)
        offs.push_back(off);
    return offs;
}

const ProgType compared_types[] = {
    ProgType::socket_filter, ProgType::kprobe,     ProgType::sched_cls,
    ProgType::sched_act,     ProgType::tracepoint, ProgType::xdp,
    ProgType::perf_event,    ProgType::cgroup_skb, ProgType::raw_tracepoint};

// A tiny program making one context access; cgroup_skb programs must return 0 or 1.
std::vector<Insn> access_prog(ProgType type, Kind kind, int off, int size) {
    if (kind == Kind::write)
        return {mov64_imm(2, 0), stx(size, off, 2), mov64_imm(0, 0), exit_insn()};
    std::vector<Insn> prog{ldx(size, 0, off, kind == Kind::ldsx)};
    if (type == ProgType::cgroup_skb) prog.push_back(mov64_imm(0, 0));
    prog.push_back(exit_insn());
    return prog;
}

TEST_CASE("context access rules match the running kernel", "[progtypes][kernel]") {
    if (!kernel_ready()) return;
    size_t compared = 0, known_deviations = 0;
    std::vector<std::string> mismatches;
    for (ProgType type : compared_types) {
        const ProgTypeInfo& info = *prog_type_info(type);
        for (int off : offsets_of(info)) {
            for (int size : {1, 2, 4, 8}) {
                for (Kind kind : {Kind::read, Kind::ldsx, Kind::write}) {
                    if (kind == Kind::ldsx && size == 8) continue;
                    Loaded prog;
                    kernel_load(prog, type, access_prog(type, kind, off, size));
                    const bool ours = info.is_valid_access(off, size,
                                                           kind == Kind::write ? BpfAccess::write
                                                                               : BpfAccess::read,
                                                           kind == Kind::ldsx)
                                          .ok;
                    ++compared;
                    // Linux 6.18 lets tracepoint programs read at negative offsets (an unsigned
                    // comparison in tp_prog_is_valid_access); this VM refuses them.
                    if (type == ProgType::tracepoint && off < 0 && prog.fd >= 0 && !ours) {
                        ++known_deviations;
                        continue;
                    }
                    if (ours != (prog.fd >= 0)) {
                        mismatches.push_back(std::string(info.name) + " " + kind_name(kind) +
                                             " off=" + std::to_string(off) +
                                             " size=" + std::to_string(size) + ": kernel " +
                                             (prog.fd >= 0 ? "accepts" : "refuses: " + prog.log));
                    }
                }
            }
        }
    }
    std::string report;
    for (const auto& m : mismatches)
        report += m + "\n";
    INFO(report);
    CHECK(mismatches.empty());
    SUCCEED("compared " << compared << " context accesses with the kernel; " << known_deviations
                        << " negative tracepoint offsets it accepts and this VM refuses");
}

// The packets and contexts the value comparisons run on.
struct Input {
    std::string name;
    std::vector<uint8_t> data;
    std::optional<std::vector<uint8_t>> ctx;
};

std::vector<uint8_t> ipv6_frame() {
    std::vector<uint8_t> f = {0x02, 0x00, 0x00, 0x00, 0x00, 0x07, 0x02, 0x00, 0x00, 0x00, 0x00,
                              0x01, 0x86, 0xdd, 0x60, 0x00, 0x00, 0x00, 0x00, 0x08, 0x11, 0x40};
    for (int i = 0; i < 32; ++i)
        f.push_back(static_cast<uint8_t>(0x20 + i)); // saddr, daddr
    for (uint8_t b : {0x30, 0x39, 0x00, 0x50, 0x00, 0x08, 0x00, 0x00})
        f.push_back(b);
    return f;
}

std::vector<uint8_t> skb_ctx_in() {
    uapi::SkBuffMd md{};
    md.mark = 0x11223344;
    md.priority = 0x55667788;
    md.ingress_ifindex = 9;
    for (int i = 0; i < 5; ++i)
        md.cb[i] = 0xa0b0c0d0u + static_cast<uint32_t>(i);
    md.tstamp = 0x0102030405060708;
    md.wire_len = 300;
    md.gso_segs = 3;
    md.gso_size = 1400;
    md.hwtstamp = 0x1112131415161718;
    std::vector<uint8_t> bytes(sizeof md);
    std::memcpy(bytes.data(), &md, sizeof md);
    return bytes;
}

std::vector<Input> inputs_for(ProgType type) {
    if (type == ProgType::xdp) {
        uapi::XdpMd md{};
        md.data = 8;
        auto frame = udp_frame();
        std::vector<uint8_t> with_meta(8 + frame.size(), 0x77);
        std::copy(frame.begin(), frame.end(), with_meta.begin() + 8);
        md.data_end = static_cast<uint32_t>(with_meta.size());
        std::vector<uint8_t> ctx(sizeof md);
        std::memcpy(ctx.data(), &md, sizeof md);
        return {{"udp", frame, std::nullopt}, {"udp+meta", with_meta, ctx}};
    }
    auto broadcast = udp_frame();
    std::memset(broadcast.data(), 0xff, 6);
    return {{"udp", udp_frame(), std::nullopt},
            {"udp+ctx", udp_frame(), skb_ctx_in()},
            {"ipv6+ctx", ipv6_frame(), skb_ctx_in()},
            {"broadcast", broadcast, std::vector<uint8_t>(sizeof(uapi::SkBuffMd), 0)}};
}

// Runs one program in the kernel and in this VM on the same input and compares R0, data_out and
// ctx_out; a description of the first difference, or empty.
std::string compare_run(ProgType type, const std::vector<Insn>& prog,
                        const std::set<size_t>& ctx_insns, const Input& input) {
    Loaded loaded;
    kernel_load(loaded, type, prog);
    if (loaded.fd < 0) return "kernel refuses the program: " + loaded.log;
    const size_t ctx_size = prog_type_info(type)->ctx_size;
    std::optional<std::span<const uint8_t>> ctx_in;
    if (input.ctx) ctx_in = std::span<const uint8_t>(*input.ctx);
    const KernelRun k = kernel_run(loaded.fd, input.data, ctx_in, input.ctx ? ctx_size : 0);
    if (k.err) return std::string("kernel test run fails: ") + strerror(k.err);

    auto ctx = make_context(type, input.data, ctx_in, false);
    auto r0 = run_in_vm(type, prog, ctx_insns, *ctx);
    if (!r0) return "VM: " + r0.error().to_string();
    auto fast_ctx = make_context(type, input.data, ctx_in, false);
    auto fast = run_in_vm(type, prog, ctx_insns, *fast_ctx, Mode::fast);
    if (!fast || *fast != *r0) return "the VM's fast and checked runs differ";
    if (static_cast<uint32_t>(*r0) != k.retval) {
        return "r0: kernel " + std::to_string(k.retval) + ", VM " +
               std::to_string(static_cast<uint32_t>(*r0));
    }
    if (ctx->data_out() != k.data_out) return "data_out differs";
    auto ctx_out = ctx->ctx_out();
    if (ctx_out.value_or(std::vector<uint8_t>{}) != k.ctx_out) return "ctx_out differs";
    return {};
}

TEST_CASE("context values match the running kernel's test runs", "[progtypes][kernel]") {
    if (!kernel_ready()) return;
    size_t compared = 0;
    std::vector<std::string> mismatches;
    for (ProgType type :
         {ProgType::socket_filter, ProgType::sched_cls, ProgType::cgroup_skb, ProgType::xdp}) {
        const ProgTypeInfo& info = *prog_type_info(type);
        const bool skb = type != ProgType::xdp;
        const int cb0 = offsetof(uapi::SkBuffMd, cb);
        for (int off = 0; off < static_cast<int>(info.ctx_size); ++off) {
            for (int size : {1, 2, 4, 8}) {
                for (Kind kind : {Kind::read, Kind::ldsx}) {
                    if (kind == Kind::ldsx && size == 8) continue;
                    const CtxAccess access =
                        info.is_valid_access(off, size, BpfAccess::read, kind == Kind::ldsx);
                    if (!access.ok || access.reg_type != CtxRegType::scalar) continue;
                    // skb types: the value into cb[0] and cb[1] (ctx_out); xdp: into R0.
                    std::vector<Insn> prog{ldx(size, 2, off, kind == Kind::ldsx)};
                    std::set<size_t> ctx_insns{0};
                    if (skb) {
                        prog.push_back(stx(4, cb0, 2));
                        prog.push_back(alu64_imm(BPF_RSH, 2, 32));
                        prog.push_back(stx(4, cb0 + 4, 2));
                        prog.push_back(mov64_imm(0, 1));
                        ctx_insns.insert({1, 3});
                    } else {
                        prog.push_back(make_insn(BPF_ALU64 | BPF_MOV | BPF_X, 0, 2, 0, 0));
                    }
                    prog.push_back(exit_insn());
                    for (const Input& input : inputs_for(type)) {
                        if (skb && !input.ctx) continue; // cb comes back only with a ctx
                        ++compared;
                        std::string diff = compare_run(type, prog, ctx_insns, input);
                        if (!diff.empty()) {
                            mismatches.push_back(std::string(info.name) + " " + kind_name(kind) +
                                                 " off=" + std::to_string(off) +
                                                 " size=" + std::to_string(size) + " on " +
                                                 input.name + ": " + diff);
                        }
                    }
                }
            }
        }
    }
    std::string report;
    for (const auto& m : mismatches)
        report += m + "\n";
    INFO(report);
    CHECK(mismatches.empty());
    SUCCEED("compared " << compared << " context reads with the kernel's test runs");
}

TEST_CASE("context writes match the running kernel's test runs", "[progtypes][kernel]") {
    if (!kernel_ready()) return;
    size_t compared = 0;
    std::vector<std::string> mismatches;
    for (ProgType type : {ProgType::socket_filter, ProgType::sched_cls, ProgType::cgroup_skb}) {
        const ProgTypeInfo& info = *prog_type_info(type);
        for (int off = 0; off < static_cast<int>(info.ctx_size); ++off) {
            for (int size : {1, 2, 4, 8}) {
                if (!info.is_valid_access(off, size, BpfAccess::write, false).ok) continue;
                // tc reads the field back into R0; the others' writable fields come back in
                // ctx_out.
                const int back = off & ~3;
                const bool read_back = type == ProgType::sched_cls &&
                                       info.is_valid_access(back, 4, BpfAccess::read, false).ok;
                for (int32_t value : {-1951535091, 5, 0xffff}) {
                    for (bool imm : {false, true}) {
                        std::vector<Insn> prog;
                        std::set<size_t> ctx_insns;
                        if (imm) {
                            prog.push_back(st(size, off, value));
                        } else {
                            prog.push_back(mov64_imm(2, value));
                            prog.push_back(stx(size, off, 2));
                        }
                        ctx_insns.insert(prog.size() - 1);
                        if (read_back) {
                            ctx_insns.insert(prog.size());
                            prog.push_back(ldx(4, 0, back));
                        } else {
                            prog.push_back(mov64_imm(0, 1));
                        }
                        prog.push_back(exit_insn());
                        for (const Input& input : inputs_for(type)) {
                            if (!input.ctx && !read_back) continue;
                            ++compared;
                            std::string diff = compare_run(type, prog, ctx_insns, input);
                            if (!diff.empty()) {
                                mismatches.push_back(
                                    std::string(info.name) + " write off=" + std::to_string(off) +
                                    " size=" + std::to_string(size) + (imm ? " imm " : " reg ") +
                                    std::to_string(value) + " on " + input.name + ": " + diff);
                            }
                        }
                    }
                }
            }
        }
    }
    std::string report;
    for (const auto& m : mismatches)
        report += m + "\n";
    INFO(report);
    CHECK(mismatches.empty());
    SUCCEED("compared " << compared << " context writes with the kernel's test runs");
}

TEST_CASE("packet programs match the running kernel's test runs", "[progtypes][kernel]") {
    if (!kernel_ready()) return;
    struct Case {
        const char* what;
        std::vector<ProgType> types;
        std::string text;
        std::set<size_t> ctx_insns;
    };
    const std::string data = std::to_string(offsetof(uapi::SkBuffMd, data));
    const std::string data_end = std::to_string(offsetof(uapi::SkBuffMd, data_end));
    const std::string sk = std::to_string(offsetof(uapi::SkBuffMd, sk));
    const std::vector<Case> cases = {
        {"len",
         {ProgType::socket_filter, ProgType::sched_cls, ProgType::sched_act},
         "r0 = *(u32 *)(r1 +0)\nexit\n",
         {0}},
        {"data_end - data",
         {ProgType::sched_cls, ProgType::sched_act},
         "r2 = *(u32 *)(r1 +" + data + ")\nr3 = *(u32 *)(r1 +" + data_end +
             ")\nr0 = r3\nr0 -= r2\nexit\n",
         {0, 1}},
        {"data_end - data",
         {ProgType::xdp},
         "r2 = *(u32 *)(r1 +0)\nr3 = *(u32 *)(r1 +4)\nr0 = r3\nr0 -= r2\nexit\n",
         {0, 1}},
        {"data - data_meta",
         {ProgType::xdp},
         "r2 = *(u32 *)(r1 +8)\nr3 = *(u32 *)(r1 +0)\nr0 = r3\nr0 -= r2\nexit\n",
         {0, 1}},
        {"data + 34 == data_end",
         {ProgType::cgroup_skb},
         "r2 = *(u32 *)(r1 +" + data + ")\nr3 = *(u32 *)(r1 +" + data_end +
             ")\nr0 = 0\nr2 += 34\nif r2 != r3 goto out\nr0 = 1\nout:\nexit\n",
         {0, 1}},
        {"a packet byte",
         {ProgType::cgroup_skb},
         "r2 = *(u32 *)(r1 +" + data + ")\nr3 = *(u32 *)(r1 +" + data_end +
             ")\nr0 = 0\nr4 = r2\nr4 += 10\nif r4 > r3 goto out\nr0 = *(u8 *)(r2 +9)\n"
             "r0 &= 1\nout:\nexit\n",
         {0, 1}},
        {"a packet write",
         {ProgType::sched_cls, ProgType::sched_act},
         "r2 = *(u32 *)(r1 +" + data + ")\nr3 = *(u32 *)(r1 +" + data_end +
             ")\nr4 = r2\nr4 += 15\nif r4 > r3 goto out\nr5 = *(u8 *)(r2 +14)\n"
             "r5 += 1\n*(u8 *)(r2 +14) = r5\nout:\nr0 = 0\nexit\n",
         {0, 1}},
        {"a packet write",
         {ProgType::xdp},
         "r2 = *(u32 *)(r1 +0)\nr3 = *(u32 *)(r1 +4)\nr4 = r2\nr4 += 15\nif r4 > r3 goto out\n"
         "*(u8 *)(r2 +14) = 0x7f\nout:\nr0 = 2\nexit\n",
         {0, 1}},
        {"sk is set",
         {ProgType::socket_filter, ProgType::sched_cls, ProgType::cgroup_skb},
         "r2 = *(u64 *)(r1 +" + sk + ")\nr0 = 0\nif r2 == 0 goto out\nr0 = 1\nout:\nexit\n",
         {0}},
        {"LD_ABS byte",
         {ProgType::socket_filter, ProgType::sched_cls},
         "r6 = r1\nr0 = *(u8 *)skb[9]\nexit\n",
         {}},
        {"LD_ABS half",
         {ProgType::socket_filter, ProgType::sched_cls},
         "r6 = r1\nr0 = *(u16 *)skb[12]\nexit\n",
         {}},
        {"LD_ABS word",
         {ProgType::socket_filter, ProgType::sched_cls},
         "r6 = r1\nr0 = *(u32 *)skb[16]\nexit\n",
         {}},
        {"LD_ABS past the end",
         {ProgType::socket_filter, ProgType::sched_cls},
         "r6 = r1\nr0 = *(u32 *)skb[40]\nexit\n",
         {}},
        {"LD_IND",
         {ProgType::socket_filter, ProgType::sched_cls},
         "r6 = r1\nr7 = 2\nr0 = *(u16 *)skb[r7 + 20]\nexit\n",
         {}},
    };
    size_t compared = 0;
    std::vector<std::string> mismatches;
    for (const Case& c : cases) {
        const auto prog = progtypes_test::asm_prog(c.text);
        for (ProgType type : c.types) {
            for (const Input& input : inputs_for(type)) {
                ++compared;
                std::string diff = compare_run(type, prog, c.ctx_insns, input);
                if (!diff.empty()) {
                    mismatches.push_back(std::string(c.what) + " (" + prog_type_info(type)->name +
                                         ") on " + input.name + ": " + diff);
                }
            }
        }
    }
    std::string report;
    for (const auto& m : mismatches)
        report += m + "\n";
    INFO(report);
    CHECK(mismatches.empty());
    SUCCEED("compared " << compared << " packet programs with the kernel's test runs");
}

TEST_CASE("raw_tracepoint arguments match the running kernel's test runs", "[progtypes][kernel]") {
    if (!kernel_ready()) return;
    uint64_t args[uapi::MAX_BPF_FUNC_ARGS];
    for (int i = 0; i < uapi::MAX_BPF_FUNC_ARGS; ++i) {
        args[i] = 0x8070605040302010ull + 0x0101010101010101ull * static_cast<uint64_t>(i);
    }
    const std::span<const uint8_t> ctx(reinterpret_cast<const uint8_t*>(args), sizeof args);
    const ProgTypeInfo& info = *prog_type_info(ProgType::raw_tracepoint);
    size_t compared = 0;
    std::vector<std::string> mismatches;
    for (int off = 0; off < static_cast<int>(info.ctx_size); ++off) {
        for (int size : {1, 2, 4, 8}) {
            for (bool sx : {false, true}) {
                if ((sx && size == 8) || !info.is_valid_access(off, size, BpfAccess::read, sx).ok) {
                    continue;
                }
                const std::vector<Insn> prog{ldx(size, 0, off, sx), exit_insn()};
                Loaded loaded;
                kernel_load(loaded, ProgType::raw_tracepoint, prog);
                REQUIRE(loaded.fd >= 0);
                const KernelRun k = kernel_run(loaded.fd, {}, ctx, 0);
                REQUIRE(k.err == 0);
                TestRunInput input;
                input.ctx = ctx;
                auto run = make_test_run_context(ProgType::raw_tracepoint, input);
                REQUIRE(run);
                auto r0 = run_in_vm(ProgType::raw_tracepoint, prog, {0}, **run);
                REQUIRE(r0);
                ++compared;
                if (static_cast<uint32_t>(*r0) != k.retval) {
                    mismatches.push_back("off=" + std::to_string(off) +
                                         " size=" + std::to_string(size) + (sx ? " ldsx" : ""));
                }
            }
        }
    }
    std::string report;
    for (const auto& m : mismatches)
        report += m + "\n";
    INFO(report);
    CHECK(mismatches.empty());
    SUCCEED("compared " << compared << " raw_tracepoint reads with the kernel's test runs");
}

// Helpers the running kernel's build may take away from a type that has them:
// bpf_probe_write_user under lockdown (integrity), bpf_override_return without
// CONFIG_BPF_KPROBE_OVERRIDE, the kernel-memory probes under lockdown (confidentiality), and
// bpf_xdp_adjust_meta, which some builds (this workplace's 6.18.44-fc) refuse to XDP.
bool config_dependent(int32_t id) {
    using H = KernelHelper;
    for (H h : {H::probe_write_user, H::override_return, H::probe_read, H::probe_read_str,
                H::probe_read_kernel, H::probe_read_kernel_str, H::xdp_adjust_meta}) {
        if (id == static_cast<int32_t>(h)) return true;
    }
    return false;
}

TEST_CASE("helper sets match the running kernel", "[progtypes][kernel]") {
    if (!kernel_ready()) return;
    size_t compared = 0, configured_away = 0;
    std::vector<std::string> mismatches;
    for (ProgType type : compared_types) {
        const ProgTypeInfo& info = *prog_type_info(type);
        for (int32_t id = 1; id <= static_cast<int32_t>(KernelHelper::cgrp_storage_delete); ++id) {
            Loaded loaded;
            kernel_load(loaded, type,
                        {make_insn(BPF_JMP | BPF_CALL, 0, 0, 0, id), mov64_imm(0, 0), exit_insn()});
            // The verifier refuses calls of helpers the type has no prototype for before it
            // looks at the arguments.
            const bool kernel_allows = loaded.log.find("cannot use helper") == std::string::npos &&
                                       loaded.log.find("unknown func") == std::string::npos &&
                                       loaded.log.find("not allowed in probe") == std::string::npos;
            ++compared;
            if (!kernel_allows && info.helper_allowed(id) && config_dependent(id)) {
                ++configured_away;
                continue;
            }
            if (kernel_allows != info.helper_allowed(id)) {
                mismatches.push_back(std::string(info.name) + " " + kernel_helper_name(id) + "#" +
                                     std::to_string(id) + ": kernel " +
                                     (kernel_allows ? "allows" : "refuses"));
            }
        }
    }
    std::string report;
    for (const auto& m : mismatches)
        report += m + "\n";
    INFO(report);
    CHECK(mismatches.empty());
    SUCCEED("compared " << compared << " helper permissions with the kernel; " << configured_away
                        << " taken away by its configuration");
}

TEST_CASE("test-run framing errors match the running kernel", "[progtypes][kernel]") {
    if (!kernel_ready()) return;
    struct Case {
        const char* what;
        ProgType type;
        size_t size;
        std::optional<std::vector<uint8_t>> ctx;
    };
    auto skb_ctx = [](auto change) {
        uapi::SkBuffMd md{};
        change(md);
        std::vector<uint8_t> bytes(sizeof md);
        std::memcpy(bytes.data(), &md, sizeof md);
        return bytes;
    };
    auto xdp_ctx = [](auto change) {
        uapi::XdpMd md{};
        md.data_end = 64;
        change(md);
        std::vector<uint8_t> bytes(sizeof md);
        std::memcpy(bytes.data(), &md, sizeof md);
        return bytes;
    };
    std::vector<uint8_t> long_ctx(sizeof(uapi::SkBuffMd) + 4, 0);
    long_ctx.back() = 1;
    std::vector<Case> cases;
    for (ProgType type : {ProgType::socket_filter, ProgType::sched_cls, ProgType::cgroup_skb}) {
        for (size_t size : {0, 13, 14, 3712, 3713})
            cases.push_back({"size", type, size, {}});
        cases.push_back({"tc_index", type, 64, skb_ctx([](auto& m) { m.tc_index = 1; })});
        cases.push_back({"data_end", type, 64, skb_ctx([](auto& m) { m.data_end = 64; })});
        cases.push_back({"short wire_len", type, 64, skb_ctx([](auto& m) { m.wire_len = 10; })});
        cases.push_back({"gso_segs", type, 64, skb_ctx([](auto& m) { m.gso_segs = 65536; })});
        cases.push_back({"gso_size", type, 64, skb_ctx([](auto& m) { m.gso_size = 9000; })});
        cases.push_back({"long ctx_in", type, 64, long_ctx});
        cases.push_back({"ifindex 1", type, 64, skb_ctx([](auto& m) { m.ifindex = 1; })});
    }
    for (size_t size : {0, 13, 14, 3520})
        cases.push_back({"size", ProgType::xdp, size, {}});
    for (uint32_t meta : {4u, 6u, 216u, 220u}) {
        cases.push_back({"metadata", ProgType::xdp, 300, xdp_ctx([meta](auto& m) {
                             m.data = meta;
                             m.data_end = 300;
                         })});
    }
    cases.push_back({"data_meta", ProgType::xdp, 64, xdp_ctx([](auto& m) { m.data_meta = 4; })});
    cases.push_back({"egress", ProgType::xdp, 64, xdp_ctx([](auto& m) { m.egress_ifindex = 1; })});
    cases.push_back({"queue", ProgType::xdp, 64, xdp_ctx([](auto& m) { m.rx_queue_index = 1; })});
    cases.push_back({"lo queue 1", ProgType::xdp, 64, xdp_ctx([](auto& m) {
                         m.ingress_ifindex = 1;
                         m.rx_queue_index = 1;
                     })});
    cases.push_back({"lo", ProgType::xdp, 64, xdp_ctx([](auto& m) { m.ingress_ifindex = 1; })});

    std::vector<std::string> mismatches;
    for (const Case& c : cases) {
        const std::vector<Insn> prog{mov64_imm(0, c.type == ProgType::xdp ? 2 : 1), exit_insn()};
        Loaded loaded;
        kernel_load(loaded, c.type, prog);
        REQUIRE(loaded.fd >= 0);
        std::vector<uint8_t> data(c.size, 0);
        if (c.size >= 14) data[12] = 0x08;
        std::optional<std::span<const uint8_t>> ctx;
        if (c.ctx) ctx = std::span<const uint8_t>(*c.ctx);
        const KernelRun k = kernel_run(loaded.fd, data, ctx, 0);
        TestRunInput input;
        input.data = data;
        input.ctx = ctx;
        auto ours = make_test_run_context(c.type, input);
        const std::string kernel = k.err ? errno_name(k.err) : "ok";
        const std::string vm = ours ? "ok" : std::string(test_run_errno(ours.error()));
        if (kernel != vm) {
            mismatches.push_back(std::string(prog_type_info(c.type)->name) + " " + c.what +
                                 " (size " + std::to_string(c.size) + "): kernel " + kernel +
                                 ", VM " + vm);
        }
    }
    std::string report;
    for (const auto& m : mismatches)
        report += m + "\n";
    INFO(report);
    CHECK(mismatches.empty());
    SUCCEED("compared " << cases.size() << " test-run inputs with the kernel");
}

} // namespace

#endif
