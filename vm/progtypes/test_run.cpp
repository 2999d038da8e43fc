#include "vm/progtypes/test_run.hpp"

#include "vm/progtypes/skb.hpp"
#include "vm/progtypes/tracing.hpp"
#include "vm/progtypes/xdp.hpp"

#include <algorithm>
#include <cstring>

namespace ebpf {

namespace progtypes {

Result<std::optional<std::vector<uint8_t>>> bpf_ctx_init(const TestRunInput& input,
                                                         size_t max_size) {
    if (!input.ctx && !input.ctx_out) return std::optional<std::vector<uint8_t>>{};
    std::vector<uint8_t> ctx(max_size, 0);
    if (input.ctx) {
        const std::span<const uint8_t> in = *input.ctx;
        // bpf_check_uarg_tail_zero: a larger context from a newer user space is fine as long as
        // what this kernel does not know is zero.
        if (in.size() > max_size &&
            !std::all_of(in.begin() + max_size, in.end(), [](uint8_t b) { return b == 0; })) {
            return test_run_error("E2BIG", "ctx_in sets bytes past the context's " +
                                               std::to_string(max_size));
        }
        std::memcpy(ctx.data(), in.data(), std::min(in.size(), max_size));
    }
    return std::optional<std::vector<uint8_t>>{std::move(ctx)};
}

} // namespace progtypes

Result<std::unique_ptr<RunContext>> make_test_run_context(ProgType type, const TestRunInput& input,
                                                          RegsArch arch) {
    switch (type) {
    case ProgType::socket_filter:
    case ProgType::sched_cls:
    case ProgType::sched_act:
    case ProgType::cgroup_skb: {
        auto run = SkbTestRun::create(type, input);
        if (!run) return run.error();
        return std::unique_ptr<RunContext>(std::move(*run));
    }
    case ProgType::xdp: {
        auto run = XdpTestRun::create(input);
        if (!run) return run.error();
        return std::unique_ptr<RunContext>(std::move(*run));
    }
    case ProgType::kprobe:
    case ProgType::tracepoint:
    case ProgType::raw_tracepoint:
    case ProgType::perf_event: return make_tracing_test_run(type, input, arch);
    default: return progtypes::test_run_error("ENOTSUPP", "no test run for this program type");
    }
}

std::string_view test_run_errno(const Error& error) {
    const std::string_view message = error.message;
    const size_t colon = message.find(':');
    if (colon == std::string_view::npos || colon == 0 || message[0] != 'E') return {};
    const std::string_view name = message.substr(0, colon);
    const bool upper = std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    });
    return upper ? name : std::string_view{};
}

} // namespace ebpf
