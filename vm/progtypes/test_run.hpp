// The test-run framing: a runtime context built from what BPF_PROG_TEST_RUN takes (data_in,
// ctx_in), the way the kernel's net/bpf/test_run.c builds it, and what it gives back after the run
// (data_out, ctx_out). The CLI and the kernel differential tests run programs through it.
#pragma once

#include "helpers/run_state.hpp"
#include "vm/isa/result.hpp"
#include "vm/progtypes/prog_type_info.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ebpf {

struct TestRunInput {
    std::span<const uint8_t> data; // data_in: the packet (network types)
    std::optional<std::span<const uint8_t>>
        ctx; // ctx_in: a UAPI context, or a tracing type's record
    // A ctx_out buffer was given: the kernel then converts a (zeroed) context even without ctx_in.
    bool ctx_out = false;
    // The verifier's max_ctx_offset (end of the furthest context access): raw_tracepoint and
    // tracepoint refuse a context shorter than it, as the kernel's test run and attach do.
    uint32_t max_ctx_offset = 0;
};

// A context built for one run. It owns the packet and the runtime context; the program gets
// ctx() in R1.
class RunContext {
  public:
    virtual ~RunContext() = default;

    // The runtime context: what the rewritten context accesses read.
    virtual void* ctx() = 0;

    // Gives the run what it needs: the packet LD_ABS and LD_IND read (skb types), and for checked
    // mode the memory the program may touch (packet, runtime context, read-only where programs may
    // not write). Fails when the run's region table is full.
    virtual Status attach(RunState& state) = 0;

    // The packet after the run, as the kernel copies it to data_out; empty for tracing types.
    virtual std::vector<uint8_t> data_out() const { return {}; }

    // The UAPI context after the run, as the kernel copies it to ctx_out; none when the kernel
    // would give none.
    virtual std::optional<std::vector<uint8_t>> ctx_out() const { return std::nullopt; }
};

// Builds the context of a program type from a test-run input. Errors name the kernel's errno
// first ("EINVAL: ..."), as bpf(BPF_PROG_TEST_RUN) would fail. kprobe and perf_event, which the
// kernel cannot test-run, take their context (pt_regs, bpf_perf_event_data) from ctx_in.
Result<std::unique_ptr<RunContext>> make_test_run_context(ProgType type, const TestRunInput& input,
                                                          RegsArch arch = host_regs_arch);

// The errno name a test-run error starts with ("EINVAL"), empty for other errors.
std::string_view test_run_errno(const Error& error);

namespace progtypes {

// A test-run error: the kernel's errno name, then what was wrong.
inline Error test_run_error(std::string_view errno_name, std::string_view what) {
    std::string message(errno_name);
    message += ": ";
    message += what;
    return Error{std::move(message), std::nullopt};
}

// bpf_ctx_init: the context buffer of max_size bytes, from ctx_in (zero-padded; bytes past
// max_size must be zero, else E2BIG); none when neither ctx_in nor ctx_out is given.
Result<std::optional<std::vector<uint8_t>>> bpf_ctx_init(const TestRunInput& input,
                                                         size_t max_size);

} // namespace progtypes

} // namespace ebpf
