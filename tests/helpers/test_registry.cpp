// Helper ids and names, and the kernel helpers' behaviour.
#include "helpers/kernel_helpers.hpp"
#include "helpers/kernel_ids.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <set>

#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>

using namespace ebpf;

TEST_CASE("kernel helper names follow the kernel's numbering") {
    CHECK(kernel_helper_name(1) == "bpf_map_lookup_elem");
    CHECK(kernel_helper_name(5) == "bpf_ktime_get_ns");
    CHECK(kernel_helper_name(12) == "bpf_tail_call");
    CHECK(kernel_helper_name(0).empty());
    CHECK(kernel_helper_name(100000).empty());
    CHECK(kernel_helper_name(-1).empty());
}

TEST_CASE("the helper numbering matches linux/bpf.h") {
    // The installed UAPI header lists helpers in id order in __BPF_FUNC_MAPPER, one FN(name...)
    // each; read it as text so any header version compares, and no Linux header is compiled in.
    std::ifstream header("/usr/include/linux/bpf.h");
    if (!header) {
        WARN("no /usr/include/linux/bpf.h on this host (install linux-libc-dev): nothing to "
             "compare");
        return;
    }
    const std::string text((std::istreambuf_iterator<char>(header)),
                           std::istreambuf_iterator<char>());
    auto at = text.find("__BPF_FUNC_MAPPER(FN");
    REQUIRE(at != std::string::npos);
    const std::regex fn(R"(^\s*FN\((\w+))");
    std::istringstream lines(text.substr(at));
    std::string line;
    std::getline(lines, line);
    int id = 0;
    while (std::getline(lines, line)) {
        std::smatch m;
        if (!std::regex_search(line, m, fn)) break;
        if (id > 0) CHECK(kernel_helper_name(id) == "bpf_" + m[1].str());
        ++id;
    }
    CHECK(id > 200);
}

TEST_CASE("registry adds, replaces and finds by id, with large ids") {
    HelperRegistry reg;
    reg.add(0x7fff0000, "host_one", helpers::get_numa_node_id);
    reg.add(0x7fff0000, "host_two", helpers::get_smp_processor_id);
    REQUIRE(reg.find(0x7fff0000) != nullptr);
    CHECK(reg.find(0x7fff0000)->name == "host_two");
    CHECK(reg.find(3) == nullptr);
    CHECK(reg.size() == 1);
}

TEST_CASE("clock helpers move forward and CPU helpers report the run's slot") {
    RunState state;
    state.cpu = 3;
    const uint64_t a = helpers::ktime_get_ns(0, 0, 0, 0, 0, &state);
    const uint64_t b = helpers::ktime_get_ns(0, 0, 0, 0, 0, &state);
    CHECK(b >= a);
    CHECK(helpers::ktime_get_boot_ns(0, 0, 0, 0, 0, &state) >= a);
    CHECK(helpers::ktime_get_coarse_ns(0, 0, 0, 0, 0, &state) > 0);
    CHECK(helpers::get_smp_processor_id(0, 0, 0, 0, 0, &state) == 3);
    CHECK(helpers::get_numa_node_id(0, 0, 0, 0, 0, &state) == 0);
    // TAI is the wall clock plus the leap seconds the host's kernel was told of (its TAI offset:
    // 37 s where NTP set it, 0 where nothing did).
    const auto wall = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
    const uint64_t tai = helpers::ktime_get_tai_ns(0, 0, 0, 0, 0, &state);
    CHECK(tai + 1'000'000'000 >= wall);
    CHECK(tai <= wall + 38'000'000'000);
}

TEST_CASE("strncmp compares as the kernel's: -1, 0 or 1, up to the size or the first NUL") {
    RunState state;
    const auto cmp = [&](const char* s1, uint32_t size, const char* s2) {
        return static_cast<int64_t>(helpers::strncmp(reinterpret_cast<uint64_t>(s1), size,
                                                     reinterpret_cast<uint64_t>(s2), 0, 0, &state));
    };
    CHECK(cmp("bash", 5, "bash") == 0);
    CHECK(cmp("bash", 4, "bashful") == 0); // only s1_sz bytes
    CHECK(cmp("bash", 5, "bashful") == -1);
    CHECK(cmp("zsh", 4, "bash") == 1);
    CHECK(cmp("a\xff", 3, "a\x01") == 1); // unsigned bytes, and 1 rather than their difference
    CHECK(cmp("ab\0x", 4, "ab\0y") == 0); // nothing after the NUL counts
    CHECK(cmp("", 0, "anything") == 0);
}

TEST_CASE("get_current_task gives the task_struct address the host set") {
    RunState state;
    CHECK(helpers::get_current_task(0, 0, 0, 0, 0, &state) == 0);
    TaskIdentity task;
    state.task = &task;
    CHECK(helpers::get_current_task(0, 0, 0, 0, 0, &state) == 0);
    task.task_struct = 0xffff888012345600;
    CHECK(helpers::get_current_task(0, 0, 0, 0, 0, &state) == 0xffff888012345600);
}

TEST_CASE("prandom gives 32-bit values that vary") {
    RunState state;
    std::set<uint64_t> seen;
    for (int i = 0; i < 64; ++i) {
        const uint64_t v = helpers::get_prandom_u32(0, 0, 0, 0, 0, &state);
        CHECK(v <= 0xffffffffu);
        seen.insert(v);
    }
    CHECK(seen.size() > 32);
}
