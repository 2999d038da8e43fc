// The LRU behind the LRU hash kinds, as the kernel's kernel/bpf/bpf_lru_list.c (Linux 6.18) runs
// it over a map's preallocated elements (internal to maps/), so that the same updates evict the
// same keys.
//
// Common LRU (the default): global active, inactive and free lists, and for each CPU a local
// free list and a pending list. An update takes an element from its CPU's local free list onto
// the pending list. When that local free list is empty, the CPU flushes its pending elements into
// the global lists (active when referenced, else inactive), rotates them, and refills its free
// list with target_free elements: free ones first, then ones shrunk from the inactive list's tail
// (evicted from the table), or as a last resort one taken regardless of its ref bit. When even
// that finds nothing, it steals from the CPUs' local free and pending lists in turn.
// Per-CPU LRU (BPF_F_NO_COMMON_LRU): each CPU owns its share of the elements in lists of its own,
// and an update only ever takes one of its CPU's.
//
// A program's lookup sets the element's ref bit without a lock. Everything else runs under one
// lock (the kernel has one a list): the outcome is one the kernel's locking allows too.
#pragma once

#include "maps/map_impl.hpp"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace ebpf::detail {

class BpfLru {
  public:
    // htab_lru_map_delete_node(): unlinks the element from the hash table for eviction; false
    // when it is not there (an update has yet to link it, or a delete has unlinked it and is about
    // to push it free).
    using DelFromHtab = std::function<bool(uint32_t node)>;

    // bpf_lru_init() and bpf_lru_populate(): nodes 0 .. nr_elems - 1, all free. A per-CPU LRU
    // wants nr_elems a multiple of ncpus, as htab_map_alloc() rounds max_entries.
    BpfLru(bool percpu, uint32_t nr_elems, uint32_t ncpus, DelFromHtab del_from_htab);

    // bpf_lru_pop_free(): a node for an insert on cpu, or nil when none could be found.
    uint32_t pop_free(uint32_t cpu);
    // bpf_lru_push_free(): a node no longer in the table.
    void push_free(uint32_t node);
    // bpf_lru_node_set_ref(): a lookup's mark, without the lock.
    void set_ref(uint32_t node) {
        if (!ref_[node].load(std::memory_order_relaxed))
            ref_[node].store(1, std::memory_order_relaxed);
    }

  private:
    // enum bpf_lru_list_type: the three lists of a bpf_lru_list, then the two of a CPU's local
    // list. Only active and inactive are counted.
    enum ListType : uint8_t { lru_active, lru_inactive, lru_free, local_free, local_pending };
    static constexpr uint8_t nr_lru_list_t = 3, nr_lru_list_count = 2;

    // struct list_head as indices: a circular list through a head node. Nodes below nr_elems_
    // are the map's elements; the list heads follow.
    struct Node {
        uint32_t prev = nil, next = nil;
        uint16_t cpu = 0;
        uint8_t type = lru_free;
    };
    struct LruList { // struct bpf_lru_list
        uint32_t lists[nr_lru_list_t];
        uint32_t counts[nr_lru_list_count] = {0, 0};
        uint32_t next_inactive_rotation;
    };
    struct LocalList { // struct bpf_lru_locallist
        uint32_t free_list, pending_list;
        uint32_t next_steal;
    };

    uint32_t new_head();
    void list_del(uint32_t node);
    void list_add(uint32_t node, uint32_t head);
    void list_move(uint32_t node, uint32_t head) {
        list_del(node);
        list_add(node, head);
    }
    bool list_empty(uint32_t head) const { return nodes_[head].next == head; }
    bool is_ref(uint32_t node) const { return ref_[node].load(std::memory_order_relaxed); }
    void clear_ref(uint32_t node) { ref_[node].store(0, std::memory_order_relaxed); }

    // With lock_ held from here on.
    void node_move_to_free(LruList& l, uint32_t node, uint32_t free_list, ListType tgt_free_type);
    void node_move_in(LruList& l, uint32_t node, ListType tgt_type);
    void node_move(LruList& l, uint32_t node, ListType tgt_type);
    void rotate_active(LruList& l);
    void rotate_inactive(LruList& l);
    void rotate(LruList& l);
    uint32_t shrink_inactive(LruList& l, uint32_t tgt_nshrink, uint32_t free_list,
                             ListType tgt_free_type);
    uint32_t shrink(LruList& l, uint32_t tgt_nshrink, uint32_t free_list, ListType tgt_free_type);
    void local_list_flush(LruList& l, LocalList& loc_l);
    void pop_free_to_local(LocalList& loc_l);
    void local_list_add_pending(LocalList& loc_l, uint32_t cpu, uint32_t node);
    uint32_t local_list_pop_free(LocalList& loc_l);
    uint32_t local_list_pop_pending(LocalList& loc_l);
    uint32_t percpu_lru_pop_free(uint32_t cpu);
    uint32_t common_lru_pop_free(uint32_t cpu);

    const bool percpu_;
    const uint32_t nr_elems_;
    const uint32_t ncpus_;
    const uint32_t nr_scans_;
    const uint32_t target_free_; // common LRU: how many nodes a local free list is refilled with
    const DelFromHtab del_from_htab_;
    std::mutex lock_;
    std::vector<Node> nodes_;
    std::unique_ptr<std::atomic<uint8_t>[]> ref_;
    LruList common_lru_;                 // common LRU only
    std::vector<LocalList> local_lists_; // common LRU: one a CPU
    std::vector<LruList> percpu_lru_;    // per-CPU LRU: one a CPU
};

} // namespace ebpf::detail
