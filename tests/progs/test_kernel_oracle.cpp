// The kernel oracle: every program of tests/progs run on every input of its case in this VM and
// in the running kernel (libbpf: open, load, BPF_PROG_TEST_RUN with the same data_in and ctx_in,
// every map dumped), requiring the same r0, packet out, ctx out and map contents. The kernel
// cannot test-run kprobe, tracepoint and perf_event programs: it only loads them, and this VM's
// runs are held to outcomes the cases compute. Differences listed in known_differences.txt are
// tolerated; an unlisted one fails, and so does a listed one that no longer differs.
// Needs root on Linux; where bpf() is refused the tests warn and skip.
#if defined(__linux__) && __has_include(<bpf/libbpf.h>)

#include "tests/progs/cases.hpp"
#include "tests/progs/kernel_side.hpp"
#include "tests/progs/known_differences.hpp"
#include "tests/progs/vm_side.hpp"
#include "vm/progtypes/prog_type_info.hpp"

#include "tests/kernel/helper_probe.hpp"

#include <bpf/libbpf.h>
#include <catch2/catch.hpp>
#include <sched.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace oracle;
using ebpf::ProgType;

const std::string progs_dir = EBPF_ORACLE_PROGS_DIR;

// Pins the test to the CPU it runs on, so that the kernel's test runs and this VM's (told that
// CPU) use the same slot of per-CPU maps and the same perf event buffer.
class CpuPin {
  public:
    CpuPin() {
        sched_getaffinity(0, sizeof saved_, &saved_);
        cpu_ = static_cast<uint32_t>(sched_getcpu());
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu_, &one);
        pinned_ = sched_setaffinity(0, sizeof one, &one) == 0;
    }
    ~CpuPin() { sched_setaffinity(0, sizeof saved_, &saved_); }
    CpuPin(const CpuPin&) = delete;
    CpuPin& operator=(const CpuPin&) = delete;

    uint32_t cpu() const { return cpu_; }
    bool pinned() const { return pinned_; }

  private:
    cpu_set_t saved_;
    uint32_t cpu_ = 0;
    bool pinned_ = false;
};

std::string errno_name(int err) {
    const char* name = strerrorname_np(err);
    return name ? name : std::to_string(err);
}

std::string entry_line(const Difference& d) {
    return d.program + " | " + d.input + " | " + d.aspect + " | " + d.detail;
}

// Whether the kernel refused the case's object for a helper its build does not give the type
// although mainline Linux does (tests/kernel/helper_probe.hpp): then it warns, and the case is
// not compared.
bool refused_by_build(const Case& c, const std::string& error) {
    static const std::regex refusal("cannot use helper [a-z_0-9]+#([0-9]+)");
    std::smatch m;
    if (!std::regex_search(error, m, refusal)) return false;
    const int helper = std::stoi(m[1]);
    if (kernel_probe::kernel_offers_helper(static_cast<bpf_prog_type>(c.type), helper) ||
        !ebpf::prog_type_info(c.type)->helper_allowed(helper))
        return false;
    WARN(c.program << ": this kernel build refuses helper #" << helper << " to "
                   << ebpf::prog_type_info(c.type)->name
                   << " programs, which mainline Linux offers them; not compared");
    return true;
}

// Runs a case on both sides and collects how this VM differs. False when the kernel itself
// refused the object or a run the case expects to work: the case is wrong, not the VM.
bool run_case(const Case& c, uint32_t cpu, std::vector<Difference>& diffs) {
    const std::string path = progs_dir + "/" + c.object;
    std::string error;
    auto kernel = KernelObject::load(path, &error);
    if (!kernel && refused_by_build(c, error)) return false;
    if (!kernel) {
        FAIL_CHECK(c.program << ": the kernel refuses " << c.object << ": " << error);
        return false;
    }
    if (kernel->program_type(c.program) != static_cast<int>(c.type)) {
        FAIL_CHECK(c.program << ": the kernel loaded it as program type "
                             << kernel->program_type(c.program));
        return false;
    }
    for (const auto& s : c.setup) {
        if (auto err = kernel->setup(s); !err.empty()) {
            FAIL_CHECK(c.program << ": kernel map setup: " << err);
            return false;
        }
    }
    // This VM twice: the interpreter, and the JIT on an object of its own (its maps see the same
    // inputs in the same order); a JIT difference says so in its detail.
    struct Side {
        std::unique_ptr<VmObject> vm;
        const char* prefix;
    };
    std::vector<Side> sides;
    const auto ncpus = static_cast<uint32_t>(libbpf_num_possible_cpus());
    for (auto [engine, prefix] : {std::pair{VmObject::Engine::interpreter, ""},
                                  std::pair{VmObject::Engine::jit, "JIT: "}}) {
        auto vm = VmObject::open(path, ncpus, engine, &error);
        if (!vm) {
            diffs.push_back({c.program, "*", "load", prefix + error});
            continue;
        }
        for (const auto& s : c.setup) {
            if (auto err = vm->setup(s); !err.empty())
                diffs.push_back({c.program, "*", "setup", prefix + err});
        }
        sides.push_back({std::move(vm), prefix});
    }
    const auto compare_sides = [&](const std::string& input, const auto& expected,
                                   const Input& in) {
        for (Side& side : sides) {
            for (Difference& d :
                 compare(c.program, input, expected, side.vm->run(c.program, in, cpu))) {
                d.detail = side.prefix + d.detail;
                diffs.push_back(std::move(d));
            }
        }
    };
    for (size_t i = 0; i < c.inputs.size(); ++i) {
        const Input& in = c.inputs[i];
        if (c.expect) {
            compare_sides(in.name, c.expect(i), in);
            continue;
        }
        const Outcome theirs = kernel->run(c.program, in, cpu);
        const std::string expected_error = in.kernel_errno ? errno_name(in.kernel_errno) : "";
        if (theirs.error != expected_error) {
            FAIL_CHECK(c.program << ", input '" << in.name << "': the kernel's test run gave '"
                                 << theirs.error << "', the case expects '" << expected_error
                                 << "'");
            return false;
        }
        compare_sides(in.name, theirs, in);
    }
    return true;
}

void check_cases(const std::function<bool(ProgType)>& selected) {
    std::string why;
    if (!kernel_available(&why)) {
        WARN(why << "; the kernel oracle is skipped");
        return;
    }
    const KnownDifferences known = read_known_differences(EBPF_PROGS_KNOWN_DIFFERENCES);
    for (const auto& e : known.errors)
        FAIL_CHECK(e);
    CpuPin pin;
    REQUIRE(pin.pinned());
    for (const Case& c : all_cases()) {
        if (!selected(c.type)) continue;
        std::vector<Difference> diffs;
        if (!run_case(c, pin.cpu(), diffs)) continue;
        std::ostringstream unlisted, stale;
        for (const auto& d : diffs) {
            const bool listed = std::any_of(known.entries.begin(), known.entries.end(),
                                            [&](const KnownDifference& k) { return k.matches(d); });
            if (!listed) unlisted << "\n  " << entry_line(d);
        }
        for (const auto& k : known.entries) {
            if (k.program != c.program || k.aspect == "processed") continue;
            if (std::none_of(diffs.begin(), diffs.end(),
                             [&](const Difference& d) { return k.matches(d); })) {
                stale << "\n  line " << k.line << ": " << k.program << " | " << k.input << " | "
                      << k.aspect;
            }
        }
        if (!unlisted.str().empty())
            FAIL_CHECK(c.program << " differs from the kernel:" << unlisted.str());
        if (!stale.str().empty()) {
            FAIL_CHECK(c.program << ": known differences that no longer differ (remove them):"
                                 << stale.str());
        }
    }
}

} // namespace

TEST_CASE("XDP programs agree with the kernel", "[progs][kernel]") {
    check_cases([](ProgType t) { return t == ProgType::xdp; });
}

TEST_CASE("tc programs agree with the kernel", "[progs][kernel]") {
    check_cases([](ProgType t) { return t == ProgType::sched_cls; });
}

TEST_CASE("socket filter and cgroup_skb programs agree with the kernel", "[progs][kernel]") {
    check_cases(
        [](ProgType t) { return t == ProgType::socket_filter || t == ProgType::cgroup_skb; });
}

TEST_CASE("raw tracepoint programs agree with the kernel", "[progs][kernel]") {
    check_cases([](ProgType t) { return t == ProgType::raw_tracepoint; });
}

TEST_CASE("kprobe, tracepoint and perf_event programs load in the kernel and give the computed "
          "outcomes here",
          "[progs][kernel]") {
    // Their programs read x86-64 pt_regs, and the VM lays out the registers of its host.
    if (ebpf::host_regs_arch != ebpf::RegsArch::x86_64) {
        WARN("the tracing programs are built for x86-64 registers; skipped on this host");
        return;
    }
    check_cases([](ProgType t) {
        return t == ProgType::kprobe || t == ProgType::tracepoint || t == ProgType::perf_event;
    });
}

#endif

TEST_CASE("the verifier processes as many instructions as the kernel's for every program",
          "[progs][kernel]") {
    std::string why;
    if (!kernel_available(&why)) {
        WARN(why << "; the kernel oracle is skipped");
        return;
    }
    const KnownDifferences known = read_known_differences(EBPF_PROGS_KNOWN_DIFFERENCES);
    const auto listed = [&](const std::string& program) {
        return std::any_of(known.entries.begin(), known.entries.end(), [&](const auto& k) {
            return k.program == program && k.aspect == "processed";
        });
    };
    const auto ncpus = static_cast<uint32_t>(libbpf_num_possible_cpus());
    size_t compared = 0;
    std::set<std::string> differing;
    for (const Case& c : all_cases()) {
        const std::string path = progs_dir + "/" + c.object;
        std::string error;
        auto kernel = KernelObject::load(path, &error);
        auto vm = VmObject::open(path, ncpus, VmObject::Engine::interpreter, &error);
        if (!kernel || !vm) continue; // the cases above report it
        const auto theirs = kernel->insns_processed(c.program);
        REQUIRE(theirs.has_value());
        const uint64_t ours = vm->insns_processed(c.program).value_or(0);
        ++compared;
        if (ours == *theirs) continue;
        differing.insert(c.program);
        INFO(c.program << ": the kernel processed " << *theirs << ", this verifier " << ours);
        CHECK(listed(c.program));
    }
    for (const auto& k : known.entries) {
        if (k.aspect != "processed") continue;
        INFO("line " << k.line << ": " << k.program << " now processes as the kernel: remove it");
        CHECK(differing.count(k.program) == 1);
    }
    CHECK(compared > 25);
}
