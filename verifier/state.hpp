// Verifier state, as the kernel's bpf_func_state / bpf_verifier_state: registers and stack of
// each frame of the call chain, and the references the path holds.
#pragma once

#include "verifier/reg_state.hpp"

#include "vm/isa/insn.hpp"

#include <array>
#include <bitset>
#include <memory>
#include <vector>

namespace ebpf::verifier {

// What one byte of a stack slot holds (the kernel's STACK_*).
enum class SlotType : uint8_t { invalid, spill, misc, zero };

struct StackSlot {
    RegState spilled_ptr; // the register spilled here, when the slot is a full spill
    std::array<SlotType, 8> slot_type{};
};

struct FuncState {
    std::array<RegState, MAX_BPF_REG> regs{};
    std::vector<StackSlot> stack; // slot i covers fp-8*(i+1) .. fp-8*i-1
    uint32_t frameno = 0;
    uint32_t subprogno = 0;
    int callsite = -1;           // the call instruction in the caller frame
    bool in_callback_fn = false; // a callback: returns to its helper call, R0 in [0, 1]
    uint32_t callback_depth = 0; // callback iterations this frame has started at its helper call

    size_t allocated_stack() const { return stack.size() * 8; }
    void grow_stack(size_t bytes) {
        const size_t slots = (bytes + 7) / 8;
        if (slots > stack.size()) stack.resize(slots);
    }
};

struct RefState {
    uint32_t id = 0;
    int insn_idx = 0; // where it was acquired
};

struct StateNode;

// A register or a spilled stack slot of some frame.
struct RegRef {
    uint8_t frame = 0;
    bool stack = false;
    uint8_t index = 0; // register number or stack slot
};

// One instruction of a path (the kernel's jump history, kept here for every instruction): where
// it ran, and for precision tracking the stack slot it read or wrote at a fixed offset, and at
// a branch the scalars linked (same id) to the compared ones, which it refined together.
struct HistEntry {
    static constexpr uint8_t max_linked = 6, too_many_linked = 0xff;
    uint32_t idx = 0;
    uint8_t frame = 0;       // the frame it ran in
    int8_t stack_frame = -1; // the frame whose stack it accessed, or -1
    uint8_t spi = 0;         // that stack's slot
    bool callback_exit = false;
    uint8_t nlinked = 0; // or too_many_linked
    std::array<RegRef, max_linked> linked{};
};

// Stack slots of the whole call chain: frame * 64 + slot (64 slots of 8 bytes a frame).
using SlotSet = std::bitset<MAX_CALL_FRAMES * MAX_BPF_STACK / 8>;
inline size_t slot_key(uint32_t frameno, size_t spi) {
    return frameno * (MAX_BPF_STACK / 8) + spi;
}

struct VerifierState {
    std::vector<std::unique_ptr<FuncState>> frames;
    std::shared_ptr<StateNode> parent; // the last checkpoint on this path
    SlotSet written;                   // stack slots written whole since that checkpoint
    std::vector<HistEntry> history;    // the instructions run since that checkpoint
    // What the kernel's jump history would hold since that checkpoint (jump targets reached,
    // register spills and fills, linked registers at a branch): over 40 forces a checkpoint.
    uint32_t jmp_history_cnt = 0;
    std::vector<RefState> refs;
    uint32_t curframe = 0;
    uint32_t active_spin_lock_id = 0;
    const Map* active_spin_lock_map = nullptr; // the map whose value's lock is held

    VerifierState() = default;
    VerifierState(const VerifierState& other) { *this = other; }
    VerifierState& operator=(const VerifierState& other) {
        if (this == &other) return *this;
        frames.clear();
        for (const auto& f : other.frames)
            frames.push_back(std::make_unique<FuncState>(*f));
        refs = other.refs;
        curframe = other.curframe;
        active_spin_lock_id = other.active_spin_lock_id;
        active_spin_lock_map = other.active_spin_lock_map;
        parent = other.parent;
        written = other.written;
        history = other.history;
        jmp_history_cnt = other.jmp_history_cnt;
        return *this;
    }
    VerifierState(VerifierState&&) = default;
    VerifierState& operator=(VerifierState&&) = default;

    FuncState& cur() { return *frames[curframe]; }
    const FuncState& cur() const { return *frames[curframe]; }
};

// A checkpoint: a state the exploration passed at a prune point. branches counts the paths
// from it still being explored; at zero it is finished and may prune later paths.
struct StateNode {
    VerifierState state;
    uint32_t insn_idx = 0;
    uint32_t branches = 1;
    uint32_t hit_cnt = 0, miss_cnt = 0; // states that keep missing are dropped
    // Stack slots some path from here read before writing them: only those matter when this
    // state is compared (the kernel's read marks). written: slots written whole between the
    // parent checkpoint and this one, where read marks stop going up.
    SlotSet read, written;
    std::vector<HistEntry> history; // the instructions from the parent checkpoint to this one
    // Compared with every scalar's bounds, precise or not: a path from here was cut short by a
    // checkpoint still being explored, so the precision marks here may be incomplete.
    bool exact = false;
};

} // namespace ebpf::verifier
