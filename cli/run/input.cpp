#include "cli/run/input.hpp"

#include "cli/io.hpp"
#include "vm/progtypes/uapi.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace ebpf::cli::run {
namespace {

// struct pt_regs field names in memory order: x86-64's (asm/ptrace.h), arm64's user_pt_regs.
constexpr std::array<const char*, 21> x86_64_regs = {
    "r15", "r14", "r13", "r12", "rbp",      "rbx", "r11", "r10",    "r9",  "r8", "rax",
    "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs",  "eflags", "rsp", "ss"};
static_assert(x86_64_regs.size() * 8 == sizeof(uapi::PtRegsX86_64));

std::optional<size_t> reg_index(std::string_view name) {
    if constexpr (host_regs_arch == RegsArch::arm64) {
        if (name == "sp") return 31;
        if (name == "pc") return 32;
        if (name == "pstate") return 33;
        if (name.size() >= 2 && name[0] == 'x') {
            const std::string digits(name.substr(1));
            char* end = nullptr;
            const unsigned long n = std::strtoul(digits.c_str(), &end, 10);
            if (*end == 0 && n <= 30 && digits.size() <= 2) return n;
        }
    } else {
        for (size_t i = 0; i < x86_64_regs.size(); ++i)
            if (name == x86_64_regs[i]) return i;
    }
    return std::nullopt;
}

std::optional<uint64_t> parse_number(const std::string& text) {
    if (text.empty()) return std::nullopt;
    errno = 0;
    char* end = nullptr;
    const uint64_t v = text[0] == '-' ? static_cast<uint64_t>(std::strtoll(text.c_str(), &end, 0))
                                      : std::strtoull(text.c_str(), &end, 0);
    if (errno || *end) return std::nullopt;
    return v;
}

// --regs rdi=1,rsi=0x10: a pt_regs image with the named registers set.
OrFailure<std::vector<uint8_t>> regs_image(const std::string& spec) {
    const size_t nregs = host_regs_arch == RegsArch::arm64 ? 34 : x86_64_regs.size();
    std::vector<uint64_t> regs(nregs, 0);
    size_t start = 0;
    while (start <= spec.size()) {
        const size_t comma = std::min(spec.find(',', start), spec.size());
        const std::string item = spec.substr(start, comma - start);
        start = comma + 1;
        const size_t eq = item.find('=');
        if (eq == std::string::npos)
            return Failure{Exit::usage, "--regs: '" + item + "' is not NAME=VALUE"};
        const auto index = reg_index(item.substr(0, eq));
        if (!index)
            return Failure{Exit::usage, "--regs: no register '" + item.substr(0, eq) +
                                            "' in this architecture's pt_regs"};
        const auto value = parse_number(item.substr(eq + 1));
        if (!value)
            return Failure{Exit::usage, "--regs: '" + item.substr(eq + 1) + "' is not a number"};
        regs[*index] = *value;
    }
    std::vector<uint8_t> image(nregs * 8);
    std::memcpy(image.data(), regs.data(), image.size());
    return image;
}

} // namespace

OrFailure<std::vector<uint8_t>> read_bytes(const std::string& option, const std::string& path) {
    auto bytes = read_file(path);
    if (!bytes) return Failure{Exit::usage, option + " " + bytes.error().to_string()};
    return std::move(*bytes);
}

bool takes_packet(ProgType type) {
    switch (type) {
    case ProgType::xdp:
    case ProgType::sched_cls:
    case ProgType::sched_act:
    case ProgType::socket_filter:
    case ProgType::cgroup_skb: return true;
    default: return false;
    }
}

bool sees_l2(ProgType type) {
    return type == ProgType::xdp || type == ProgType::sched_cls || type == ProgType::sched_act;
}

std::vector<uint8_t> unchanged_packet(ProgType type, std::vector<uint8_t> packet) {
    if (!sees_l2(type))
        std::fill_n(packet.begin(), std::min<size_t>(packet.size(), uapi::eth_hlen), 0);
    return packet;
}

OrFailure<std::vector<uint8_t>> read_input(const Options& o, const Target& t) {
    if (!t.prog) {
        if (!o.ctx.empty() || !o.regs.empty() || !o.pcap.empty())
            return Failure{Exit::usage, "raw bytecode without --type has no context: give it "
                                        "memory with --mem, or a type with --type"};
        if (o.mem.empty()) return std::vector<uint8_t>{};
        return read_bytes("--mem", o.mem);
    }
    const char* type = t.type_info()->name;
    if (!o.mem.empty())
        return Failure{Exit::usage, std::string("--mem is for raw bytecode without --type; a ") +
                                        type + " program takes --ctx"};
    const bool packet = takes_packet(t.prog->type);
    if (!o.regs.empty()) {
        if (t.prog->type != ProgType::kprobe && t.prog->type != ProgType::perf_event)
            return Failure{Exit::usage, std::string("--regs is for kprobe and perf_event "
                                                    "programs; a ") +
                                            type + " program takes --ctx"};
        return regs_image(o.regs);
    }
    if (!o.pcap.empty()) {
        if (!packet)
            return Failure{Exit::usage, std::string("--pcap needs a program that takes packets; "
                                                    "a ") +
                                            type + " program takes --ctx"};
        return std::vector<uint8_t>{};
    }
    if (o.ctx.empty()) {
        if (packet)
            return Failure{Exit::usage, std::string("a ") + type +
                                            " program needs a packet: --ctx FILE or --pcap FILE"};
        return std::vector<uint8_t>{}; // a zeroed context
    }
    return read_bytes("--ctx", o.ctx);
}

OrFailure<std::optional<std::vector<uint8_t>>> read_ctx_in(const Options& o, const Target& t) {
    if (o.ctx_in.empty()) return std::optional<std::vector<uint8_t>>();
    if (!t.prog || !takes_packet(t.prog->type))
        return Failure{Exit::usage, "--ctx-in is for xdp, tc, socket_filter and cgroup_skb "
                                    "programs, whose --ctx is the packet"};
    auto bytes = read_bytes("--ctx-in", o.ctx_in);
    if (auto* f = std::get_if<Failure>(&bytes)) return *f;
    return std::optional(std::move(std::get<std::vector<uint8_t>>(bytes)));
}

OrFailure<std::unique_ptr<RunContext>>
make_context(const Target& t, std::span<const uint8_t> input,
             const std::optional<std::vector<uint8_t>>& ctx_in) {
    TestRunInput in;
    if (takes_packet(t.prog->type)) {
        in.data = input;
        if (ctx_in) in.ctx = std::span<const uint8_t>(*ctx_in);
    } else if (!input.empty()) {
        in.ctx = input;
    }
    // Tracepoint records and raw_tracepoint arguments must cover what a verified program reads.
    if (t.prog->verified) in.max_ctx_offset = t.prog->verdict.max_ctx_offset;
    auto ctx = make_test_run_context(t.prog->type, in);
    if (!ctx) return Failure{Exit::usage, ctx.error().to_string()};
    return std::move(*ctx);
}

} // namespace ebpf::cli::run
