// bpf_probe_read*, their _str forms, and the task, time and attachment helpers the host stands in
// for.
#include "tests/helpers/helper_test.hpp"

#include "helpers/helper_errno.hpp"
#include "helpers/kernel_helpers.hpp"
#include "helpers/kernel_ids.hpp"
#include "verifier/verifier.hpp"

#include <cstring>

using namespace ebpf;
using namespace helper_test;

namespace {

constexpr uint64_t kaddr = 0xffff888000001000, uaddr = 0x0000555500001000;

uint64_t u(const void* p) {
    return reinterpret_cast<uint64_t>(p);
}

struct Images {
    std::vector<uint8_t> kbytes{'k', 'e', 'r', 'n', 'e', 'l', 0, 'x', 1, 2, 3, 4};
    std::vector<uint8_t> kmore{5, 6, 7, 8};
    std::vector<uint8_t> ubytes{'u', 's', 'e', 'r', 's', 'p', 'a', 'c', 'e'}; // no NUL
    std::vector<MemoryImage> kernel{{kaddr, kbytes}, {kaddr + 12, kmore}};
    std::vector<MemoryImage> user{{uaddr, ubytes}};

    void attach(RunState& state) const {
        state.kernel_memory = kernel;
        state.user_memory = user;
    }
};

} // namespace

TEST_CASE("probe_read_kernel and _user copy from the images and zero the buffer on a fault",
          "[helpers][probe_read]") {
    Images img;
    RunState state;
    img.attach(state);
    uint8_t buf[8];
    // Across two adjacent pieces of the kernel image.
    CHECK(helpers::probe_read_kernel(u(buf), 8, kaddr + 8, 0, 0, &state) == 0);
    CHECK(std::vector<uint8_t>(buf, buf + 8) == std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8});
    // One byte past the image: -EFAULT, buffer zeroed.
    std::memset(buf, 0xaa, sizeof buf);
    CHECK(helpers::probe_read_kernel(u(buf), 8, kaddr + 9, 0, 0, &state) == neg(herr::efault));
    CHECK(std::all_of(buf, buf + 8, [](uint8_t b) { return b == 0; }));
    // User addresses and non-canonical ones: -ERANGE from copy_from_kernel_nofault_allowed.
    CHECK(helpers::probe_read_kernel(u(buf), 4, 0, 0, 0, &state) == neg(herr::erange));
    CHECK(helpers::probe_read_kernel(u(buf), 4, uaddr, 0, 0, &state) == neg(herr::erange));
    CHECK(helpers::probe_read_kernel(u(buf), 4, 0xffff000000000000, 0, 0, &state) ==
          neg(herr::erange));
    CHECK(helpers::probe_read_kernel(u(buf), 0, 0, 0, 0, &state) == neg(herr::erange));

    CHECK(helpers::probe_read_user(u(buf), 4, uaddr + 2, 0, 0, &state) == 0);
    CHECK(std::memcmp(buf, "ersp", 4) == 0);
    CHECK(helpers::probe_read_user(u(buf), 4, kaddr, 0, 0, &state) == neg(herr::efault));
    CHECK(helpers::probe_read_user(u(buf), 4, 0, 0, 0, &state) == neg(herr::efault));
    CHECK(helpers::probe_read_user(u(buf), 0, 0, 0, 0, &state) == 0);

    // The legacy form picks by address.
    CHECK(helpers::probe_read(u(buf), 4, uaddr, 0, 0, &state) == 0);
    CHECK(std::memcmp(buf, "user", 4) == 0);
    CHECK(helpers::probe_read(u(buf), 4, kaddr, 0, 0, &state) == 0);
    CHECK(std::memcmp(buf, "kern", 4) == 0);
    CHECK(helpers::probe_read(u(buf), 4, 0, 0, 0, &state) == neg(herr::efault));
}

TEST_CASE("the _str forms copy up to the NUL and return its length with the NUL",
          "[helpers][probe_read]") {
    Images img;
    RunState state;
    img.attach(state);
    char buf[16];
    std::memset(buf, 'z', sizeof buf);
    CHECK(helpers::probe_read_kernel_str(u(buf), 16, kaddr, 0, 0, &state) == 7);
    CHECK(std::string(buf) == "kernel");
    CHECK(buf[7] == 'z'); // nothing past the NUL is written
    // Cut to the buffer: the last byte becomes the NUL and the return value is the size.
    CHECK(helpers::probe_read_kernel_str(u(buf), 4, kaddr, 0, 0, &state) == 4);
    CHECK(std::string(buf) == "ker");
    CHECK(helpers::probe_read_kernel_str(u(buf), 0, kaddr, 0, 0, &state) == 0);
    CHECK(helpers::probe_read_kernel_str(u(buf), 8, 0, 0, 0, &state) == neg(herr::erange));
    // The user string has no NUL before the image ends: a fault, the buffer zeroed.
    std::memset(buf, 'z', sizeof buf);
    CHECK(helpers::probe_read_user_str(u(buf), 16, uaddr, 0, 0, &state) == neg(herr::efault));
    CHECK(std::all_of(buf, buf + 16, [](char c) { return c == 0; }));
    CHECK(helpers::probe_read_user_str(u(buf), 5, uaddr, 0, 0, &state) == 5);
    CHECK(std::string(buf) == "user");
    CHECK(helpers::probe_read_str(u(buf), 5, uaddr + 4, 0, 0, &state) == 5);
    CHECK(std::string(buf) == "spac");
    CHECK(helpers::probe_read_str(u(buf), 16, kaddr, 0, 0, &state) == 7);
}

TEST_CASE("probe_read_kernel reads the run's own memory, which is kernel memory",
          "[helpers][probe_read]") {
    // A program copies 8 bytes of its stack through bpf_probe_read_kernel.
    auto prog = load(R"(
        *(u64 *)(r10 -8) = 0x1234
        r1 = r10
        r1 += -16
        r2 = 8
        r3 = r10
        r3 += -8
        call bpf_probe_read_kernel#113
        if r0 != 0x0 goto out
        r0 = *(u64 *)(r10 -16)
    out:
        exit
    )");
    for (Mode mode : both_modes) {
        RunState state;
        auto r0 = run(prog, state, mode);
        INFO(mode_name(mode));
        REQUIRE(r0);
        CHECK(*r0 == 0x1234);
    }
}

TEST_CASE("task helpers report the host's task, or -EINVAL without one", "[helpers][task]") {
    RunState state;
    CHECK(helpers::get_current_pid_tgid(0, 0, 0, 0, 0, &state) == neg(herr::einval));
    CHECK(helpers::get_current_uid_gid(0, 0, 0, 0, 0, &state) == neg(herr::einval));
    char comm[16];
    std::memset(comm, 'z', sizeof comm);
    CHECK(helpers::get_current_comm(u(comm), sizeof comm, 0, 0, 0, &state) == neg(herr::einval));
    CHECK(std::all_of(comm, comm + 16, [](char c) { return c == 0; }));

    TaskIdentity task{1234, 1200, 1000, 100, {}};
    std::strcpy(task.comm.data(), "nginx-worker");
    state.task = &task;
    CHECK(helpers::get_current_pid_tgid(0, 0, 0, 0, 0, &state) == (uint64_t{1200} << 32 | 1234));
    CHECK(helpers::get_current_uid_gid(0, 0, 0, 0, 0, &state) == (uint64_t{100} << 32 | 1000));
    std::memset(comm, 'z', sizeof comm);
    CHECK(helpers::get_current_comm(u(comm), sizeof comm, 0, 0, 0, &state) == 0);
    CHECK(std::string(comm) == "nginx-worker");
    CHECK(std::all_of(comm + 12, comm + 16, [](char c) { return c == 0; })); // padded
    CHECK(helpers::get_current_comm(u(comm), 6, 0, 0, 0, &state) == 0);
    CHECK(std::string(comm) == "nginx");
}

TEST_CASE("jiffies64 counts from INITIAL_JIFFIES at HZ", "[helpers][time]") {
    RunState state;
    const uint64_t a = helpers::jiffies64(0, 0, 0, 0, 0, &state);
    const uint64_t ns = helpers::ktime_get_boot_ns(0, 0, 0, 0, 0, &state);
    CHECK(a >= 0xfffedb08); // (u32)(-300 * 250)
    const uint64_t expect = 0xfffedb08 + ns / 4'000'000;
    CHECK(a <= expect);
    CHECK(expect - a <= 2);
    CHECK(helpers::jiffies64(0, 0, 0, 0, 0, &state) >= a);
}

TEST_CASE("get_func_ip and get_attach_cookie give what the host set for the probe, where the "
          "kernel allows them",
          "[helpers][probe]") {
    const auto call = [](int32_t id) {
        auto insns = assemble("call helper#" + std::to_string(id) + "\nexit\n");
        REQUIRE(insns);
        return *insns;
    };
    const auto func_ip = static_cast<int32_t>(KernelHelper::get_func_ip);
    const auto cookie = static_cast<int32_t>(KernelHelper::get_attach_cookie);
    const auto verdict = [&](ProgType type, int32_t id) {
        VerifierOptions options;
        options.prog_type = type;
        return verify(call(id), options);
    };
    CHECK(verdict(ProgType::kprobe, func_ip).accepted);
    for (ProgType type :
         {ProgType::kprobe, ProgType::tracepoint, ProgType::perf_event, ProgType::raw_tracepoint})
        CHECK(verdict(type, cookie).accepted);
    // As the kernel's messages say (check_get_func_ip for the tracing types).
    CHECK(verdict(ProgType::tracepoint, func_ip).error ==
          "func bpf_get_func_ip#173 not supported for program type 5");
    CHECK(verdict(ProgType::raw_tracepoint, func_ip).error ==
          "func bpf_get_func_ip#173 not supported for program type 17");
    CHECK(verdict(ProgType::xdp, func_ip).error ==
          "program of this type cannot use helper bpf_get_func_ip#173");
    CHECK(verdict(ProgType::xdp, cookie).error ==
          "program of this type cannot use helper bpf_get_attach_cookie#174");

    RunState state;
    uint8_t regs[168] = {};
    const HelperFn ip_fn = vm().helpers().find(func_ip)->fn;
    const HelperFn cookie_fn = vm().helpers().find(cookie)->fn;
    CHECK(ip_fn(u(regs), 0, 0, 0, 0, &state) == 0); // no attachment: as in a kernel test run
    CHECK(cookie_fn(u(regs), 0, 0, 0, 0, &state) == 0);
    state.func_ip = 0xffffffff81234560;
    state.attach_cookie = 42;
    CHECK(ip_fn(u(regs), 0, 0, 0, 0, &state) == 0xffffffff81234560);
    CHECK(cookie_fn(u(regs), 0, 0, 0, 0, &state) == 42);
}

TEST_CASE("perf_prog_read_value and read_branch_records give what the host set for the event",
          "[helpers][probe]") {
    const HelperFn read_value =
        vm().helpers().find(static_cast<int32_t>(KernelHelper::perf_prog_read_value))->fn;
    const HelperFn branches =
        vm().helpers().find(static_cast<int32_t>(KernelHelper::read_branch_records))->fn;
    RunState state;
    state.perf_event_value = {1000, 20, 10};
    uint64_t value[3] = {7, 7, 7};
    CHECK(read_value(0, u(value), 24, 0, 0, &state) == 0);
    CHECK((value[0] == 1000 && value[1] == 20 && value[2] == 10));
    CHECK(read_value(0, u(value), 16, 0, 0, &state) == neg(herr::einval));
    CHECK((value[0] == 0 && value[1] == 0 && value[2] == 10));

    uint64_t buf[6] = {};
    const uint64_t flag_size = 1; // BPF_F_GET_BRANCH_RECORDS_SIZE
    CHECK(branches(0, u(buf), 48, 0, 0, &state) == neg(herr::enoent)); // no branch stack
    CHECK(branches(0, u(buf), 48, 2, 0, &state) == neg(herr::einval));
    const uint64_t records[] = {0x1000, 0x2000, 1, 0x3000, 0x4000, 2};
    state.branch_records = records;
    CHECK(branches(0, 0, 0, flag_size, 0, &state) == 48);
    CHECK(branches(0, u(buf), 24, 0, 0, &state) == 24);
    CHECK((buf[0] == 0x1000 && buf[2] == 1 && buf[3] == 0));
    CHECK(branches(0, u(buf), 48, 0, 0, &state) == 48);
    CHECK(buf[5] == 2);
    CHECK(branches(0, u(buf), 20, 0, 0, &state) == neg(herr::einval));
    CHECK(branches(0, 0, 0, 0, 0, &state) == neg(herr::einval));
}
