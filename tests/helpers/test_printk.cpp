// bpf_trace_printk and bpf_snprintf: bpf_bprintf_prepare's checks and bstr_printf's output.
#include "tests/helpers/helper_test.hpp"

#include "helpers/bprintf.hpp"
#include "helpers/helper_errno.hpp"
#include "helpers/kernel_helpers.hpp"

#include <cstring>

using namespace ebpf;
using namespace helper_test;

namespace {

uint64_t u(const void* p) {
    return reinterpret_cast<uint64_t>(p);
}

// trace_printk's return value and the line it left.
std::pair<uint64_t, std::string> printk(const std::string& fmt, uint64_t a = 0, uint64_t b = 0,
                                        uint64_t c = 0, RunState* with = nullptr) {
    RunState own;
    RunState& state = with ? *with : own;
    std::vector<std::string> pipe;
    state.trace_pipe = &pipe;
    const uint64_t r = helpers::trace_printk(u(fmt.c_str()), fmt.size() + 1, a, b, c, &state);
    state.trace_pipe = nullptr;
    return {r, pipe.empty() ? "<none>" : pipe.back()};
}

} // namespace

TEST_CASE("trace_printk formats the kernel's conversions", "[helpers][printk]") {
    CHECK(printk("hello") == std::pair<uint64_t, std::string>{5, "hello"});
    CHECK(printk("%d %i %u", static_cast<uint64_t>(-5), 7, static_cast<uint64_t>(-1)).second ==
          "-5 7 4294967295");
    CHECK(printk("%ld %lld %llu", static_cast<uint64_t>(-5), 1ull << 40, ~0ull).second ==
          "-5 1099511627776 18446744073709551615");
    CHECK(printk("%x %X %lx", 0xabcdef12, 0xabcdef12, 0x123456789abcdefull).second ==
          "abcdef12 ABCDEF12 123456789abcdef");
    CHECK(printk("[%5d|%-5d|%05d]", 42, 42, 42).second == "[   42|42   |00042]");
    CHECK(printk("[%+d|% d|%+u]", 3, 3, 3).second == "[+3| 3|3]");
    CHECK(printk("%c%c%%", 'o', 'k').second == "ok%");
    CHECK(printk("%p", 0x1234).second == "0000000000001234");
    CHECK(printk("%px %pK", 0xffff888012345678, 0).second == "ffff888012345678 0000000000000000");
    CHECK(printk("%ps", 0xffffffff81000000).second == "0xffffffff81000000");
    // Addresses are read from kernel memory: here the run's own; unreadable ones print as zeros.
    const uint32_t ip4 = 0x0100a8c0; // 192.168.0.1 in memory order
    const uint8_t ip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    RunState state;
    state.allow(&ip4, sizeof ip4, false);
    state.allow(ip6, sizeof ip6, false);
    CHECK(printk("%pI4 %pi4", u(&ip4), u(&ip4), 0, &state).second == "192.168.0.1 192.168.000.001");
    CHECK(printk("%pI6", u(ip6), 0, 0, &state).second == "2001:0db8:0000:0000:0000:0000:0000:0001");
    CHECK(printk("%pi6", u(ip6), 0, 0, &state).second == "20010db8000000000000000000000001");
    CHECK(printk("%pI4", 0x10).second == "0.0.0.0");
}

TEST_CASE("trace_printk reads %s strings as the kernel does", "[helpers][printk]") {
    const char name[] = "eth0";
    RunState state;
    state.allow(name, sizeof name, false); // the run's own memory: kernel memory
    CHECK(printk("dev=%s.", u(name), 0, 0, &state).second == "dev=eth0.");
    CHECK(printk("[%6s|%-6s]", u(name), u(name), 0, &state).second == "[  eth0|eth0  ]");
    // Unreadable: printed empty, as a failed copy leaves an empty string.
    CHECK(printk("<%s>", 0x10, 0, 0, &state).second == "<>");
    const std::vector<uint8_t> ustr{'u', 's', 'r', 0};
    const std::vector<MemoryImage> user{{0x7000, ustr}};
    state.user_memory = user;
    CHECK(printk("%s %pus %pks", 0x7000, 0x7000, 0x7000, &state).second == "usr usr ");
}

TEST_CASE("trace_printk refuses what bpf_bprintf_prepare refuses", "[helpers][printk]") {
    for (const char* bad : {"%d %d %d %d", "%sd", "%sx", "%hd", "%5.2d", "%#x", "%lc", "%llld", "%",
                            "%pa", "%pI5", "%q", "tab\x01", "caf\xc3\xa9"}) {
        INFO(bad);
        CHECK(printk(bad, 1, 2, 3).first == neg(herr::einval));
        CHECK(printk(bad, 1, 2, 3).second == "<none>");
    }
    // No NUL within fmt_size.
    RunState state;
    const char fmt[4] = {'a', 'b', 'c', 'd'};
    CHECK(helpers::trace_printk(u(fmt), 4, 0, 0, 0, &state) == neg(herr::einval));
    // Whitespace is fine.
    CHECK(printk("a\tb\n").first == 4);
}

TEST_CASE("trace_printk returns the full length and keeps what fits", "[helpers][printk]") {
    auto [r, line] = printk("%1500d|", 7);
    CHECK(r == 1501);
    CHECK(line.size() == helpers::max_bprintf_buf - 1);
}

TEST_CASE("strings share the kernel's 512-byte argument buffer", "[helpers][printk]") {
    const std::string big(600, 'a');
    RunState state;
    state.allow(big.c_str(), big.size() + 1, false);
    auto [r, line] = printk("%s", u(big.c_str()), 0, 0, &state);
    CHECK(r == 511);
    CHECK(line == std::string(511, 'a'));
    // Nothing left for the next argument.
    CHECK(printk("%s%s", u(big.c_str()), u(big.c_str()), 0, &state).first == neg(herr::enospc));
}

TEST_CASE("bpf_snprintf cuts to the buffer and returns the length with the NUL",
          "[helpers][printk]") {
    RunState state;
    const char* fmt = "%d-%s";
    const char word[] = "word";
    state.allow(word, sizeof word, false);
    const uint64_t args[2] = {42, u(word)};
    char out[8];
    CHECK(helpers::snprintf(u(out), sizeof out, u(fmt), u(args), sizeof args, &state) == 8);
    CHECK(std::string(out) == "42-word");
    CHECK(helpers::snprintf(u(out), 4, u(fmt), u(args), sizeof args, &state) == 8);
    CHECK(std::string(out) == "42-");
    CHECK(helpers::snprintf(0, 0, u(fmt), u(args), sizeof args, &state) == 8);
    // data_len: a multiple of 8, at most 12 arguments, and data when there is a length.
    CHECK(helpers::snprintf(u(out), 8, u(fmt), u(args), 12, &state) == neg(herr::einval));
    CHECK(helpers::snprintf(u(out), 8, u(fmt), u(args), 13 * 8, &state) == neg(herr::einval));
    CHECK(helpers::snprintf(u(out), 8, u(fmt), 0, 16, &state) == neg(herr::einval));
    CHECK(helpers::snprintf(u(out), 8, u(fmt), u(args), 8, &state) == neg(herr::einval));
    const char* plain = "plain";
    CHECK(helpers::snprintf(u(out), sizeof out, u(plain), 0, 0, &state) == 6);
}

TEST_CASE("bpf_snprintf and bpf_trace_printk through a program", "[helpers][printk]") {
    // snprintf(buf, 16, "n=%d", [7]) then trace_printk(buf, 16): R0 = trace_printk's length.
    auto prog = load(R"(
        *(u64 *)(r10 -32) = 0x64253d6e
        *(u64 *)(r10 -40) = 7
        r1 = r10
        r1 += -16
        r2 = 16
        r3 = r10
        r3 += -32
        r4 = r10
        r4 += -40
        r5 = 8
        call bpf_snprintf#165
        r1 = r10
        r1 += -16
        r2 = 16
        call bpf_trace_printk#6
        exit
    )");
    for (Mode mode : both_modes) {
        RunState state;
        std::vector<std::string> pipe;
        state.trace_pipe = &pipe;
        auto r0 = run(prog, state, mode);
        INFO(mode_name(mode));
        REQUIRE(r0);
        CHECK(*r0 == 3);
        CHECK(pipe == std::vector<std::string>{"n=7"});
    }
}
