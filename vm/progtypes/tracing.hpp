// The tracing program types of kernel/trace/bpf_trace.c: kprobe (struct pt_regs), tracepoint
// (the trace record itself), raw_tracepoint (u64 args[]) and perf_event (struct
// bpf_perf_event_data), with their access rules and contexts.
#pragma once

#include "vm/progtypes/prog_type_info.hpp"
#include "vm/progtypes/test_run.hpp"
#include "vm/progtypes/uapi.hpp"

namespace ebpf {

// The sample fields perf_sample_data holds for bpf_perf_event_data.
struct PerfSampleData {
    uint64_t period;
    uint64_t addr;
};

// Our bpf_perf_event_data_kern: what the rewritten bpf_perf_event_data accesses read. regs points
// to the registers (uapi::PtRegsX86_64 or uapi::UserPtRegsArm64).
struct PerfEventDataKern {
    const void* regs;
    const PerfSampleData* data;
};

// The tracing types' descriptions; null for other types. kprobe and perf_event depend on the
// pt_regs layout the program was built for.
const ProgTypeInfo* tracing_prog_type_info(ProgType type, RegsArch arch);

// The contexts of the tracing types, from ctx_in: kprobe's pt_regs, perf_event's
// bpf_perf_event_data (split into registers and sample), raw_tracepoint's arguments (as
// bpf_prog_test_run_raw_tp), tracepoint's record (the first 8 bytes hidden from the program).
// None takes data_in or gives anything back.
Result<std::unique_ptr<RunContext>> make_tracing_test_run(ProgType type, const TestRunInput& input,
                                                          RegsArch arch);

} // namespace ebpf
