#include "cli/kernel_oracle.hpp"

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <regex>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace ebpf::cli {
namespace {

struct Fd {
    int fd = -1;
    explicit Fd(int f) : fd(f) {}
    Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
    Fd(const Fd&) = delete;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

std::optional<bpf_prog_type> kernel_prog_type(const std::string& name) {
    static const std::map<std::string, bpf_prog_type> types{
        {"socket_filter", BPF_PROG_TYPE_SOCKET_FILTER},   {"kprobe", BPF_PROG_TYPE_KPROBE},
        {"sched_cls", BPF_PROG_TYPE_SCHED_CLS},           {"sched_act", BPF_PROG_TYPE_SCHED_ACT},
        {"tracepoint", BPF_PROG_TYPE_TRACEPOINT},         {"xdp", BPF_PROG_TYPE_XDP},
        {"perf_event", BPF_PROG_TYPE_PERF_EVENT},         {"cgroup_skb", BPF_PROG_TYPE_CGROUP_SKB},
        {"raw_tracepoint", BPF_PROG_TYPE_RAW_TRACEPOINT},
    };
    auto it = types.find(name);
    if (it == types.end()) return std::nullopt;
    return it->second;
}

Result<Fd> create_kernel_map(const std::string& kind) {
    bpf_map_create_opts opts{};
    opts.sz = sizeof opts;
    auto make = [&](bpf_map_type t, uint32_t k, uint32_t v, uint32_t n,
                    uint32_t flags) -> Result<Fd> {
        opts.map_flags = flags;
        const int fd = bpf_map_create(t, kind.c_str(), k, v, n, &opts);
        if (fd < 0) return Error{"map " + kind + ": " + std::strerror(errno), {}};
        return Fd(fd);
    };
    if (kind == "map_hash_8b") return make(BPF_MAP_TYPE_HASH, 8, 8, 1, BPF_F_NO_PREALLOC);
    if (kind == "map_hash_16b") return make(BPF_MAP_TYPE_HASH, 8, 16, 1, BPF_F_NO_PREALLOC);
    if (kind == "map_hash_48b") return make(BPF_MAP_TYPE_HASH, 8, 48, 1, BPF_F_NO_PREALLOC);
    if (kind == "map_array_48b" || kind == "map_array_ro" || kind == "map_array_wo") {
        const uint32_t flags = kind == "map_array_ro"   ? BPF_F_RDONLY_PROG
                               : kind == "map_array_wo" ? BPF_F_WRONLY_PROG
                                                        : 0;
        auto fd = make(BPF_MAP_TYPE_ARRAY, 4, 48, 1, flags);
        if (!fd) return fd;
        uint8_t value[48] = {};
        const uint32_t index = 28, foo6 = 0xabcdef12, key = 0;
        std::memcpy(value, &index, 4);
        std::memcpy(value + 4 + 6 * 4, &foo6, 4);
        bpf_map_update_elem(fd->fd, &key, value, BPF_ANY);
        return fd;
    }
    if (kind == "map_array_small") return make(BPF_MAP_TYPE_ARRAY, 4, 1, 1, 0);
    if (kind == "map_ringbuf") return make(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0);
    if (kind == "map_event_output") return make(BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 1, 0);
    return Error{"map kind " + kind +
                     " is not reproduced in the kernel (prog arrays, map-in-map and BTF maps)",
                 {}};
}

// BPF_PROG_LOAD with the statistics log; a refused program is loaded again for its error lines.
struct Load {
    int prog = -1;
    int error = 0; // errno
    std::string log;
};
Load load_program(bpf_prog_type type, const std::vector<Insn>& insns, uint32_t flags) {
    Load l;
    for (const uint32_t level : {4u, 1u | 4u}) {
        std::string log(1 << 20, '\0');
        bpf_prog_load_opts opts{};
        opts.sz = sizeof opts;
        opts.log_buf = log.data();
        opts.log_size = static_cast<uint32_t>(log.size());
        opts.log_level = level;
        opts.prog_flags = flags;
        l.prog =
            bpf_prog_load(type, nullptr, "GPL", reinterpret_cast<const bpf_insn*>(insns.data()),
                          insns.size(), &opts);
        l.error = errno;
        log.resize(std::strlen(log.c_str()));
        l.log = log;
        if (l.prog >= 0 || l.error == EPERM) break;
    }
    return l;
}

// load_program in a child process that has dropped to nobody; the outcome comes back on a pipe
// (the program itself, loaded there, is not needed here).
Load load_unprivileged(bpf_prog_type type, const std::vector<Insn>& insns, uint32_t flags) {
    int fds[2];
    if (pipe(fds) != 0) return Load{-1, errno, "pipe failed"};
    const pid_t child = fork();
    if (child == 0) {
        ::close(fds[0]);
        Load l{-1, EPERM, "could not drop privileges"};
        if (setresgid(65534, 65534, 65534) == 0 && setresuid(65534, 65534, 65534) == 0)
            l = load_program(type, insns, flags);
        const int head[2] = {l.prog >= 0 ? 1 : 0, l.error};
        if (write(fds[1], head, sizeof head) == sizeof head)
            (void)!write(fds[1], l.log.data(), l.log.size());
        _exit(0);
    }
    ::close(fds[1]);
    Load l;
    int head[2] = {0, EIO};
    if (read(fds[0], head, sizeof head) == sizeof head) {
        char buf[4096];
        for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;)
            l.log.append(buf, static_cast<size_t>(n));
    }
    ::close(fds[0]);
    waitpid(child, nullptr, 0);
    l.prog = head[0] ? 0 : -1; // 0: accepted (no fd in this process)
    l.error = head[1];
    return l;
}

} // namespace

Result<KernelOutcome> run_in_kernel(const KernelCase& c, bool unprivileged) {
    const auto type = kernel_prog_type(c.prog_type_name);
    if (!type)
        return Error{"program type " + c.prog_type_name + " is not loaded in the kernel here", {}};
    std::vector<Insn> insns = c.insns;
    std::vector<Fd> maps;
    for (const auto& [kind, indices] : c.fixups) {
        auto fd = create_kernel_map(kind);
        if (!fd) return fd.error();
        for (uint32_t at : indices) {
            if (at >= insns.size()) return Error{"fixup past the program", {}};
            insns[at].imm = fd->fd;
            insns[at].src = BPF_PSEUDO_MAP_FD;
        }
        maps.push_back(std::move(*fd));
    }
    uint32_t flags = 0;
    if (c.test_flags & 2) flags |= BPF_F_STRICT_ALIGNMENT;
    if (c.test_flags & 8) flags |= BPF_F_TEST_STATE_FREQ;
    const Load l =
        unprivileged ? load_unprivileged(*type, insns, flags) : load_program(*type, insns, flags);
    if (l.prog < 0 && l.error == EPERM && l.log.empty())
        return Error{unprivileged ? "unprivileged bpf() is not permitted "
                                    "(kernel.unprivileged_bpf_disabled must be 0)"
                                  : "bpf() is not permitted (run as root)",
                     {}};
    KernelOutcome out;
    out.verdict = l.prog >= 0 ? "accept" : "reject";
    if (l.prog < 0) out.message = kernel_error_line(l.log);
    std::smatch m;
    if (std::regex_search(l.log, m, std::regex(R"(processed (\d+) insns)")))
        out.insns_processed = std::stoull(m[1]);
    if (l.prog >= 0 && !unprivileged) {
        Fd p(l.prog);
        std::vector<uint8_t> data = c.data;
        bpf_test_run_opts run{};
        run.sz = sizeof run;
        run.data_in = data.data();
        run.data_size_in = static_cast<uint32_t>(data.size());
        run.repeat = 1;
        if (bpf_prog_test_run_opts(p.fd, &run) == 0) out.retval = run.retval;
    }
    return out;
}

} // namespace ebpf::cli
