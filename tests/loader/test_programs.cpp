// Programs: section to program type, several programs per section, .text subprograms linked into
// each program that calls them, bpf_loop callbacks, and BTF.ext func/line info.
#include "tests/loader/loader_test.hpp"

#include <fstream>
#include <tuple>

using namespace ebpf;
using namespace ebpf::loader_test;

namespace {

std::vector<size_t> pseudo_calls(const ProgramSpec& prog) {
    std::vector<size_t> calls;
    for (size_t i = 0; i < prog.insns.size(); i++)
        if (prog.insns[i].opcode == (BPF_JMP | BPF_CALL) && prog.insns[i].src == BPF_PSEUDO_CALL)
            calls.push_back(i);
    return calls;
}

std::string source_line(const std::string& file, uint32_t number) {
    std::ifstream in(file);
    std::string line;
    for (uint32_t i = 0; i < number && std::getline(in, line); i++) {
    }
    return line;
}

} // namespace

TEST_CASE("programs: names, sections, types and order", "[loader]") {
    const Object obj = load("programs");
    CHECK(obj.name == "programs");
    CHECK(obj.license == "Dual BSD/GPL");
    CHECK(obj.kernel_version == 0x050f00);
    CHECK(obj.maps.empty());

    struct Expected {
        const char* name;
        const char* section;
        ProgType type;
        size_t insns;
    };
    const std::vector<Expected> expected = {
        {"xdp_first", "xdp", ProgType::xdp, 9 + 3 + 3}, // + add_one + twice
        {"xdp_second", "xdp", ProgType::xdp, 6},
        {"tc_prog", "tc", ProgType::sched_cls, 8 + 3 + 3},          // + twice + add_one
        {"socket_prog", "socket", ProgType::socket_filter, 12 + 5}, // + sum_index
        {"kprobe_prog", "kprobe/do_unlinkat", ProgType::kprobe, 2},
        {"tracepoint_prog", "tracepoint/syscalls/sys_enter_openat", ProgType::tracepoint, 2},
        {"egress_prog", "cgroup_skb/egress", ProgType::cgroup_skb, 2},
        {"custom_prog", "my_custom_section", ProgType::unspec, 2},
    };
    REQUIRE(obj.programs.size() == expected.size());
    for (size_t i = 0; i < expected.size(); i++) {
        INFO(expected[i].name);
        CHECK(obj.programs[i].name == expected[i].name);
        CHECK(obj.programs[i].section == expected[i].section);
        CHECK(obj.programs[i].type == expected[i].type);
        CHECK(obj.programs[i].insns.size() == expected[i].insns);
    }
}

TEST_CASE("programs: .text subprograms are appended once and calls land on them", "[loader]") {
    const Object obj = load("programs");

    // xdp_first calls the global add_one, which calls the static twice.
    const ProgramSpec& first = program(obj, "xdp_first");
    REQUIRE(pseudo_calls(first) == std::vector<size_t>{1, 9});
    CHECK(target_of(first, 1) == 9);
    CHECK(function_at(first, 9) == "add_one");
    CHECK(target_of(first, 9) == 12);
    CHECK(function_at(first, 12) == "twice");

    // tc_prog calls twice first (a static call through the .text section symbol), then
    // add_one, whose own call reuses the copy of twice already appended.
    const ProgramSpec& tc = program(obj, "tc_prog");
    REQUIRE(pseudo_calls(tc) == std::vector<size_t>{2, 5, 11});
    CHECK(function_at(tc, target_of(tc, 2)) == "twice");
    CHECK(target_of(tc, 2) == 8);
    CHECK(function_at(tc, target_of(tc, 5)) == "add_one");
    CHECK(target_of(tc, 5) == 11);
    CHECK(target_of(tc, 11) == 8);

    // The appended code is the .text function's: twice is r0 = r1; r0 <<= 1; exit.
    for (const auto* prog : {&first, &tc}) {
        const size_t at = prog == &first ? 12 : 8;
        CHECK(prog->insns[at].opcode == (BPF_ALU64 | BPF_MOV | BPF_X));
        CHECK(prog->insns[at + 1].opcode == (BPF_ALU64 | BPF_LSH | BPF_K));
        CHECK(prog->insns[at + 1].imm == 1);
        CHECK(prog->insns[at + 2].opcode == (BPF_JMP | BPF_EXIT));
    }

    // A program that calls nothing gets nothing appended.
    CHECK(pseudo_calls(program(obj, "xdp_second")).empty());
}

TEST_CASE("programs: a bpf_loop callback becomes a BPF_PSEUDO_FUNC lddw", "[loader]") {
    const Object obj = load("programs");
    const ProgramSpec& prog = program(obj, "socket_prog");
    std::vector<size_t> funcs;
    for (size_t i = 0; i < prog.insns.size(); i++)
        if (prog.insns[i].opcode == BPF_LDDW && prog.insns[i].src == BPF_PSEUDO_FUNC)
            funcs.push_back(i);
    REQUIRE(funcs == std::vector<size_t>{6});
    CHECK(prog.insns[7].imm == 0);
    CHECK(target_of(prog, 6) == 12);
    CHECK(function_at(prog, 12) == "sum_index");
    // bpf_loop is helper 181, right after the callback's address is loaded.
    CHECK(prog.insns[9].opcode == (BPF_JMP | BPF_CALL));
    CHECK(prog.insns[9].src == 0);
    CHECK(prog.insns[9].imm == 181);
}

TEST_CASE("programs: func info is rebased on each linked program", "[loader]") {
    const Object obj = load("programs");
    auto names = [](const ProgramSpec& p) {
        std::vector<std::pair<uint32_t, std::string>> v;
        for (const auto& f : p.func_info)
            v.emplace_back(f.insn, f.name);
        return v;
    };
    using V = std::vector<std::pair<uint32_t, std::string>>;
    CHECK(names(program(obj, "xdp_first")) == V{{0, "xdp_first"}, {9, "add_one"}, {12, "twice"}});
    CHECK(names(program(obj, "tc_prog")) == V{{0, "tc_prog"}, {8, "twice"}, {11, "add_one"}});
    CHECK(names(program(obj, "socket_prog")) == V{{0, "socket_prog"}, {12, "sum_index"}});
    CHECK(names(program(obj, "xdp_second")) == V{{0, "xdp_second"}});
    for (const auto& prog : obj.programs)
        for (const auto& f : prog.func_info)
            CHECK(f.type_id != 0);
}

TEST_CASE("programs: line info names the source line of each instruction", "[loader]") {
    const Object obj = load("programs");
    for (const auto& prog : obj.programs) {
        INFO(prog.name);
        REQUIRE_FALSE(prog.line_info.empty());
        CHECK(prog.line_info.front().insn == 0);
        uint32_t last = 0;
        for (const auto& line : prog.line_info) {
            CHECK(line.insn >= last);
            CHECK(line.insn < prog.insns.size());
            last = line.insn;
            CHECK(line.file.ends_with("programs.c"));
            CHECK(source_line(line.file, line.line_number) == line.line);
        }
    }
    // Subprogram records move with the subprogram: add_one sits at insn 9 of xdp_first and at
    // insn 11 of tc_prog.
    auto line_at = [](const ProgramSpec& p, uint32_t insn) {
        for (const auto& l : p.line_info)
            if (l.insn == insn) return l.line;
        return std::string();
    };
    CHECK(line_at(program(obj, "xdp_first"), 9) == "    return twice(x) + 1;");
    CHECK(line_at(program(obj, "tc_prog"), 11) == "    return twice(x) + 1;");
    CHECK(line_at(program(obj, "xdp_first"), 0) ==
          "    return add_one(ctx->ingress_ifindex) > 3 ? XDP_PASS : XDP_DROP;");
    const auto& first = program(obj, "xdp_first").line_info.front();
    CHECK(first.line_number == 24);
    CHECK(first.column == 12);
}

TEST_CASE("programs: a leading '?' is not part of the section name", "[loader]") {
    const Object obj = load("sections");
    std::vector<std::tuple<std::string, std::string, ProgType>> got;
    for (const auto& p : obj.programs)
        got.emplace_back(p.name, p.section, p.type);
    const std::vector<std::tuple<std::string, std::string, ProgType>> expected = {
        {"optional_frags", "xdp.frags", ProgType::xdp},
        {"raw_tp_prog", "raw_tp/sched_switch", ProgType::raw_tracepoint},
        {"connect4_prog", "cgroup/connect4", ProgType::cgroup_sock_addr},
        {"perf_prog", "perf_event", ProgType::perf_event},
        {"sk_msg_prog", "sk_msg", ProgType::sk_msg},
    };
    CHECK(got == expected);
}

TEST_CASE("programs: one .text function and nothing else is itself the program", "[loader]") {
    const Object obj = load("text_only");
    REQUIRE(obj.programs.size() == 1);
    CHECK(obj.programs[0].name == "entry");
    CHECK(obj.programs[0].section == ".text");
    CHECK(obj.programs[0].type == ProgType::unspec);
    CHECK(obj.programs[0].insns.size() == 2);
}

TEST_CASE("programs: a kconfig extern reads the .kconfig map", "[loader]") {
    const auto bytes = object_bytes("extern_kconfig");
    LoadOptions options;
    options.host_defaults = false;
    options.kconfig = {{"LINUX_KERNEL_VERSION", "0x060c00"}};
    const auto obj = load_elf(bytes, "extern_kconfig.o", options);
    REQUIRE(obj);
    const MapSpec& kconfig = map(*obj, "extern_.kconfig");
    CHECK(kconfig.initial_value == std::vector<uint8_t>{0x00, 0x0c, 0x06, 0x00});
    CHECK(map_refs(*obj, program(*obj, "read_kconfig")) ==
          std::vector<MapRef>{{0, "extern_.kconfig", BPF_PSEUDO_MAP_IDX_VALUE, 0}});
}

TEST_CASE("prog_type_from_section follows libbpf's section names", "[loader]") {
    const std::vector<std::pair<std::string, std::optional<ProgType>>> cases = {
        {"xdp", ProgType::xdp},
        {"xdp.frags", ProgType::xdp},
        {"xdp/devmap", ProgType::xdp},
        {"xdp.frags/cpumap", ProgType::xdp},
        {"xdp_foo", std::nullopt},
        {"tc", ProgType::sched_cls},
        {"tc/ingress", ProgType::sched_cls},
        {"tc/egress", ProgType::sched_cls},
        {"tcx/ingress", ProgType::sched_cls},
        {"tc/other", std::nullopt},
        {"classifier", ProgType::sched_cls},
        {"action", ProgType::sched_act},
        {"socket", ProgType::socket_filter},
        {"socket/x", std::nullopt},
        {"kprobe/do_unlinkat", ProgType::kprobe},
        {"kprobe", ProgType::kprobe},
        {"kprobefoo", std::nullopt},
        {"kretprobe/do_unlinkat", ProgType::kprobe},
        {"uprobe//bin/sh:main", ProgType::kprobe},
        {"uretprobe/x", ProgType::kprobe},
        {"usdt/x", ProgType::kprobe},
        {"tracepoint/syscalls/sys_enter_openat", ProgType::tracepoint},
        {"tp/sched/sched_switch", ProgType::tracepoint},
        {"raw_tracepoint/sched_switch", ProgType::raw_tracepoint},
        {"raw_tp/sched_switch", ProgType::raw_tracepoint},
        {"raw_tp.w/x", ProgType::raw_tracepoint_writable},
        {"tp_btf/sched_switch", ProgType::tracing},
        {"fentry/do_unlinkat", ProgType::tracing},
        {"fexit.s/x", ProgType::tracing},
        {"freplace/x", ProgType::ext},
        {"lsm/file_open", ProgType::lsm},
        {"iter/task", ProgType::tracing},
        {"syscall", ProgType::syscall},
        {"perf_event", ProgType::perf_event},
        {"lwt_xmit", ProgType::lwt_xmit},
        {"sockops", ProgType::sock_ops},
        {"sk_skb/stream_parser", ProgType::sk_skb},
        {"sk_skb", ProgType::sk_skb},
        {"sk_msg", ProgType::sk_msg},
        {"flow_dissector", ProgType::flow_dissector},
        {"cgroup_skb/ingress", ProgType::cgroup_skb},
        {"cgroup_skb/egress", ProgType::cgroup_skb},
        {"cgroup_skb/other", std::nullopt},
        {"cgroup/skb", ProgType::cgroup_skb},
        {"cgroup/sock_create", ProgType::cgroup_sock},
        {"cgroup/connect4", ProgType::cgroup_sock_addr},
        {"cgroup/sysctl", ProgType::cgroup_sysctl},
        {"cgroup/getsockopt", ProgType::cgroup_sockopt},
        {"cgroup/dev", ProgType::cgroup_device},
        {"struct_ops/x", ProgType::struct_ops},
        {"sk_lookup", ProgType::sk_lookup},
        {"sk_reuseport/migrate", ProgType::sk_reuseport},
        {"netfilter", ProgType::netfilter},
        {".text", std::nullopt},
        {"my_custom_section", std::nullopt},
        {"", std::nullopt},
    };
    for (const auto& [section, type] : cases) {
        INFO(section);
        CHECK(prog_type_from_section(section) == type);
    }
}
