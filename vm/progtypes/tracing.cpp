#include "vm/progtypes/tracing.hpp"

#include "vm/progtypes/emit.hpp"
#include "vm/progtypes/func_protos.hpp"

#include <algorithm>
#include <cstring>
#include <string>

namespace ebpf {

using namespace progtypes;

namespace {

using uapi::PerfEventData;
using uapi::PtRegsX86_64;
using uapi::RawTracepointArgs;
using uapi::UserPtRegsArm64;

// kprobe_prog_is_valid_access: any aligned read inside pt_regs.
template <typename Regs>
CtxAccess kprobe_prog_is_valid_access(int off, int size, BpfAccess type, bool) {
    constexpr int regs_size = sizeof(Regs);
    if (off < 0 || off >= regs_size || type != BpfAccess::read || off % size != 0 ||
        off + size > regs_size) {
        return {};
    }
    return {true, CtxRegType::scalar, 0};
}

// tp_prog_is_valid_access: aligned reads of the record past its hidden first 8 bytes. (Linux 6.18
// compares a negative offset with sizeof(void *) as unsigned and so lets it pass; a program
// compiled from C never makes one, and here it is refused.)
CtxAccess tp_prog_is_valid_access(int off, int size, BpfAccess type, bool) {
    if (off < uapi::tracepoint_hidden_bytes || off >= uapi::PERF_MAX_TRACE_SIZE ||
        type != BpfAccess::read || off % size != 0) {
        return {};
    }
    return {true, CtxRegType::scalar, 0};
}

// raw_tp_prog_is_valid_access (bpf_tracing_ctx_access): aligned reads of the arguments.
CtxAccess raw_tp_prog_is_valid_access(int off, int size, BpfAccess type, bool) {
    if (off < 0 || off >= static_cast<int>(sizeof(RawTracepointArgs)) || type != BpfAccess::read ||
        off % size != 0) {
        return {};
    }
    return {true, CtxRegType::scalar, 0};
}

// pe_prog_is_valid_access: registers as whole 64-bit words, sample_period and addr also in
// narrow parts.
template <typename Regs>
CtxAccess pe_prog_is_valid_access(int off, int size, BpfAccess type, bool) {
    using Data = PerfEventData<Regs>;
    if (off < 0 || off >= static_cast<int>(sizeof(Data)) || type != BpfAccess::read ||
        off % size != 0) {
        return {};
    }
    constexpr int sample_period = offsetof(Data, sample_period), addr = offsetof(Data, addr);
    if ((off >= sample_period && off < sample_period + 8) || (off >= addr && off < addr + 8)) {
        if (!bpf_ctx_narrow_access_ok(size, sizeof(uint64_t))) return {};
        return {true, CtxRegType::scalar, sizeof(uint64_t)};
    }
    if (size != sizeof(uint64_t)) return {};
    return {true, CtxRegType::scalar, 0};
}

// pe_prog_convert_ctx_access: the sample through data, the registers through regs.
template <typename Regs>
void pe_prog_convert_ctx_access(BpfAccess, const Insn& si, CtxRewrite& out) {
    using Data = PerfEventData<Regs>;
    auto through = [&](size_t pointer, int offset) {
        out.emit(ldx_mem(BPF_DW, si.dst, si.src, static_cast<int>(pointer)));
        out.emit(ldx_mem(BPF_DW, si.dst, si.dst, offset));
    };
    switch (si.off) {
    case offsetof(Data, sample_period):
        through(offsetof(PerfEventDataKern, data), offsetof(PerfSampleData, period));
        out.target_size = sizeof(uint64_t);
        break;
    case offsetof(Data, addr):
        through(offsetof(PerfEventDataKern, data), offsetof(PerfSampleData, addr));
        out.target_size = sizeof(uint64_t);
        break;
    default: through(offsetof(PerfEventDataKern, regs), si.off); break;
    }
}

// bpf_tracing_func_proto under each type's get_func_proto
constexpr HelperSet kprobe_helpers =
    tracing_func_proto | HelperSet{H::perf_event_output, H::get_stackid, H::get_stack,
                                   H::override_return,   H::get_func_ip, H::get_attach_cookie};
constexpr HelperSet tp_helpers =
    tracing_func_proto |
    HelperSet{H::perf_event_output, H::get_stackid, H::get_stack, H::get_attach_cookie};
constexpr HelperSet raw_tp_helpers = tp_helpers;
constexpr HelperSet pe_helpers =
    tracing_func_proto | HelperSet{H::perf_event_output,   H::get_stackid,
                                   H::get_stack,           H::perf_prog_read_value,
                                   H::read_branch_records, H::get_attach_cookie};

// A tracing type: no packet, no LD_ABS, no return-code rule, no named verdicts.
constexpr ProgTypeInfo tracing_type(ProgType type, const char* name, uint32_t ctx_size,
                                    IsValidAccess is_valid_access, ConvertCtxAccess convert,
                                    HelperSet helpers) {
    return {type,  name,         ctx_size, is_valid_access, convert, helpers, PacketAccess::none,
            false, std::nullopt, {}};
}

constexpr ProgTypeInfo kprobe_x86_64 =
    tracing_type(ProgType::kprobe, "kprobe", sizeof(PtRegsX86_64),
                 kprobe_prog_is_valid_access<PtRegsX86_64>, nullptr, kprobe_helpers);
constexpr ProgTypeInfo kprobe_arm64 =
    tracing_type(ProgType::kprobe, "kprobe", sizeof(UserPtRegsArm64),
                 kprobe_prog_is_valid_access<UserPtRegsArm64>, nullptr, kprobe_helpers);
constexpr ProgTypeInfo tracepoint_info =
    tracing_type(ProgType::tracepoint, "tracepoint", uapi::PERF_MAX_TRACE_SIZE,
                 tp_prog_is_valid_access, nullptr, tp_helpers);
constexpr ProgTypeInfo raw_tracepoint_info =
    tracing_type(ProgType::raw_tracepoint, "raw_tracepoint", sizeof(RawTracepointArgs),
                 raw_tp_prog_is_valid_access, nullptr, raw_tp_helpers);
constexpr ProgTypeInfo perf_event_x86_64 = tracing_type(
    ProgType::perf_event, "perf_event", sizeof(PerfEventData<PtRegsX86_64>),
    pe_prog_is_valid_access<PtRegsX86_64>, pe_prog_convert_ctx_access<PtRegsX86_64>, pe_helpers);
constexpr ProgTypeInfo perf_event_arm64 =
    tracing_type(ProgType::perf_event, "perf_event", sizeof(PerfEventData<UserPtRegsArm64>),
                 pe_prog_is_valid_access<UserPtRegsArm64>,
                 pe_prog_convert_ctx_access<UserPtRegsArm64>, pe_helpers);

// A context that is bytes the program reads in place: pt_regs, a record, arguments. buf is as
// large as anything a verified program may read; readable is the part checked mode lets it read.
class ByteContext final : public RunContext {
  public:
    ByteContext(size_t size, std::span<const uint8_t> content, size_t readable_begin,
                size_t readable_end)
        : buf_(size, 0), readable_begin_(readable_begin), readable_end_(readable_end) {
        std::memcpy(buf_.data(), content.data(), content.size());
    }

    void* ctx() override { return buf_.data(); }
    Status attach(RunState& state) override {
        if (!state.allow(buf_.data() + readable_begin_, readable_end_ - readable_begin_, false)) {
            return Error{"the run's memory region table is full", std::nullopt};
        }
        return std::nullopt;
    }

  private:
    std::vector<uint8_t> buf_;
    size_t readable_begin_;
    size_t readable_end_;
};

// bpf_perf_event_data split as the kernel holds it: registers and sample apart.
template <typename Regs> class PerfEventContext final : public RunContext {
  public:
    explicit PerfEventContext(const PerfEventData<Regs>& in)
        : regs_(in.regs), sample_{in.sample_period, in.addr}, kern_{&regs_, &sample_} {}

    void* ctx() override { return &kern_; }
    Status attach(RunState& state) override {
        if (!state.allow(&kern_, sizeof kern_, false) ||
            !state.allow(&regs_, sizeof regs_, false) ||
            !state.allow(&sample_, sizeof sample_, false)) {
            return Error{"the run's memory region table is full", std::nullopt};
        }
        return std::nullopt;
    }

  private:
    Regs regs_;
    PerfSampleData sample_;
    PerfEventDataKern kern_;
};

template <typename Regs>
Result<std::unique_ptr<RunContext>> perf_event_context(const TestRunInput& input) {
    auto ctx = bpf_ctx_init(input, sizeof(PerfEventData<Regs>));
    if (!ctx) return ctx.error();
    PerfEventData<Regs> data{};
    if (*ctx) std::memcpy(&data, (*ctx)->data(), sizeof data);
    return std::unique_ptr<RunContext>(new PerfEventContext<Regs>(data));
}

} // namespace

const ProgTypeInfo* tracing_prog_type_info(ProgType type, RegsArch arch) {
    const bool arm64 = arch == RegsArch::arm64;
    switch (type) {
    case ProgType::kprobe: return arm64 ? &kprobe_arm64 : &kprobe_x86_64;
    case ProgType::tracepoint: return &tracepoint_info;
    case ProgType::raw_tracepoint: return &raw_tracepoint_info;
    case ProgType::perf_event: return arm64 ? &perf_event_arm64 : &perf_event_x86_64;
    default: return nullptr;
    }
}

Result<std::unique_ptr<RunContext>> make_tracing_test_run(ProgType type, const TestRunInput& input,
                                                          RegsArch arch) {
    const ProgTypeInfo* info = tracing_prog_type_info(type, arch);
    if (!info) return Error{"not a tracing program type", std::nullopt};
    if (!input.data.empty() || input.ctx_out) {
        return test_run_error("EINVAL", std::string(info->name) +
                                            " programs take neither data_in nor ctx_out");
    }
    const std::span<const uint8_t> in = input.ctx.value_or(std::span<const uint8_t>{});
    switch (type) {
    case ProgType::raw_tracepoint:
        // bpf_prog_test_run_raw_tp
        if (in.size() < input.max_ctx_offset || in.size() > sizeof(RawTracepointArgs)) {
            return test_run_error("EINVAL", "ctx_in must cover the arguments the program reads "
                                            "and hold at most 12");
        }
        return std::unique_ptr<RunContext>(
            new ByteContext(sizeof(RawTracepointArgs), in, 0, in.size()));
    case ProgType::tracepoint:
        // What perf_event_set_bpf_prog checks at attach time.
        if (in.size() > uapi::PERF_MAX_TRACE_SIZE) {
            return test_run_error("E2BIG", "a trace record holds at most 8192 bytes");
        }
        if (in.size() < input.max_ctx_offset) {
            return test_run_error("EACCES", "the record is shorter than what the program reads");
        }
        return std::unique_ptr<RunContext>(
            new ByteContext(uapi::PERF_MAX_TRACE_SIZE, in, uapi::tracepoint_hidden_bytes,
                            std::max<size_t>(in.size(), uapi::tracepoint_hidden_bytes)));
    case ProgType::kprobe: {
        auto ctx = bpf_ctx_init(input, info->ctx_size);
        if (!ctx) return ctx.error();
        const auto regs = *ctx ? std::span<const uint8_t>(**ctx) : std::span<const uint8_t>{};
        return std::unique_ptr<RunContext>(
            new ByteContext(info->ctx_size, regs, 0, info->ctx_size));
    }
    default:
        return arch == RegsArch::arm64 ? perf_event_context<UserPtRegsArm64>(input)
                                       : perf_event_context<PtRegsX86_64>(input);
    }
}

} // namespace ebpf
