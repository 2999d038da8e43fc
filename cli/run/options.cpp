#include "cli/run/options.hpp"

#include "helpers/memory_image.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <iostream>
#include <thread>
#include <tuple>

namespace po = boost::program_options;

namespace ebpf::cli::run {
namespace {

constexpr const char* usage_line = "Usage: ebpf-run OBJECT [options]";

constexpr const char* intro = R"(
Loads an eBPF program (an ELF object built with `clang -O2 -g -target bpf`, or raw bytecode),
verifies it as the Linux kernel would, runs it on the input you give, and says what happened:
the verdict, r0 and its meaning, the packet it changed, its trace_printk lines and ringbuf/perf
records, and the maps it changed.)";

constexpr const char* epilogue = R"(Exit codes:
  0  the program ran (or --list, --help, --verify-only on an accepted program)
  1  the verifier rejected the program
  2  bad usage: unknown option, wrong --type, unreadable --ctx/--map-init/--pcap file, a
     packet the program type cannot take (shorter than an Ethernet header, ...)
  3  OBJECT could not be loaded (the message names the section or offset at fault)
  4  a runtime fault (checked mode, a helper's fault) or an exhausted instruction budget

Examples:
  ebpf-run xdp_firewall.o --ctx packet.bin --map-init rules.json
  ebpf-run xdp_firewall.o --pcap traffic.pcapng --pcap-out passed.pcap
  ebpf-run socket_counter.o --ctx packet.bin --json
  ebpf-run kprobe_sendmsg.o --regs rdx=1500 --dump-maps
  ebpf-run tc_rewriter.o --verify-only --log-level 2
  ebpf-run prog.bin --mem input.bin            raw bytecode: r1 = the memory, r2 = its size
)";

// The host's CPU count, at least 1.
uint32_t host_cpus() {
    const unsigned n = std::thread::hardware_concurrency();
    return n ? n : 1;
}

// "0xffffffff81000010,4198710": addresses in hex (0x) or decimal, innermost frame first.
bool parse_callchain(const std::string& text, std::vector<uint64_t>& chain) {
    size_t at = 0;
    while (at <= text.size()) {
        const size_t end = std::min(text.find(',', at), text.size());
        const std::string item = text.substr(at, end - at);
        size_t used = 0;
        try {
            chain.push_back(std::stoull(item, &used, 0));
        } catch (const std::exception&) {
            return false;
        }
        if (used != item.size() || item.empty() || item[0] == '-') return false;
        at = end + 1;
    }
    return true;
}

} // namespace

std::variant<Options, Failure> parse_options(int argc, const char* const* argv) {
    Options o;
    o.cpus = host_cpus();
    std::string engine, kstack, ustack, task_struct;
    std::vector<std::string> kmem, umem;

    // Each description ends with an example; the help text is the manual.
    po::options_description program("Which program", 100, 40);
    program.add_options() //
        ("program,p", po::value(&o.program)->value_name("NAME"),
         "run the program (function) NAME; default: the object's first program. "
         "Example: --program xdp_firewall") //
        ("section,s", po::value(&o.section)->value_name("SEC"),
         "run the first program of ELF section SEC. Example: --section tc") //
        ("list,l", po::bool_switch(&o.list),
         "list the object's programs (name, section, type, size, verdict) and maps, then exit. "
         "Example: ebpf-run prog.o --list") //
        ("raw", po::bool_switch(&o.raw),
         "OBJECT is raw bytecode (8-byte instructions, as `llvm-objcopy -O binary "
         "--only-section=.text` writes them); implied by a .bin name. Example: --raw --type xdp") //
        ("type,t", po::value<std::string>()->value_name("TYPE"),
         "program type of raw bytecode, or of ELF sections whose name gives none: xdp, "
         "sched_cls (tc), sched_act, socket_filter (socket), cgroup_skb, kprobe, tracepoint, "
         "raw_tracepoint, perf_event. Without it raw bytecode runs unverified on --mem. "
         "Example: --type xdp");

    po::options_description checks("Verification and engine", 100, 40);
    checks.add_options() //
        ("no-verify", "do not require the verifier's approval: the program runs in the "
                      "interpreter's checked mode, which bounds-checks every access and counts "
                      "instructions. Example: --no-verify --budget 1000") //
        ("verify-only", po::bool_switch(&o.verify_only),
         "load and verify, do not run: exit 0 when accepted, 1 when rejected. "
         "Example: --verify-only --json") //
        ("log-level", po::value(&o.log_level)->value_name("1|2"),
         "print the verifier log in the kernel's format: 1 each instruction, 2 with the "
         "register states. Example: --log-level 2") //
        ("engine,e", po::value(&engine)->value_name("interp|jit"),
         "interp: the interpreter; jit: native code (x86-64, verified programs). Default: the "
         "JIT where it can run the program. Example: --engine interp") //
        ("budget", po::value(&o.budget)->value_name("N"),
         "checked mode: stop with exit code 4 after N instructions (default 10000000). "
         "Example: --budget 100000") //
        ("btf", po::value(&o.btf)->value_name("FILE"),
         "the BTF that CO-RE relocations resolve against: raw BTF or an ELF file with .BTF. "
         "Default: /sys/kernel/btf/vmlinux when it exists, else the object's own BTF (the "
         "program keeps its compiled offsets). Example: --btf vmlinux-5.15.btf") //
        ("kconfig", po::value(&o.kconfig)->value_name("FILE"),
         "values of __kconfig externs, in .config syntax (CONFIG_X=y, CONFIG_HZ=250, "
         "CONFIG_S=\"text\"; gzip allowed), before the running kernel's "
         "(/boot/config-$(uname -r), /proc/config.gz); also libbpf's LINUX_KERNEL_VERSION, "
         "LINUX_HAS_BPF_COOKIE, LINUX_HAS_SYSCALL_WRAPPER. Example: --kconfig config.txt");

    po::options_description input("Input (by program type)", 100, 40);
    input.add_options() //
        ("ctx,c", po::value(&o.ctx)->value_name("FILE"),
         "xdp, tc, socket_filter, cgroup_skb: the packet, from its Ethernet header, framed as "
         "the kernel's test run frames it; tracepoint: the raw record; raw_tracepoint: the u64 "
         "arguments; kprobe: a struct pt_regs image; perf_event: a bpf_perf_event_data image. "
         "Example: --ctx packet.bin") //
        ("ctx-in", po::value(&o.ctx_in)->value_name("FILE"),
         "xdp, tc, socket_filter, cgroup_skb: the context the run starts from, a struct "
         "__sk_buff or struct xdp_md image as BPF_PROG_TEST_RUN's ctx_in takes it (mark, "
         "priority, cb, ...; XDP ingress_ifindex, rx_queue_index); the context the program leaves "
         "is shown. Example: --ctx-in skb.bin") //
        ("regs", po::value(&o.regs)->value_name("R=V,..."),
         "kprobe, perf_event: build pt_regs from register names (x86-64: rdi rsi rdx rcx r8 r9 "
         "rax rbx rbp rsp rip r10-r15 ...; arm64: x0-x30 sp pc pstate), unnamed ones zero. "
         "Example: --regs rdi=1,rsi=0x10") //
        ("mem", po::value(&o.mem)->value_name("FILE"),
         "raw bytecode without --type: writable memory with r1 = its address, r2 = its size. "
         "Example: --mem input.bin") //
        ("pcap", po::value(&o.pcap)->value_name("FILE"),
         "run once per packet of a capture (pcap or pcapng, Ethernet) and print a histogram "
         "of return codes. Example: --pcap traffic.pcapng") //
        ("pcap-out", po::value(&o.pcap_out)->value_name("FILE"),
         "with --pcap: write the packets the program passed, as it left them, to a pcap "
         "file. Passed: XDP_PASS/TX/REDIRECT; tc anything but TC_ACT_SHOT/STOLEN/QUEUED/TRAP; "
         "socket_filter r0 > 0 (cut to r0 bytes past the Ethernet header); cgroup_skb bit 0 "
         "set. "
         "Example: --pcap in.pcap --pcap-out passed.pcap") //
        ("kmem", po::value(&kmem)->value_name("ADDR=FILE")->composing(),
         "kernel memory for bpf_probe_read_kernel, bpf_probe_read and printk's %s: the file's "
         "bytes at ADDR (from 0xffff800000000000); may be given again. Reads of bytes no --kmem "
         "holds fail with -EFAULT, as of unmapped memory. "
         "Example: --kmem 0xffff888000100000=task.bin") //
        ("umem", po::value(&umem)->value_name("ADDR=FILE")->composing(),
         "user memory for bpf_probe_read_user: the file's bytes at ADDR (below "
         "0x00007ffffffff000); may be given again. Example: --umem 0x7f0000001000=buf.bin") //
        ("task-struct", po::value(&task_struct)->value_name("ADDR"),
         "what bpf_get_current_task answers: the task_struct's address, typically in a --kmem "
         "image (default 0: no task_struct). Example: --task-struct 0xffff888000100000") //
        ("kstack", po::value(&kstack)->value_name("IP,..."),
         "the kernel call chain the probe fired in, innermost frame first, for "
         "bpf_get_stackid and bpf_get_stack (default: none, as in a probe with no stack: "
         "bpf_get_stackid answers -EFAULT, bpf_get_stack copies nothing, or -EFAULT with a skip). "
         "Example: --kstack 0xffffffff81000010,0xffffffff81000020") //
        ("ustack", po::value(&ustack)->value_name("IP,..."),
         "the same for the user stack (BPF_F_USER_STACK). Example: --ustack 0x401136,0x401200");

    po::options_description state("Maps and CPUs", 100, 40);
    state.add_options() //
        ("map-init", po::value(&o.map_init)->value_name("FILE.json"),
         "preload map entries before the run; keys and values are hex bytes in memory order: "
         R"({"MAP": [{"key": HEX, "value": HEX} | {"key": HEX, "values": [HEX per CPU]} | )"
         R"({"key": HEX, "prog": "PROGRAM"} | {"key": HEX, "inner": "MAP"} | {"value": HEX}]}. )"
         "The last form pushes onto a queue or stack; one value for a per-CPU map goes to "
         "every CPU; MAP may be a global-data section (.bss, .data, .rodata). "
         "Example: --map-init rules.json") //
        ("dump-maps", po::bool_switch(&o.dump_maps),
         "after the run show every map, not only those the run changed. "
         "Example: --dump-maps") //
        ("cpus", po::value(&o.cpus)->value_name("N"),
         "slots of per-CPU maps (default: the host's CPU count). Example: --cpus 4") //
        ("cpu", po::value(&o.cpu)->value_name("K"),
         "the CPU the program runs as (bpf_get_smp_processor_id, per-CPU maps), default 0. "
         "Example: --cpu 2");

    po::options_description output("Output", 100, 40);
    output.add_options() //
        ("json,j", po::bool_switch(&o.json),
         "print one JSON object (schema in README.md) instead of the summary. "
         "Example: --json | jq .r0") //
        ("disasm,d", po::bool_switch(&o.disasm),
         "print the program in the kernel's instruction syntax, with its C source lines from "
         "BTF line info. Example: --disasm") //
        ("dump-jit", po::bool_switch(&o.dump_jit),
         "print the JIT's machine code, each block under its BPF instruction. "
         "Example: --dump-jit") //
        ("cfg", po::value(&o.cfg)->value_name("FILE.dot"),
         "write the control-flow graph in Graphviz syntax (basic blocks, true/false edges, "
         "one cluster per subprogram). Example: --cfg prog.dot && dot -Tsvg prog.dot") //
        ("repeat,r", po::value(&o.repeat)->value_name("N"),
         "run N times and report the median and spread of ns per run and per instruction (fast "
         "runs count nothing: one more run, in checked mode, counts the instructions); a "
         "progress bar on a terminal when it takes over a second. Example: --repeat 100000") //
        ("help,h", "print this help");

    po::options_description hidden;
    hidden.add_options()("object", po::value(&o.object));
    po::options_description visible;
    visible.add(program).add(checks).add(input).add(state).add(output);
    po::options_description all;
    all.add(visible).add(hidden);
    po::positional_options_description positional;
    positional.add("object", 1);

    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(),
                  vm);
        po::notify(vm);
    } catch (const po::error& e) {
        return Failure{Exit::usage, std::string(e.what()) + " (see ebpf-run --help)"};
    }
    if (vm.count("help")) {
        std::cout << usage_line << "\n" << intro << "\n" << visible << "\n" << epilogue;
        return Failure{Exit::ran, ""};
    }

    const auto usage = [](std::string message) {
        return Failure{Exit::usage, std::move(message) + " (see ebpf-run --help)"};
    };
    if (o.object.empty()) return usage("no OBJECT given");
    o.verify = !vm.count("no-verify");
    if (vm.count("type")) o.type = vm["type"].as<std::string>();
    if (!engine.empty()) {
        if (engine == "interp")
            o.engine = EngineKind::interp;
        else if (engine == "jit")
            o.engine = EngineKind::jit;
        else
            return usage("--engine must be interp or jit, not '" + engine + "'");
    }
    if (vm.count("log-level") && (o.log_level < 1 || o.log_level > 2))
        return usage("--log-level must be 1 or 2");
    // The kernel's CONFIG_NR_CPUS goes up to 8192.
    if (o.cpus == 0 || o.cpus > 8192) return usage("--cpus must be 1 to 8192");
    if (o.cpu >= o.cpus)
        return usage("--cpu " + std::to_string(o.cpu) + " is not below --cpus " +
                     std::to_string(o.cpus));
    if (vm.count("repeat") && o.repeat == 0) return usage("--repeat must be at least 1");
    if (o.budget == 0) return usage("--budget must be at least 1");
    if (!o.program.empty() && !o.section.empty())
        return usage("--program and --section both pick the program: give one");
    if (!o.pcap_out.empty() && o.pcap.empty()) return usage("--pcap-out needs --pcap");
    if (!o.pcap.empty() && (!o.ctx.empty() || !o.mem.empty() || !o.regs.empty()))
        return usage("--pcap gives the packets: drop --ctx, --mem and --regs");
    if (!o.pcap.empty() && vm.count("repeat"))
        return usage("--pcap runs once per packet: drop --repeat");
    if (!o.ctx.empty() && !o.regs.empty()) return usage("give --ctx or --regs, not both");
    for (auto [text, chain, name] :
         {std::tuple{&kstack, &o.kstack, "--kstack"}, std::tuple{&ustack, &o.ustack, "--ustack"}}) {
        if (text->empty()) continue;
        if (!parse_callchain(*text, *chain))
            return usage(std::string(name) + " takes addresses separated by commas, not '" + *text +
                         "'");
    }
    // Kernel memory from the start of x86-64's upper half, user memory below TASK_SIZE.
    constexpr uint64_t kernel_start = 0xffff800000000000;
    using helpers::task_size;
    for (auto [specs, files, name, kernel] : {std::tuple{&kmem, &o.kmem, "--kmem", true},
                                              std::tuple{&umem, &o.umem, "--umem", false}}) {
        for (const std::string& spec : *specs) {
            const size_t eq = spec.find('=');
            std::vector<uint64_t> addr;
            if (eq == std::string::npos || eq + 1 == spec.size() ||
                !parse_callchain(spec.substr(0, eq), addr) || addr.size() != 1)
                return usage(std::string(name) + " takes ADDR=FILE, not '" + spec + "'");
            if (kernel ? addr[0] < kernel_start : addr[0] >= task_size)
                return usage(std::string(name) + " " + spec.substr(0, eq) + ": not a " +
                             (kernel ? "kernel address (from 0xffff800000000000)"
                                     : "user address (below 0x00007ffffffff000)"));
            files->push_back({addr[0], spec.substr(eq + 1)});
        }
    }
    if (!task_struct.empty()) {
        std::vector<uint64_t> addr;
        if (!parse_callchain(task_struct, addr) || addr.size() != 1)
            return usage("--task-struct takes an address, not '" + task_struct + "'");
        o.task_struct = addr[0];
    }
    return o;
}

} // namespace ebpf::cli::run
