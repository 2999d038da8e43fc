// Running a program on a test-run context in this VM: its context accesses rewritten, then
// interpreted, as a verified program would be.
#pragma once

#include "vm/isa/assembler.hpp"
#include "vm/progtypes/test_run.hpp"
#include "vm/vm.hpp"

#include <set>
#include <string>
#include <vector>

namespace progtypes_test {

// The program's instructions from kernel-syntax text; the test fails on a syntax error.
std::vector<ebpf::Insn> asm_prog(const std::string& text);

// Rewrites the instructions at ctx_insns (the context accesses), loads the result and runs it with
// R1 = ctx in the given mode; the run's error, or R0.
ebpf::Result<uint64_t> run_in_vm(ebpf::ProgType type, const std::vector<ebpf::Insn>& insns,
                                 const std::set<size_t>& ctx_insns, ebpf::RunContext& ctx,
                                 ebpf::Mode mode = ebpf::Mode::checked);

// The test-run context of a type for a packet (and a ctx_in); the test fails if it cannot be built.
std::unique_ptr<ebpf::RunContext> make_context(ebpf::ProgType type, std::span<const uint8_t> data,
                                               std::optional<std::span<const uint8_t>> ctx = {},
                                               bool ctx_out = false);

// An Ethernet + IPv4 + UDP frame: 10.0.0.1:1234 -> 10.0.0.2:53, eight payload bytes 1..8.
std::vector<uint8_t> udp_frame();

} // namespace progtypes_test
