// Whether the running kernel gives a program type a helper. Kernel builds differ from mainline
// Linux in what they offer: the configuration takes helpers away (lockdown, no
// CONFIG_BPF_KPROBE_OVERRIDE), and some builds refuse helpers mainline gives (this workplace's
// 6.18.44-fc refuses bpf_xdp_adjust_meta to XDP programs). The kernel comparisons ask with this
// before they hold this VM, which follows mainline, to the kernel's answer for such a helper.
// Linux only, and only for a process that may load programs.
#pragma once

#include <bpf/bpf.h>
#include <unistd.h>

#include <map>
#include <string>
#include <utility>

namespace kernel_probe {

inline bool kernel_offers_helper(bpf_prog_type type, int helper) {
    static std::map<std::pair<int, int>, bool> known;
    const auto key = std::pair{static_cast<int>(type), helper};
    if (auto it = known.find(key); it != known.end()) return it->second;
    // call helper; r0 = 0; exit: the verifier refuses a helper the type has no prototype for
    // before it looks at the arguments, so the message tells the two refusals apart.
    const bpf_insn prog[] = {{BPF_JMP | BPF_CALL, 0, 0, 0, helper},
                             {BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0},
                             {BPF_JMP | BPF_EXIT, 0, 0, 0, 0}};
    std::string log(1 << 16, '\0');
    LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_level = 1,
                .log_size = static_cast<__u32>(log.size()), .log_buf = log.data());
    const int fd = bpf_prog_load(type, "probe", "GPL", prog, 3, &opts);
    if (fd >= 0) close(fd);
    const bool offered = fd >= 0 || (log.find("cannot use helper") == std::string::npos &&
                                     log.find("unknown func") == std::string::npos);
    known[key] = offered;
    return offered;
}

} // namespace kernel_probe
