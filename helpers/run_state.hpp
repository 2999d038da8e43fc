// What a helper sees of the run that called it: the host's data, the memory the run may touch
// (checked mode), the CPU it runs as, the context, what the host stands in for the kernel with (a
// synthetic memory image, the current task), what the run leaves for the host (trace_printk
// lines, a redirect), and a way to fault.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace ebpf {

class Map;
class Program;
struct Sock;

struct MemoryRegion {
    uint64_t begin = 0;
    uint64_t size = 0;
    bool writable = false;

    bool contains(uint64_t addr, uint64_t len) const {
        return addr >= begin && len <= size && addr - begin <= size - len;
    }
};

// Bytes of the synthetic address space that bpf_probe_read*() and the %s of bpf_trace_printk and
// bpf_snprintf read, at the address a program sees them.
struct MemoryImage {
    uint64_t addr = 0;
    std::span<const uint8_t> bytes;
};

// The task a run is in, as bpf_get_current_pid_tgid(), _uid_gid() and _comm() report it.
struct TaskIdentity {
    uint32_t pid = 0;  // the thread (the kernel's task->pid)
    uint32_t tgid = 0; // its process
    uint32_t uid = 0;
    uint32_t gid = 0;
    std::array<char, 16> comm{}; // TASK_COMM_LEN bytes, NUL-padded
    // What bpf_get_current_task answers: where the task's struct task_struct lies in the address
    // space the probe reads see (RunState's memory image). 0: this VM has no task_struct for it,
    // and reads through the pointer fault as reads of unmapped memory do.
    uint64_t task_struct = 0;
    // The net_cls (cgroup v1) class id of the task's cgroup (bpf_get_cgroup_classid); 0: none.
    uint32_t net_cls_classid = 0;
};

// Where bpf_redirect or bpf_redirect_map sent the packet, as the kernel's bpf_redirect_info keeps
// it for the driver: the host acts on it when the program returns XDP_REDIRECT or TC_ACT_REDIRECT.
// bpf_redirect_neigh and bpf_redirect_peer set the kernel's internal flags BPF_F_NEIGH (1 << 1),
// BPF_F_PEER (1 << 2) and, with a nexthop given, BPF_F_NEXTHOP (1 << 3).
struct RedirectInfo {
    uint32_t ifindex = 0;     // tgt_index: the device, or the key in map
    uint64_t flags = 0;       // BPF_F_INGRESS, BPF_F_BROADCAST, ...
    const Map* map = nullptr; // bpf_redirect_map's map; null for bpf_redirect
    uint8_t nh[20] = {};      // bpf_redirect_neigh's struct bpf_redir_neigh, with BPF_F_NEXTHOP
};

// A copy of the packet bpf_clone_redirect sent to a device (its ingress with BPF_F_INGRESS),
// as the packet was at the call: the host delivers it.
struct SkbClone {
    uint32_t ifindex = 0;
    uint64_t flags = 0;
    std::vector<uint8_t> packet; // from the MAC header
};

class RunState {
  public:
    // Room for a context's regions and one stack for each of the nested runs callbacks make.
    static constexpr size_t max_regions = 32;
    static constexpr size_t max_moving_regions = 4;

    RunState() = default;
    RunState(const RunState&) = delete;
    RunState& operator=(const RunState&) = delete;
    // A checked run that ended holding a bpf_spin_lock gives it back.
    ~RunState();

    void* host = nullptr; // the embedding application's data, untouched by the VM
    uint32_t cpu = 0;     // what bpf_get_smp_processor_id() returns; per-CPU maps use it
    bool checked = false; // true in the interpreter's checked mode

    // The packet that legacy LD_ABS/LD_IND read (skb program types); empty elsewhere. Helpers that
    // move the packet's bounds keep it current.
    const uint8_t* packet = nullptr;
    size_t packet_len = 0;
    // LD_ABS/LD_IND below offset 0 (SKF_NET_OFF, SKF_LL_OFF): the kernel's
    // bpf_internal_load_pointer_neg_helper for this run's context, giving where `size` bytes at
    // offset k lie, or null where they do not (the load then ends the run with r0 = 0). Null
    // where the context has no headers.
    const uint8_t* (*load_pointer_neg)(const RunState& state, int64_t k, uint32_t size) = nullptr;

    // The run's context (what R1 holds at the start) and its program type's number (enum
    // bpf_prog_type), as RunContext::attach sets them. Helpers that take the context read it as
    // that type's runtime context; a checked run refuses a context argument that is not this one.
    void* ctx = nullptr;
    uint32_t ctx_prog_type = 0;

    // The maps of the program: a checked run may touch the values they handed out.
    std::span<Map* const> maps;

    // Tail calls: bpf_tail_call sets the program to continue with; the engine switches to it
    // after the helper returns. The count is the kernel's, limited to 33 a run.
    const Program* pending_tail_call = nullptr;
    uint32_t tail_call_cnt = 0;

    // Callbacks (bpf_loop, bpf_for_each_map_elem): the engine running the program calls the
    // subprogram starting at instruction `target` with r1-r5 and gives back its r0. A failure
    // (fault, budget) is reported through fault().
    using CallFn = uint64_t (*)(RunState* state, uint64_t target, uint64_t r1, uint64_t r2,
                                uint64_t r3, uint64_t r4, uint64_t r5);
    CallFn call_subprog = nullptr;
    void* engine = nullptr; // the engine's own data for call_subprog

    // What the host stands in for the kernel with. Kernel memory is at addresses from
    // 0xffff800000000000 and user memory below 0x00007ffffffff000, as on x86-64; a read of bytes
    // no image holds faults as the kernel's nofault copies do.
    std::span<const MemoryImage> kernel_memory;
    std::span<const MemoryImage> user_memory;
    // Null: no current task (the kernel's helpers then answer -EINVAL).
    const TaskIdentity* task = nullptr;
    // What a probe's attachment gives bpf_get_func_ip (the probed function's address; 0 where the
    // kprobe is not at a function's entry) and bpf_get_attach_cookie (the cookie the attachment
    // was made with; 0 for none, as in a kernel test run).
    uint64_t func_ip = 0;
    uint64_t attach_cookie = 0;
    // The network namespace's cookie (net->net_cookie), which bpf_get_netns_cookie reports: no
    // two namespaces of a boot share one, and none is 0. 1 unless the host gives its own.
    uint64_t netns_cookie = 1;

    // The sockets of the namespace the run is in, as bpf_sk_lookup_tcp and its kin search them
    // (helpers/sock.hpp); empty, as in a kernel test run with no matching socket, they find none.
    // The host owns them and keeps them alive for the run.
    std::span<Sock* const> sockets;
    // The context's own socket (skb->sk), as the context's attach sets it; null for none.
    Sock* ctx_sock = nullptr;
    // True when addr is a view of one of the two (a socket a helper may take).
    bool knows_sock_view(uint64_t addr) const;

    // The call chains a probe fired in, innermost frame first, as perf would have walked them
    // (the kernel stack of the probed context, the user stack of its task): what bpf_get_stackid
    // and bpf_get_stack report. The host owns them; empty (the default), there is no chain.
    std::span<const uint64_t> kernel_callchain;
    std::span<const uint64_t> user_callchain;

    // The perf event a perf_event program runs for, as the host stands in for it: its count
    // (struct bpf_perf_event_value: counter, time enabled, time running) that
    // bpf_perf_prog_read_value reads, and the branch records of its sample (struct
    // perf_branch_entry: from, to, flags, 24 bytes each) that bpf_read_branch_records copies;
    // empty (the default), the sample has no branch stack.
    std::array<uint64_t, 3> perf_event_value{};
    std::span<const uint64_t> branch_records;

    // What the run leaves for the host: each bpf_trace_printk line (null: discarded), and the
    // last redirect.
    std::vector<std::string>* trace_pipe = nullptr;
    RedirectInfo redirect;
    std::vector<SkbClone>* clones = nullptr; // null: bpf_clone_redirect's copies are dropped

    // Adds memory a checked run may access; false when the table is full.
    bool allow(const void* begin, size_t size, bool writable) {
        if (nregions_ == max_regions) return false;
        regions_[nregions_++] = {reinterpret_cast<uint64_t>(begin), size, writable};
        return true;
    }
    // Regions that live for part of a run (a callback's stack, the key a callback reads): the
    // count before adding them, then drop_regions(count) forgets them, last in first out.
    size_t region_count() const { return nregions_; }
    void drop_regions(size_t count) {
        if (count < nregions_) nregions_ = count;
    }
    // Memory whose bounds helpers may move during the run (a packet, which bpf_xdp_adjust_head or
    // bpf_skb_change_tail resize): *begin and *end are read at each check.
    bool allow_moving(uint8_t* const* begin, uint8_t* const* end, bool writable) {
        if (nmoving_ == max_moving_regions) return false;
        moving_[nmoving_++] = {begin, end, writable};
        return true;
    }

    bool accessible(uint64_t addr, uint64_t len, bool write) const {
        for (size_t i = 0; i < nregions_; ++i) {
            const auto& r = regions_[i];
            if (r.contains(addr, len) && (!write || r.writable)) return true;
        }
        for (size_t i = 0; i < nmoving_; ++i) {
            const auto& m = moving_[i];
            const auto begin = reinterpret_cast<uint64_t>(*m.begin);
            const MemoryRegion r{begin, reinterpret_cast<uint64_t>(*m.end) - begin, m.writable};
            if (*m.end >= *m.begin && r.contains(addr, len) && (!write || r.writable)) return true;
        }
        return map_owns(addr, len, write) || (!write && sock_owns(addr, len));
    }

    // Maps a checked run may name: its own, and those a lookup in a map of maps handed out.
    bool knows_map(const Map* map) const;
    void note_handed_map(Map* map);
    std::span<Map* const> handed_maps() const { return handed_maps_; }

    // The bpf_spin_lock a checked run holds (one at most, as the verifier allows), so that a
    // second lock or a stray unlock faults instead of hanging the host thread.
    void* held_spin_lock = nullptr;

    // A helper that finds its arguments unusable stops the run with a message.
    void fault(std::string message) {
        if (!faulted_) fault_ = std::move(message);
        faulted_ = true;
    }
    bool faulted() const { return faulted_; }
    // For generated code that tests the flag after each helper call (the JIT takes its offset).
    const bool& fault_flag() const { return faulted_; }
    const std::string& fault_message() const { return fault_; }

  private:
    struct MovingRegion {
        uint8_t* const* begin;
        uint8_t* const* end;
        bool writable;
    };

    bool map_owns(uint64_t addr, uint64_t len, bool write) const; // run_state.cpp
    bool sock_owns(uint64_t addr, uint64_t len) const;            // a socket's views

    std::array<MemoryRegion, max_regions> regions_{};
    size_t nregions_ = 0;
    std::array<MovingRegion, max_moving_regions> moving_{};
    size_t nmoving_ = 0;
    std::vector<Map*> handed_maps_;
    bool faulted_ = false;
    std::string fault_;
};

// A legacy packet load at a negative offset k: the big-endian value of `size` (1, 2 or 4) bytes,
// or -1 where the kernel's load fails.
int64_t load_packet_neg(const RunState& state, int64_t k, uint32_t size);

} // namespace ebpf
