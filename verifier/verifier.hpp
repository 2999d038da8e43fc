// The verifier: the kernel's check of a program before it may run, with the kernel's verdicts,
// messages and log format. A verified program runs without runtime checks.
#pragma once

#include "maps/map.hpp"
#include "verifier/reg_state.hpp"
#include "vm/isa/insn.hpp"
#include "vm/progtypes/prog_type.hpp"

#include <optional>
#include <string>
#include <vector>

namespace ebpf {

struct VerifierOptions {
    ProgType prog_type = ProgType::socket_filter;
    bool privileged = true;        // loaded as root (bpf_capable, perfmon_capable)
    bool dag_mode = false;         // refuse every back-edge, as kernels before 5.3 did
    bool strict_alignment = false; // BPF_F_STRICT_ALIGNMENT
    bool test_state_freq = false;  // BPF_F_TEST_STATE_FREQ: a checkpoint at every prune point
    uint32_t ncpus = 0;            // the CPUs runs may be on (nr_cpu_ids); 0: not known
    int log_level = 0;             // 0: error and statistics only; 1: per-insn; 2: with states
    // lddw with src BPF_PSEUDO_MAP_FD / BPF_PSEUDO_MAP_IDX refers to maps[imm]; the
    // _VALUE forms to maps[imm] with the value offset in the second slot's imm.
    std::vector<const Map*> maps;
};

// What the verifier learnt about one instruction, for the rewrites that follow it.
struct InsnAux {
    bool seen = false;
    verifier::RegType ptr_type = verifier::RegType::not_init; // memory accesses: what was accessed
    // Unprivileged pointer arithmetic: how the kernel would mask it (alu_state 0: not at all).
    // Paths that reach the instruction must agree on it.
    uint32_t alu_state = 0, alu_limit = 0;
};

struct VerifierResult {
    bool accepted = false;
    std::string log;   // the kernel's format
    std::string error; // the message printed last before the statistics; empty when accepted
    std::optional<uint32_t> error_insn;
    uint64_t insns_processed = 0;
    std::vector<uint32_t> stack_depth; // per subprogram
    uint32_t max_ctx_offset = 0;       // end of the furthest context access (test runs need it)
    std::vector<InsnAux> aux;
};

VerifierResult verify(Insns insns, const VerifierOptions& options);

// The program as the kernel keeps it after verification: every instruction no path reached is
// replaced by a jump to itself (sanitize_dead_code), so dead code, which the verifier never
// checked, can neither run nor be refused by the loader; an exit's offset, which the kernel
// ignores, is cleared.
std::vector<Insn> sanitize_dead_code(Insns insns, const VerifierResult& result);

} // namespace ebpf
