// Comparing two outcomes of one input: what differs, said briefly enough to read in a test log.
#include "tests/progs/oracle.hpp"

#include <algorithm>

namespace oracle {
namespace {

// The first place two byte strings differ, and their lengths.
std::string bytes_diff(const Bytes& oracle, const Bytes& vm) {
    size_t i = 0;
    while (i < oracle.size() && i < vm.size() && oracle[i] == vm[i])
        ++i;
    auto around = [i](const Bytes& b) {
        const size_t from = i < 8 ? 0 : i - 8;
        const size_t to = std::min(b.size(), i + 8);
        return from < to ? hex(b.data() + from, to - from) : std::string("(end)");
    };
    return "length " + std::to_string(oracle.size()) + " vs " + std::to_string(vm.size()) +
           ", first difference at byte " + std::to_string(i) + ": oracle ..." + around(oracle) +
           " vm ..." + around(vm);
}

// The lines only one side has, a few of each.
std::string dump_diff(const Dump& oracle, const Dump& vm) {
    auto missing = [](const Dump& a, const Dump& b) {
        std::string s;
        size_t shown = 0;
        for (const auto& line : a) {
            if (std::find(b.begin(), b.end(), line) != b.end()) continue;
            if (shown++ == 3) return s + " ...";
            s += (s.empty() ? "" : "; ") + line;
        }
        return s;
    };
    std::string only_oracle = missing(oracle, vm), only_vm = missing(vm, oracle);
    if (only_oracle.empty() && only_vm.empty()) return "same elements in another order";
    return "oracle has [" + only_oracle + "], vm has [" + only_vm + "]";
}

const Dump* find_map(const std::map<std::string, Dump>& maps, const std::string& name) {
    if (auto it = maps.find(name); it != maps.end()) return &it->second;
    if (name.empty() || name[0] != '.') return nullptr;
    for (const auto& [n, dump] : maps)
        if (n.size() > name.size() && n.compare(n.size() - name.size(), name.size(), name) == 0)
            return &dump;
    return nullptr;
}

void compare_maps(std::vector<Difference>& out, const Difference& at,
                  const std::map<std::string, Dump>& oracle, const std::map<std::string, Dump>& vm,
                  bool all_vm_maps) {
    for (const auto& [name, dump] : oracle) {
        Difference d = at;
        d.aspect = "map " + name;
        const Dump* ours = find_map(vm, name);
        if (!ours) {
            d.detail = "the VM has no map of that name";
            out.push_back(d);
        } else if (*ours != dump) {
            d.detail = dump_diff(dump, *ours);
            out.push_back(d);
        }
    }
    if (!all_vm_maps) return;
    for (const auto& [name, dump] : vm) {
        if (oracle.count(name)) continue;
        out.push_back({at.program, at.input, "map " + name, "the kernel has no map of that name"});
    }
}

} // namespace

std::string hex(const uint8_t* p, size_t n) {
    static const char digits[] = "0123456789abcdef";
    std::string s;
    s.reserve(2 * n);
    for (size_t i = 0; i < n; ++i) {
        s += digits[p[i] >> 4];
        s += digits[p[i] & 15];
    }
    return s;
}

std::vector<Difference> compare(const std::string& program, const std::string& input,
                                const Outcome& oracle, const Outcome& vm) {
    std::vector<Difference> out;
    const Difference at{program, input, "", ""};
    if (oracle.error != vm.error) {
        out.push_back({program, input, "run",
                       "kernel: " + (oracle.error.empty() ? "ran" : oracle.error) +
                           "; vm: " + (vm.error.empty() ? "ran" : vm.error)});
    } else if (oracle.error.empty()) {
        if (oracle.r0 != vm.r0)
            out.push_back(
                {program, input, "r0", std::to_string(oracle.r0) + " vs " + std::to_string(vm.r0)});
        if (oracle.packet != vm.packet)
            out.push_back({program, input, "packet", bytes_diff(oracle.packet, vm.packet)});
        if (oracle.ctx != vm.ctx) {
            out.push_back({program, input, "ctx",
                           !oracle.ctx || !vm.ctx ? "ctx_out given by one side only"
                                                  : bytes_diff(*oracle.ctx, *vm.ctx)});
        }
    }
    compare_maps(out, at, oracle.maps, vm.maps, true);
    return out;
}

std::vector<Difference> compare(const std::string& program, const std::string& input,
                                const Expected& expected, const Outcome& vm) {
    std::vector<Difference> out;
    if (!vm.error.empty()) {
        out.push_back({program, input, "run", "expected a run; vm: " + vm.error});
        return out;
    }
    if (expected.r0 != vm.r0)
        out.push_back(
            {program, input, "r0", std::to_string(expected.r0) + " vs " + std::to_string(vm.r0)});
    compare_maps(out, {program, input, "", ""}, expected.maps, vm.maps, false);
    return out;
}

} // namespace oracle
