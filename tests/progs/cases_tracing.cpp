// The tracing programs' cases. raw_tracepoint is test-run by the kernel like the packet types;
// the kernel cannot test-run kprobe, tracepoint and perf_event programs, so theirs carry the
// outcome the test computes from the inputs (the kernel still loads them, to prove them valid).
#include "tests/progs/cases.hpp"

#include "tests/progs/map_dump.hpp"
#include "vm/progtypes/uapi.hpp"

#include <cerrno>
#include <cstring>
#include <map>

namespace oracle {
namespace {

using namespace pkt;
using ebpf::ProgType;
using Regs = ebpf::uapi::PtRegsX86_64;

Bytes raw_args(std::initializer_list<uint64_t> args) {
    Bytes b;
    for (uint64_t a : args)
        b = cat({b, bytes_of(a)});
    return b;
}

Case raw_tp() {
    return {"raw_tp_sys_enter.o",
            "raw_tp_sys_enter",
            ProgType::raw_tracepoint,
            {},
            {{"null regs, write", {}, raw_args({0, 1})},
             {"user address, write", {}, raw_args({0x1000, 1})},
             {"non-canonical address, execve", {}, raw_args({0x8000000000000000, 59})},
             {"kernel address, write", {}, raw_args({0xffff800000000000, 1})},
             {"one argument: shorter than the program reads", {}, raw_args({0}), EINVAL}},
            {}};
}

// The .bss dump of a single variable.
Dump bss(const Bytes& value) {
    return expected_dump({{bytes_of<uint32_t>(0), value}}, true);
}

// kprobe on do_sys_openat2(dfd, filename, how): dfd in rdi, filename in rsi.
Case kprobe() {
    struct Call {
        uint64_t dfd, filename;
    };
    static const std::vector<Call> calls{{uint64_t(-100), 0x7ffd1000},
                                         {3, 0x7ffd2000},
                                         {uint64_t(-100), 0x7ffd3000},
                                         {0xffffffff00000005, 0}}; // int dfd = 5
    Case c{"kprobe_openat.o", "kprobe_openat", ProgType::kprobe, {}, {}, {}};
    for (const auto& call : calls) {
        Regs regs{};
        regs.rdi = call.dfd;
        regs.rsi = call.filename;
        regs.rdx = 0x7ffd9000;
        c.inputs.push_back({"dfd " + std::to_string(int32_t(call.dfd)), {}, bytes_of(regs)});
    }
    c.expect = [](size_t i) {
        std::map<int32_t, uint64_t> opens;
        for (size_t k = 0; k <= i; ++k)
            opens[static_cast<int32_t>(calls[k].dfd)]++;
        std::vector<std::pair<Bytes, Bytes>> elems;
        for (const auto& [dfd, n] : opens)
            elems.push_back({bytes_of(dfd), bytes_of(n)});
        return Expected{0,
                        {{"opens_by_dfd", expected_dump(elems, false)},
                         {".bss", bss(bytes_of(calls[i].filename))}}};
    };
    return c;
}

// kretprobe: the return value in rax, counted in log2 buckets (errors in bucket 0, values from
// 2^15 up fall past the last bucket and are not counted).
Case kretprobe() {
    static const std::vector<int64_t> rets{3, -2, 1, 1000, int64_t(1) << 40, 4};
    Case c{"kprobe_openat.o", "kretprobe_openat", ProgType::kprobe, {}, {}, {}};
    for (int64_t ret : rets) {
        Regs regs{};
        regs.rax = static_cast<uint64_t>(ret);
        c.inputs.push_back({"returns " + std::to_string(ret), {}, bytes_of(regs)});
    }
    c.expect = [](size_t i) {
        std::vector<uint64_t> buckets(16);
        for (size_t k = 0; k <= i; ++k) {
            uint32_t bucket = 0;
            if (rets[k] > 0) {
                for (uint64_t v = rets[k]; v > 1 && bucket < 15; v >>= 1)
                    bucket++;
                bucket++;
            }
            if (bucket < buckets.size()) buckets[bucket]++;
        }
        std::vector<std::pair<Bytes, Bytes>> elems;
        for (uint32_t b = 0; b < buckets.size(); ++b)
            elems.push_back({bytes_of(b), bytes_of(buckets[b])});
        return Expected{0, {{"fd_log2", expected_dump(elems, true)}}};
    };
    return c;
}

// The sched_switch record as its format file lays it out.
struct SchedSwitch {
    uint64_t common;
    char prev_comm[16];
    int32_t prev_pid;
    int32_t prev_prio;
    int64_t prev_state;
    char next_comm[16];
    int32_t next_pid;
    int32_t next_prio;
};
static_assert(sizeof(SchedSwitch) == 64);

Case tracepoint() {
    struct Switch {
        int64_t prev_state;
        int32_t next_pid;
        const char* next_comm;
        int32_t next_prio;
    };
    static const std::vector<Switch> switches{{0, 42, "worker", 120},
                                              {1, 42, "worker-renamed", 110},
                                              {0, 7, "kthreadd", 100},
                                              {2, 42, "worker", 100},
                                              {0, 1234, "a-very-long-command", 139}};
    Case c{
        "tracepoint_sched_switch.o", "tracepoint_sched_switch", ProgType::tracepoint, {}, {}, {}};
    for (const auto& s : switches) {
        SchedSwitch rec{};
        rec.common = 0x0000abcd00000123; // the common fields, which the program may not read
        std::strncpy(rec.prev_comm, "prev", sizeof rec.prev_comm);
        rec.prev_pid = 1;
        rec.prev_prio = 120;
        rec.prev_state = s.prev_state;
        std::memcpy(rec.next_comm, s.next_comm, std::min(std::strlen(s.next_comm), size_t{16}));
        rec.next_pid = s.next_pid;
        rec.next_prio = s.next_prio;
        c.inputs.push_back({"to " + std::string(s.next_comm), {}, bytes_of(rec)});
    }
    c.expect = [](size_t i) {
        struct TaskInfo {
            uint64_t switches;
            char comm[16];
            int32_t prio;
            uint32_t pad;
        };
        std::map<int32_t, TaskInfo> tasks;
        uint64_t preempted = 0;
        for (size_t k = 0; k <= i; ++k) {
            const Switch& s = switches[k];
            preempted += s.prev_state == 0;
            auto [it, inserted] = tasks.try_emplace(s.next_pid, TaskInfo{});
            TaskInfo& t = it->second;
            // The program copies the 16 bytes of next_comm, as the record holds them.
            if (inserted)
                std::memcpy(t.comm, s.next_comm, std::min(std::strlen(s.next_comm), size_t{16}));
            t.switches++;
            t.prio = s.next_prio;
        }
        std::vector<std::pair<Bytes, Bytes>> elems;
        for (const auto& [pid, t] : tasks)
            elems.push_back({bytes_of(pid), bytes_of(t)});
        return Expected{
            0, {{"switched_in", expected_dump(elems, false)}, {".bss", bss(bytes_of(preempted))}}};
    };
    return c;
}

Case perf_event() {
    struct Sample {
        uint64_t ip, period, addr;
    };
    static const std::vector<Sample> samples{{0xffffffff81000010, 1000, 0},
                                             {0xffffffff81000010, 500, 0x1234},
                                             {0xffffffff81000020, 1000, 0xdead},
                                             {0x7f0000001000, 1, 0}};
    Case c{"perf_event_sampler.o", "perf_event_sampler", ProgType::perf_event, {}, {}, {}};
    for (const auto& s : samples) {
        ebpf::uapi::PerfEventData<Regs> data{};
        data.regs.rip = s.ip;
        data.sample_period = s.period;
        data.addr = s.addr;
        c.inputs.push_back({"ip " + hex(bytes_of(s.ip)), {}, bytes_of(data)});
    }
    c.expect = [](size_t i) {
        std::map<uint64_t, uint64_t> weight;
        for (size_t k = 0; k <= i; ++k)
            weight[samples[k].ip] += samples[k].period;
        std::vector<std::pair<Bytes, Bytes>> elems;
        for (const auto& [ip, w] : weight)
            elems.push_back({bytes_of(ip), bytes_of(w)});
        const uint64_t totals[2] = {i + 1, samples[i].addr};
        return Expected{
            0, {{"weight_by_ip", expected_dump(elems, false)}, {".bss", bss(bytes_of(totals))}}};
    };
    return c;
}

} // namespace

std::vector<Case> tracing_cases() {
    return {raw_tp(), kprobe(), kretprobe(), tracepoint(), perf_event()};
}

} // namespace oracle
