#include "tests/progtypes/vm_run.hpp"

#include <catch2/catch.hpp>

namespace progtypes_test {

using namespace ebpf;

std::vector<Insn> asm_prog(const std::string& text) {
    auto insns = assemble(text);
    INFO(text);
    REQUIRE(insns);
    return *insns;
}

Result<uint64_t> run_in_vm(ProgType type, const std::vector<Insn>& insns,
                           const std::set<size_t>& ctx_insns, RunContext& ctx, Mode mode) {
    static const Vm vm;
    const ProgTypeInfo* info = prog_type_info(type);
    REQUIRE(info);
    auto rewritten =
        convert_ctx_accesses(insns, *info, [&](size_t i) { return ctx_insns.count(i) != 0; });
    if (!rewritten) return rewritten.error();
    auto prog = vm.load(*rewritten);
    if (!prog) return prog.error();
    RunState state;
    if (Status err = ctx.attach(state)) return *err;
    RunArgs args;
    args.r1 = reinterpret_cast<uint64_t>(ctx.ctx());
    args.mode = mode;
    auto result = vm.run(*prog, args, state);
    if (!result) return result.error();
    return result->r0;
}

std::unique_ptr<RunContext> make_context(ProgType type, std::span<const uint8_t> data,
                                         std::optional<std::span<const uint8_t>> ctx,
                                         bool ctx_out) {
    TestRunInput input;
    input.data = data;
    input.ctx = ctx;
    input.ctx_out = ctx_out;
    auto run = make_test_run_context(type, input);
    if (!run) FAIL(run.error().to_string());
    return std::move(*run);
}

std::vector<uint8_t> udp_frame() {
    return {// Ethernet: to 00:00:00:00:00:00 (the loopback's address), from 02:00:00:00:00:01, IPv4
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
            // IPv4: 20-byte header, total length 36, TTL 64, UDP, 10.0.0.1 -> 10.0.0.2
            0x45, 0x00, 0x00, 0x24, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0x0a, 0x00,
            0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
            // UDP: 1234 -> 53, length 16
            0x04, 0xd2, 0x00, 0x35, 0x00, 0x10, 0x00, 0x00,
            // payload
            0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
}

} // namespace progtypes_test
