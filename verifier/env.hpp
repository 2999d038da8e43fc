// The verifier's working state for one program (the kernel's struct bpf_verifier_env) and the
// passes over it. Each pass lives in its own file: cfg.cpp (subprograms and the control-flow
// graph), do_check.cpp (path exploration), alu.cpp, jmp.cpp, mem.cpp, calls.cpp, prune.cpp,
// log.cpp.
#pragma once

#include "verifier/state.hpp"
#include "verifier/verifier.hpp"
#include "vm/isa/opcodes.hpp"

#include <cstdarg>
#include <string>
#include <vector>

namespace ebpf::verifier {

struct Subprog {
    uint32_t start = 0;
    uint32_t stack_depth = 0;
    bool has_tail_call = false;
    bool has_ld_abs = false;
};

// A branch left for later (the kernel's bpf_verifier_stack_elem).
struct PendingBranch {
    VerifierState state;
    uint32_t insn_idx = 0;
    uint32_t prev_insn_idx = 0;
};

// Operand kinds for check_reg_arg, as the kernel's enum reg_arg_type.
enum class RegArg { src_op, dst_op, dst_op_no_mark };

class Env {
  public:
    Env(Insns insns, const VerifierOptions& options);
    VerifierResult run();

  private:
    // --- log.cpp ---
    void verbose(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
    // Records the error (printed last before the statistics) and returns err.
    int reject(int err, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
    std::string reg_str(const RegState& reg) const;
    std::string state_str(const VerifierState& st) const;
    void print_insn(uint32_t idx);
    void print_stats();

    // --- cfg.cpp ---
    int add_subprogs();
    int check_subprogs();
    int resolve_pseudo_ldimm64();
    int check_cfg();
    int check_map_prog_compatibility(const Map& map);
    int find_subprog(uint32_t start) const;
    uint32_t subprog_of(uint32_t insn_idx) const;

    // --- do_check.cpp ---
    int do_check();
    void init_func_state(FuncState& f, uint32_t frameno, uint32_t subprogno, int callsite);
    int check_reg_arg(uint32_t regno, RegArg arg);
    int push_branch(uint32_t insn_idx, uint32_t prev_insn_idx);
    bool pop_branch(uint32_t& insn_idx, uint32_t& prev_insn_idx);
    int check_ld_imm(const Insn& insn, uint32_t idx);
    int check_exit(uint32_t& insn_idx);
    int save_aux_ptr_type(uint32_t insn_idx, RegType type);
    int check_resource_leak(bool check_lock, const char* prefix);

    // --- alu.cpp ---
    int check_alu_op(const Insn& insn);
    int adjust_reg_min_max_vals(const Insn& insn);
    int adjust_scalar_min_max_vals(const Insn& insn, RegState& dst, RegState src);

    // --- jmp.cpp ---
    int check_cond_jmp_op(const Insn& insn, uint32_t& insn_idx);

    // --- mem.cpp ---
    int check_mem_access(uint32_t insn_idx, uint32_t regno, int off, int size, bool write,
                         int value_regno, bool sign_ext);
    int check_ptr_alignment(const RegState& reg, int off, int size, bool strict_once);
    int check_mem_access_once(uint32_t insn_idx, uint32_t regno, int off, int size, bool write,
                              int value_regno, bool sign_ext, bool strict_once);
    int check_ptr_off_reg(const RegState& reg, uint32_t regno);
    int check_mem_access_bounds(uint32_t regno, int64_t off, int size, uint32_t mem_size,
                                bool zero_size_allowed);
    int check_mem_region_access(uint32_t regno, int off, int size, uint32_t mem_size,
                                bool zero_size_allowed = false);
    int check_packet_access(uint32_t regno, int off, int size, bool zero_size_allowed = false);
    int check_stack_write(FuncState& frame, int off, int size, int value_regno, uint32_t insn_idx);
    int check_stack_read(FuncState& frame, int off, int size, int dst_regno);
    int check_atomic(const Insn& insn, uint32_t insn_idx);
    int check_ld_abs(const Insn& insn);
    int adjust_ptr_min_max_vals(const Insn& insn, RegState& dst, const RegState& ptr,
                                const RegState& off);

    // --- sanitize.cpp: unprivileged pointer arithmetic ---
    struct SanitizeInfo {
        bool mask_to_left = false;
        uint32_t alu_state = 0, alu_limit = 0;
    };
    int sanitize_ptr_alu(const Insn& insn, uint32_t insn_idx, const RegState& ptr,
                         const RegState& off, bool off_is_dst, SanitizeInfo& info, bool commit);
    int sanitize_check_bounds(const Insn& insn, const RegState& dst);

    // --- ctx.cpp: the program type's context and packet rules ---
    int check_ctx_access(int off, int size, bool write, bool sign_ext, RegType& loaded,
                         uint32_t& loaded_flags);
    bool packet_writable() const;

    // --- calls.cpp ---
    int check_helper_call(const Insn& insn, uint32_t insn_idx);
    int check_helper_mem_access(uint32_t regno, int64_t access_size, bool write,
                                bool zero_size_allowed);
    int check_stack_range(uint32_t regno, int off, int access_size, bool zero_size_allowed,
                          bool write);
    void note_stack_depth(const FuncState& frame, uint32_t depth);
    int check_max_stack_depth();
    int check_kfunc_calls_eliminated();
    int check_func_call(const Insn& insn, uint32_t& insn_idx);
    int process_spin_lock(uint32_t regno, bool is_lock);
    int check_reg_const_str(uint32_t regno);
    int64_t constant_map_key(const RegState& key, const MapDef& def);
    int push_callback_call(int32_t func_id, uint32_t insn_idx, uint32_t target,
                           const RegState* map_reg);

    // --- precision.cpp ---
    // Marks what the current value of regno (a scalar) came from precise in the checkpoints of
    // this path.
    int mark_chain_precision(uint32_t regno);
    void mark_stack_slot_precision(uint32_t frameno, uint32_t spi);
    // A path pruned by node relies on node's precise scalars: marks their sources on this path.
    void propagate_precision(const StateNode& node);
    void backtrack(struct Backtrack& bt, bool skip_first);
    void mark_all_scalars_precise();

    // --- liveness.cpp ---
    void compute_live_registers();
    std::vector<uint16_t> live_in_; // per instruction: registers read before being written

    // --- prune.cpp ---
    // 1: the current state is covered by an explored one (stop this path); 0: go on; <0 error.
    int is_state_visited(uint32_t insn_idx);
    void update_branch_counts(std::shared_ptr<StateNode> node);
    bool states_equal(const StateNode& old, const VerifierState& cur, uint32_t insn_idx,
                      bool exact) const;
    void mark_stack_read(uint32_t frameno, int64_t lo, int64_t hi); // bytes [lo, hi) below fp
    void mark_stack_written(uint32_t frameno, int off, int size);
    bool states_identical(const VerifierState& a, const VerifierState& b, uint32_t insn_idx) const;

    Insns insns_;
    VerifierOptions opts_;
    std::string log_;
    std::string error_;
    std::optional<uint32_t> error_insn_;
    std::vector<Subprog> subprogs_; // sorted by start; a final entry at insn count
    // From check_cfg, as the kernel marks them: where is_state_visited runs, where the jump
    // history grows, where a checkpoint is always taken.
    std::vector<bool> prune_point_, jmp_point_, force_checkpoint_;
    std::vector<InsnAux> aux_;
    // Checkpoints per instruction in the order they were made: those whose paths are still being
    // explored (branches > 0: loops may come back to them) and those finished (they prune).
    std::vector<std::vector<std::shared_ptr<StateNode>>> states_;
    uint64_t jmps_processed_ = 0, prev_jmps_processed_ = 0, prev_insn_processed_ = 0;
    uint32_t id_gen_ = 0;
    std::vector<PendingBranch> branches_;
    VerifierState cur_;
    uint64_t insn_processed_ = 0;
    uint32_t total_states_ = 0, peak_states_ = 0, max_states_per_insn_ = 0;
    uint32_t cur_insn_ = 0; // for messages
    uint32_t max_ctx_offset_ = 0;
    // Unprivileged pointer arithmetic with unknown offsets was seen: pruning compares scalars
    // exactly (the kernel's explore_alu_limits).
    bool explore_alu_limits_ = false;
};

inline constexpr int EINVAL_ = 22, EACCES_ = 13, E2BIG_ = 7, EFAULT_ = 14, EPERM_ = 1, EBADF_ = 9;

} // namespace ebpf::verifier
