#include "vm/vm.hpp"

#include "vm/progtypes/progtype_helpers.hpp"

namespace ebpf {

Vm::Vm() : helpers_(std::make_unique<HelperRegistry>()) {
    register_kernel_helpers(*helpers_);
    register_progtype_helpers(*helpers_);
}

void Vm::register_helper(int32_t id, std::string name, HelperFn fn) {
    helpers_->add(id, std::move(name), fn);
}

Result<Program> Vm::load(Insns insns) const {
    return Program::load(insns, *helpers_);
}

Result<uint64_t> Vm::run(const Program& prog, std::span<uint8_t> memory, Mode mode,
                         void* host) const {
    RunState state;
    state.host = host;
    RunArgs args;
    args.mode = mode;
    args.r1 = memory.empty() ? 0 : reinterpret_cast<uint64_t>(memory.data());
    args.r2 = memory.size();
    state.ctx = memory.empty() ? nullptr : memory.data();
    if (!memory.empty()) state.allow(memory.data(), memory.size(), true);
    auto result = interpret(prog, args, state);
    if (!result) return result.error();
    return result->r0;
}

} // namespace ebpf
