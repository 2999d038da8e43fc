// ebpf-run, the real binary: running programs of each input kind, choosing programs and engines,
// the exit codes, and bad input of every sort (one line on stderr, never a crash).
#include "tests/cli/run_support.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <regex>

using namespace ebpf::test;

namespace {

uint64_t fnv1a(const std::string& s) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : s)
        h = (h ^ c) * 0x100000001b3ULL;
    return h;
}

const std::string firewall = example("xdp_firewall.o");
const std::string rules = example("xdp_firewall_rules.json");
const std::string blocked_packet = example("packets/dns_blocked.bin");
const std::string allowed_packet = example("packets/http_syn.bin");

} // namespace

TEST_CASE("ebpf-run runs raw bytecode on --mem in checked mode") {
    const std::string hello = example("hello.txt");
    const auto o = ebpf_run(example("fnv1a.bin") + " --mem " + hello);
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
    CHECK_THAT(o.out, Catch::Contains("r0        " + std::to_string(fnv1a(slurp(hello)))));
    CHECK_THAT(o.out, Catch::Contains("engine    interp (checked mode)"));
    CHECK(std::regex_search(o.out, std::regex("\ninsns     [0-9]+ executed\n")));
}

TEST_CASE("ebpf-run runs the XDP firewall example with its rules") {
    const auto drop = ebpf_run(firewall + " --ctx " + blocked_packet + " --map-init " + rules);
    INFO(drop.err);
    REQUIRE(drop.exit_code == 0);
    CHECK_THAT(drop.out, Catch::Contains("verifier  accept"));
    CHECK_THAT(drop.out, Catch::Contains("engine    jit"));
    CHECK_THAT(drop.out, Catch::Contains("r0        1  XDP_DROP"));
    CHECK_THAT(drop.out, Catch::Contains("packet    unchanged, 47 bytes"));
    CHECK_THAT(drop.out, Catch::Contains("maps changed:\n  verdicts (percpu_array)"));
    // The rules were preloaded, not changed by the run.
    CHECK_THAT(drop.out, !Catch::Contains("blocked (lpm_trie)"));

    const auto pass = ebpf_run(firewall + " --ctx " + allowed_packet + " --map-init " + rules);
    REQUIRE(pass.exit_code == 0);
    CHECK_THAT(pass.out, Catch::Contains("r0        2  XDP_PASS"));
}

TEST_CASE("ebpf-run runs the socket filter example: bytes kept, counters changed") {
    const auto o = ebpf_run(example("socket_counter.o") + " --ctx " + allowed_packet);
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
    // skb->len counts from the IP header: 54 - 14 bytes.
    CHECK_THAT(o.out, Catch::Contains("r0        40 (0x28)  keep 40 bytes"));
    CHECK_THAT(o.out, Catch::Contains("packet    unchanged, 54 bytes"));
    CHECK_THAT(o.out, Catch::Contains("by_protocol (hash)\n    06000000: "
                                      "0100000000000000"
                                      "2800000000000000"));
}

TEST_CASE("ebpf-run runs the tc rewriter example: address, port and checksums") {
    // The Internet checksum over data; 0xffff when the data holds its own right checksum.
    const auto sum = [](const std::string& data) {
        uint32_t s = 0;
        for (size_t i = 0; i + 1 < data.size(); i += 2)
            s += static_cast<uint32_t>(static_cast<uint8_t>(data[i]) << 8 |
                                       static_cast<uint8_t>(data[i + 1]));
        if (data.size() % 2) s += static_cast<uint32_t>(static_cast<uint8_t>(data.back()) << 8);
        while (s >> 16)
            s = (s & 0xffff) + (s >> 16);
        return s;
    };
    for (const char* name : {"packets/http_syn.bin", "packets/udp_service.bin"}) {
        const auto o = ebpf_run(example("tc_rewriter.o") + " --json --ctx " + example(name));
        INFO(name << ": " << o.err);
        REQUIRE(o.exit_code == 0);
        const auto j = nlohmann::json::parse(o.out);
        CHECK(j["r0"] == 0);
        std::string out;
        const std::string hex = j["packet_out"];
        for (size_t i = 0; i + 1 < hex.size(); i += 2)
            out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
        const std::string ip = out.substr(14, 20), l4 = out.substr(34);
        CHECK(to_hex(ip.substr(16, 4)) == "0a000063"); // 10.0.0.99
        CHECK(to_hex(l4.substr(2, 2)) == "1f90");      // 8080
        CHECK(sum(ip) == 0xffff);
        const std::string pseudo = ip.substr(12, 8) + std::string(1, '\0') + ip[9] +
                                   static_cast<char>(l4.size() >> 8) + static_cast<char>(l4.size());
        CHECK(sum(pseudo + l4) == 0xffff);
        CHECK(j["maps"]["tc_rewri.bss"]["entries"][0]["value"] == "0100000000000000");
    }
    // Its .rodata, set before the verifier reads it, sends the service to 10.0.0.50:9090.
    const auto o =
        ebpf_run(example("tc_rewriter.o") + " --json --ctx " + example("packets/udp_service.bin") +
                 " --map-init " + example("tc_rewriter_backend.json"));
    REQUIRE(o.exit_code == 0);
    const std::string out = nlohmann::json::parse(o.out)["packet_out"];
    CHECK(out.substr(60, 8) == "0a000032");
    CHECK(out.substr(72, 4) == "2382");
}

TEST_CASE("ebpf-run runs the kprobe example: printk, ring buffer, histogram") {
#if defined(__aarch64__)
    const std::string size_arg = "x2=1500";
#else
    const std::string size_arg = "rdx=1500";
#endif
    const auto o = ebpf_run(example("kprobe_sendmsg.o") + " --json --regs " + size_arg);
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
    const auto j = nlohmann::json::parse(o.out);
    CHECK(j["output"]["trace_printk"] ==
          nlohmann::json::array({"tcp_sendmsg: 1500 bytes, bucket 10"}));
    CHECK(j["maps"]["sizes"]["entries"] ==
          nlohmann::json::parse(R"([{"key": "0a000000", "value": "0100000000000000"}])"));
    // struct event: pid, size, comm (the task ebpf-run runs programs in: itself).
    const auto& records = j["maps"]["events"]["records"];
    REQUIRE(records.size() == 1);
    const std::string record = records[0];
    CHECK(record.substr(8, 8) == "dc050000");
    CHECK(record.substr(16) == to_hex(std::string("ebpf-run\0\0\0\0\0\0\0\0", 16)));
}

TEST_CASE("ebpf-run shows the packet a tc program changed") {
    const auto o = ebpf_run(prog("run_types.o") + " --program tc_mark --ctx " + allowed_packet);
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
    CHECK_THAT(o.out, Catch::Contains("r0        0  TC_ACT_OK"));
    CHECK_THAT(o.out, Catch::Contains("packet    changed, 54 -> 54 bytes\n"
                                      "  0000 - 02 00 00 00 00 02"));
    CHECK_THAT(o.out, Catch::Contains("  0000 + ee 00 00 00 00 02"));
}

TEST_CASE("ebpf-run gives tracing programs their context") {
    const std::string types = prog("run_types.o");
    SECTION("kprobe --regs") {
        const auto o = ebpf_run(types + " -p kprobe_sum --regs rdi=40,rsi=0x2");
        INFO(o.err);
        REQUIRE(o.exit_code == 0);
        CHECK_THAT(o.out, Catch::Contains("r0        42 (0x2a)"));
    }
    SECTION("kprobe --ctx pt_regs image") {
        std::string regs(168, '\0');
        regs[14 * 8] = 5; // rdi
        regs[13 * 8] = 6; // rsi
        const auto o = ebpf_run(types + " -p kprobe_sum --ctx " + scratch("regs.bin", regs));
        REQUIRE(o.exit_code == 0);
        CHECK_THAT(o.out, Catch::Contains("r0        11 (0xb)"));
    }
    SECTION("tracepoint record") {
        std::string record(16, '\0');
        record[12] = 9; // b, after the hidden 8 bytes and a
        const auto o =
            ebpf_run(types + " --section tracepoint/test/record --ctx " + scratch("tp", record));
        REQUIRE(o.exit_code == 0);
        CHECK_THAT(o.out, Catch::Contains("r0        9\n"));
    }
    SECTION("a record shorter than what the program reads") {
        const auto record = ebpf_run(types + " -p tracepoint_field --ctx " +
                                     scratch("short_tp", std::string(12, '\0')));
        CHECK(record.exit_code == 2);
        CHECK(one_line_error(record));
        CHECK_THAT(record.err, Catch::Contains("EACCES"));
        const auto args =
            ebpf_run(types + " -p raw_tp_arg --ctx " + scratch("short_args", std::string(8, '\0')));
        CHECK(args.exit_code == 2);
        CHECK_THAT(args.err, Catch::Contains("EINVAL"));
    }
    SECTION("raw_tracepoint arguments") {
        std::string args(16, '\0');
        args[8] = 3;
        const auto o = ebpf_run(types + " -p raw_tp_arg --ctx " + scratch("args", args));
        REQUIRE(o.exit_code == 0);
        CHECK_THAT(o.out, Catch::Contains("r0        3\n"));
    }
    SECTION("perf_event with --regs, and without any input") {
        CHECK(ebpf_run(types + " -p perf_event_period --regs rax=1").exit_code == 0);
        const auto o = ebpf_run(types + " -p perf_event_period");
        REQUIRE(o.exit_code == 0);
        CHECK_THAT(o.out, Catch::Contains("r0        0\n"));
    }
    SECTION("bad --regs") {
        const auto name = ebpf_run(types + " -p kprobe_sum --regs xyz=1");
        CHECK(name.exit_code == 2);
        CHECK_THAT(name.err, Catch::Contains("no register 'xyz'"));
        CHECK(ebpf_run(types + " -p kprobe_sum --regs rdi=zz").exit_code == 2);
        CHECK(ebpf_run(types + " -p kprobe_sum --regs rdi").exit_code == 2);
        CHECK(ebpf_run(firewall + " --regs rdi=1").exit_code == 2);
    }
}

TEST_CASE("ebpf-run --ctx-in starts a packet program from a context and shows the one it leaves") {
    // struct __sk_buff: mark at 8, priority at 32, cb[0] at 48; 192 bytes.
    std::string skb(192, '\0');
    skb[8] = 21;
    const std::string ctx_in = scratch("skb_ctx.bin", skb);
    const auto o = ebpf_run(prog("run_types.o") + " -p tc_ctx --ctx " + allowed_packet +
                            " --ctx-in " + ctx_in);
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
    CHECK_THAT(o.out, Catch::Contains("r0        21"));
    CHECK_THAT(o.out, Catch::Contains("ctx       changed\n"));
    CHECK_THAT(o.out, Catch::Contains("0020 + 2a 00 00 00"));
    const auto j =
        nlohmann::json::parse(ebpf_run(prog("run_types.o") + " -p tc_ctx --ctx " + allowed_packet +
                                       " --ctx-in " + ctx_in + " --json")
                                  .out);
    const std::string out = j["ctx_out"];
    CHECK(out.substr(64, 8) == "2a000000"); // priority
    CHECK(out.substr(96, 8) == "2a000000"); // cb[0]
    CHECK(out.substr(16, 8) == "15000000"); // mark, as given

    // Not for types whose --ctx is the context itself; a context the kernel would refuse.
    const auto kprobe = ebpf_run(prog("run_types.o") + " -p kprobe_sum --ctx-in " + ctx_in);
    CHECK(kprobe.exit_code == 2);
    CHECK(one_line_error(kprobe));
    const auto bad = ebpf_run(prog("run_types.o") + " -p tc_ctx --ctx " + allowed_packet +
                              " --ctx-in " + scratch("short_ctx.bin", std::string(3, '\1')));
    CHECK(bad.exit_code == 2);
    CHECK(one_line_error(bad));
}

TEST_CASE("ebpf-run --kmem, --umem and --task-struct give probe reads memory to read") {
    std::string task(32, '\0');
    task[16] = 40;
    const std::string types = prog("run_types.o");
    const std::string memory =
        " --kmem 0xffff888000100000=" + scratch("task.bin", task) +
        " --umem 0x10000=" + scratch("user.bin", std::string("\2\0\0\0", 4)) +
        " --task-struct 0xffff888000100000 --regs rdi=0x10000";
    const auto o = ebpf_run(types + " -p kprobe_task" + memory);
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
    CHECK_THAT(o.out, Catch::Contains("r0        42"));
    // Without the task's memory the kernel read faults; without a task_struct too.
    CHECK_THAT(ebpf_run(types + " -p kprobe_task --task-struct 0xffff888000100000").out,
               Catch::Contains("r0        4294967295"));
    CHECK_THAT(ebpf_run(types + " -p kprobe_task").out, Catch::Contains("r0        4294967295"));

    for (const std::string bad :
         {" --kmem 0x1000=x.bin", " --umem 0xffff888000000000=x.bin", " --kmem 0xffff888000000000",
          " --task-struct nope", " --kmem 0xffff888000000000=/nonexistent/file"}) {
        const auto refused = ebpf_run(types + " -p kprobe_task" + bad);
        INFO(bad);
        CHECK(refused.exit_code == 2);
        CHECK(one_line_error(refused));
    }
}

TEST_CASE("ebpf-run shows the copies bpf_clone_redirect sent") {
    const std::string mirror = prog("run_types.o") + " -p tc_mirror --ctx " + allowed_packet;
    const auto o = ebpf_run(mirror);
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
    CHECK_THAT(o.out, Catch::Contains("r0        0  TC_ACT_OK"));
    CHECK_THAT(o.out, Catch::Contains("clone     to ifindex 1 ingress, 54 bytes"));
    const auto j = nlohmann::json::parse(ebpf_run(mirror + " --json").out);
    REQUIRE(j["clones"].size() == 1);
    CHECK(j["clones"][0]["ifindex"] == 1);
    CHECK(j["clones"][0]["flags"] == 1);
    CHECK(j["clones"][0]["packet"] == j["packet_out"]);
}

TEST_CASE("ebpf-run names cgroup_skb verdicts") {
    const std::string types = prog("run_types.o");
    CHECK_THAT(ebpf_run(types + " -p cgroup_allow --ctx " + allowed_packet).out,
               Catch::Contains("r0        1  allow"));
}

TEST_CASE("ebpf-run picks programs by name or section, and lists them") {
    const std::string maps = prog("run_maps.o");
    const auto list = ebpf_run(maps + " --list");
    REQUIRE(list.exit_code == 0);
    CHECK_THAT(list.out, Catch::Contains("  touch_maps  section xdp  type xdp"));
    CHECK_THAT(list.out, Catch::Contains("  run_maps.bss  array  key 4  value 8"));
    const auto by_name = ebpf_run(maps + " -p tail_caller --ctx " + allowed_packet);
    CHECK_THAT(by_name.out, Catch::Contains("r0        3  XDP_TX")); // through the tail call
    const auto by_section =
        ebpf_run(prog("run_types.o") + " --section kprobe/do_nothing --regs rdi=1");
    CHECK_THAT(by_section.out, Catch::Contains("program   kprobe_sum"));

    const auto no_prog = ebpf_run(maps + " -p nope --ctx " + allowed_packet);
    CHECK(no_prog.exit_code == 2);
    CHECK(one_line_error(no_prog));
    CHECK_THAT(no_prog.err, Catch::Contains("programs: tail_target, touch_maps, tail_caller"));
    CHECK(ebpf_run(maps + " --section nope").exit_code == 2);
    CHECK(ebpf_run(maps + " -p touch_maps --section xdp").exit_code == 2);
}

TEST_CASE("ebpf-run loads objects holding programs of types it does not describe") {
    const std::string hooks = prog("run_hooks.o");
    const auto list = ebpf_run(hooks + " --list");
    INFO(list.err);
    REQUIRE(list.exit_code == 0);
    CHECK_THAT(list.out, Catch::Contains("  on_unlink  section fentry/do_unlinkat  type ?  "));
    CHECK_THAT(list.out, Catch::Contains("not loaded: the program type of section "
                                         "'fentry/do_unlinkat' is not supported by this VM"));
    CHECK_THAT(list.out, Catch::Contains("  read_counter  section kprobe/do_read  type kprobe  "));
    CHECK_THAT(list.out, Catch::Contains("calls bpf_perf_event_read#22, which this VM does not "
                                         "implement"));
    CHECK_THAT(list.out, Catch::Contains("  on_packet  section xdp  type xdp"));
    CHECK_THAT(list.out, Catch::Contains("uses map 'flows' (sk_storage), a kind this VM does not "
                                         "have"));
    CHECK_THAT(list.out, Catch::Contains("  flows  sk_storage  key 4  value 8  max_entries 0  "
                                         "not created: a kind this VM does not have"));
    // The first program it can take runs by default; the others are refused by name.
    const auto run = ebpf_run(hooks + " --ctx " + allowed_packet);
    CHECK_THAT(run.out, Catch::Contains("program   on_packet"));
    CHECK_THAT(run.out, Catch::Contains("r0        2  XDP_PASS"));
    const auto lsm = ebpf_run(hooks + " -p on_open");
    CHECK(lsm.exit_code == 3);
    CHECK(one_line_error(lsm));
    CHECK_THAT(lsm.err, Catch::Contains("program 'on_open': the program type of section "
                                        "'lsm/file_open' is not supported by this VM"));
    const auto listed = nlohmann::json::parse(ebpf_run(hooks + " --list --json").out);
    CHECK(listed["programs"][1]["verifier"].is_null());
    CHECK(listed["programs"][1]["unsupported"] ==
          "the program type of section 'fentry/do_unlinkat' is not supported by this VM");
    CHECK(listed["programs"][4]["verifier"]["verdict"] == "accept");
    CHECK(listed["maps"][0]["created"] == false);
}

TEST_CASE("ebpf-run uses the per-CPU slot of --cpu") {
    const auto o =
        ebpf_run(prog("run_maps.o") + " -p touch_maps --cpus 3 --cpu 2 --ctx " + allowed_packet);
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
    CHECK_THAT(o.out, Catch::Contains("percpu (percpu_array)\n"
                                      "    00000000: values 00000000 00000000 01000000\n"));
    CHECK(ebpf_run(firewall + " --cpus 2 --cpu 2 --ctx " + allowed_packet).exit_code == 2);
    CHECK(ebpf_run(firewall + " --cpus 0 --ctx " + allowed_packet).exit_code == 2);
}

TEST_CASE("ebpf-run runs the engines alike") {
    for (const char* engine : {"interp", "jit"}) {
        const auto o = ebpf_run(firewall + " --engine " + engine + " --ctx " + blocked_packet +
                                " --map-init " + rules);
        INFO(engine << ": " << o.err);
        REQUIRE(o.exit_code == 0);
        CHECK_THAT(o.out, Catch::Contains("engine    " + std::string(engine) + "\n"));
        CHECK_THAT(o.out, Catch::Contains("XDP_DROP"));
    }
    CHECK(ebpf_run(firewall + " --engine vm --ctx " + allowed_packet).exit_code == 2);
}

TEST_CASE("ebpf-run --no-verify runs in checked mode; faults and budgets are exit code 4") {
    const std::string unsafe = prog("run_unsafe.o");
    std::string long_packet = as_string(udp_packet());
    long_packet.resize(128, '\x01');
    const auto ok = ebpf_run(unsafe + " --no-verify --ctx " + scratch("long.bin", long_packet));
    INFO(ok.err);
    REQUIRE(ok.exit_code == 0);
    CHECK_THAT(ok.out, Catch::Contains("verifier  skipped (--no-verify)"));
    CHECK_THAT(ok.out, Catch::Contains("engine    interp (checked mode)"));
    CHECK_THAT(ok.out, Catch::Contains("r0        2  XDP_PASS"));

    const auto fault = ebpf_run(unsafe + " --no-verify --ctx " + allowed_packet);
    CHECK(fault.exit_code == 4);
    CHECK(one_line_error(fault));

    const auto loop =
        ebpf_run(unsafe + " -p endless --no-verify --budget 1000 --ctx " + allowed_packet);
    CHECK(loop.exit_code == 4);
    CHECK_THAT(loop.err, Catch::Contains("budget of 1000"));

    const auto jit = ebpf_run(unsafe + " --no-verify --engine jit --ctx " + allowed_packet);
    CHECK(jit.exit_code == 2);
    CHECK_THAT(jit.err, Catch::Contains("verified programs only"));
}

TEST_CASE("ebpf-run exit code 1: the verifier rejected the program") {
    const auto o = ebpf_run(prog("run_unsafe.o") + " --ctx " + allowed_packet);
    CHECK(o.exit_code == 1);
    CHECK_THAT(o.out, Catch::Contains("verifier  reject: "));
    CHECK(one_line_error(o));
    CHECK_THAT(o.err, Catch::Contains("the verifier rejected unchecked_read"));
}

TEST_CASE("ebpf-run raw bytecode with --type is verified and given a context") {
    // r2 = *(u32 *)(r1 + 4) (data_end); r3 = *(u32 *)(r1 + 0) (data); r0 = r2; r0 -= r3; exit
    const std::string len_prog("\x61\x12\x04\0\0\0\0\0"
                               "\x61\x13\0\0\0\0\0\0"
                               "\xbf\x20\0\0\0\0\0\0"
                               "\x1f\x30\0\0\0\0\0\0"
                               "\x95\0\0\0\0\0\0\0",
                               40);
    const std::string raw = scratch("len.raw", len_prog);
    const auto o = ebpf_run(raw + " --raw --type xdp --ctx " + allowed_packet);
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
    CHECK_THAT(o.out, Catch::Contains("verifier  accept"));
    CHECK_THAT(o.out, Catch::Contains("r0        54 (0x36)"));
    // A .bin name means raw bytecode too.
    const auto bin = ebpf_run(scratch("len.bin", len_prog) + " --type tc --ctx " + allowed_packet);
    CHECK(bin.exit_code == 0);
    CHECK_THAT(bin.out, Catch::Contains("type sched_cls"));
}

TEST_CASE("ebpf-run exit code 2: bad usage, with one line on stderr") {
    const auto no_object = ebpf_run("");
    CHECK(no_object.exit_code == 2);
    CHECK(one_line_error(no_object));
    for (const std::string& args :
         {firewall + " --no-such-option", firewall + " --type nonsense",
          example("fnv1a.bin") + " --type lsm", firewall + " --log-level 3",
          firewall + " --repeat 0 --ctx " + allowed_packet, firewall + " --budget 0",
          firewall + " --pcap-out x.pcap", firewall + " --json --disasm",
          firewall + " --ctx /nonexistent/packet.bin",
          firewall + " --ctx " + allowed_packet + " --regs rdi=1",
          firewall + " --mem " + allowed_packet, firewall,
          example("fnv1a.bin") + " --ctx " + allowed_packet,
          example("fnv1a.bin") + " --mem /nonexistent/mem.bin",
          example("fnv1a.bin") + " --log-level 1"}) {
        const auto o = ebpf_run(args);
        INFO(args << "\n" << o.err);
        CHECK(o.exit_code == 2);
        CHECK(one_line_error(o));
    }
    const auto type = ebpf_run(firewall + " --type nonsense");
    CHECK_THAT(type.err, Catch::Contains("unknown program type 'nonsense' (known: xdp"));
}

TEST_CASE("ebpf-run refuses a packet shorter than an Ethernet header") {
    for (const char* object : {"xdp_firewall.o", "socket_counter.o"}) {
        const auto o =
            ebpf_run(example(object) + " --ctx " + scratch("runt.bin", std::string(10, 'x')));
        INFO(object << ": " << o.err);
        CHECK(o.exit_code == 2);
        CHECK(one_line_error(o));
        CHECK_THAT(o.err, Catch::Contains("EINVAL"));
    }
}

TEST_CASE("ebpf-run exit code 3: files that cannot be loaded") {
    const auto missing = ebpf_run("/nonexistent/prog.o");
    CHECK(missing.exit_code == 3);
    CHECK(one_line_error(missing));
    CHECK_THAT(missing.err, Catch::Contains("/nonexistent/prog.o"));

    const auto dir = ebpf_run(progs_dir);
    CHECK(dir.exit_code == 3);
    CHECK(one_line_error(dir));

    const auto ragged = ebpf_run(scratch("ragged.bin", "abc"));
    CHECK(ragged.exit_code == 3);
    CHECK_THAT(ragged.err, Catch::Contains("not a whole number"));

    const auto bad_op = ebpf_run(scratch("badop.bin", std::string("\xff\0\0\0\0\0\0\0", 8)));
    CHECK(bad_op.exit_code == 3);
    CHECK_THAT(bad_op.err, Catch::Contains("insn 0: unknown opcode ff"));

    const auto not_elf = ebpf_run(scratch("text.o", "just some text\n"));
    CHECK(not_elf.exit_code == 3);
    CHECK_THAT(not_elf.err, Catch::Contains("not an ELF object"));
}

TEST_CASE("ebpf-run survives truncated and random objects") {
    const std::string elf = slurp(firewall);
    REQUIRE(elf.size() > 1000);
    std::mt19937 rng(4);
    // Every cut of the object's first 256 bytes, then cuts across the rest.
    std::vector<size_t> cuts;
    for (size_t n = 0; n < 256; n += 7)
        cuts.push_back(n);
    for (size_t n = 256; n < elf.size(); n += elf.size() / 23)
        cuts.push_back(n);
    for (size_t n : cuts) {
        const auto o = ebpf_run(scratch("cut.o", elf.substr(0, n)) + " --ctx " + allowed_packet);
        INFO("cut at " << n << ": " << o.err);
        CHECK(o.exit_code == 3);
        CHECK(one_line_error(o));
    }
    for (int round = 0; round < 16; ++round) {
        std::string bytes = elf;
        for (int flips = 0; flips < 8; ++flips)
            bytes[rng() % bytes.size()] = static_cast<char>(rng());
        const auto o = ebpf_run(scratch("flipped.o", bytes) + " --ctx " + allowed_packet);
        INFO("round " << round << ": " << o.err);
        CHECK(o.exit_code >= 0); // exited, whatever it found
        CHECK(o.exit_code <= 4);
        if (o.exit_code != 0) CHECK(one_line_error(o));
    }
    for (int round = 0; round < 8; ++round) {
        std::string random(64 + rng() % 2048, '\0');
        for (char& c : random)
            c = static_cast<char>(rng());
        if (round % 2)
            random.replace(0, 4,
                           "\x7f"
                           "ELF");
        const auto o = ebpf_run(scratch("random.o", random));
        CHECK(o.exit_code == 3);
        CHECK(one_line_error(o));
        const auto raw = ebpf_run(scratch("random.bin", random.substr(0, random.size() & ~7u)));
        CHECK(raw.exit_code >= 0);
        CHECK(raw.exit_code <= 4);
    }
}

TEST_CASE("ebpf-run --help explains every option with an example") {
    const auto o = ebpf_run("--help");
    REQUIRE(o.exit_code == 0);
    CHECK_THAT(o.out, Catch::StartsWith("Usage: ebpf-run OBJECT [options]"));
    // Each option's text runs from its name to the next option's.
    std::vector<size_t> starts;
    for (size_t at = o.out.find("\n  -"); at != std::string::npos; at = o.out.find("\n  -", at + 1))
        starts.push_back(at);
    REQUIRE(starts.size() >= 25);
    for (size_t i = 0; i < starts.size(); ++i) {
        const size_t end = i + 1 < starts.size() ? starts[i + 1] : o.out.find("Exit codes:");
        const std::string text = o.out.substr(starts[i], end - starts[i]);
        INFO(text);
        if (text.find("--help") != std::string::npos) continue;
        CHECK_THAT(text, Catch::Contains("Example"));
    }
    for (const char* option :
         {"--program",     "--section",   "--list",     "--raw",      "--type",      "--no-verify",
          "--verify-only", "--log-level", "--engine",   "--budget",   "--ctx",       "--regs",
          "--mem",         "--pcap ",     "--pcap-out", "--map-init", "--dump-maps", "--cpus",
          "--cpu ",        "--json",      "--disasm",   "--dump-jit", "--cfg",       "--repeat"})
        CHECK_THAT(o.out, Catch::Contains(option));
    CHECK_THAT(o.out, Catch::Contains("Exit codes:"));
}
