// The kernel's LRU lists (kernel/bpf/bpf_lru_list.c, Linux 6.18), step for step: which node
// each operation moves where, and in what order, decides which keys an insert evicts.
#include "maps/bpf_lru_list.hpp"

#include <algorithm>

namespace ebpf::detail {

namespace {

constexpr uint32_t local_free_target = 128; // LOCAL_FREE_TARGET
constexpr uint32_t local_nr_scans = local_free_target;
constexpr uint32_t percpu_free_target = 4; // PERCPU_FREE_TARGET
constexpr uint32_t percpu_nr_scans = percpu_free_target;

} // namespace

BpfLru::BpfLru(bool percpu, uint32_t nr_elems, uint32_t ncpus, DelFromHtab del_from_htab)
    : percpu_(percpu), nr_elems_(nr_elems), ncpus_(ncpus),
      nr_scans_(percpu ? percpu_nr_scans : local_nr_scans),
      // bpf_common_lru_populate(): half a CPU's share of the elements, within [1, 128]
      target_free_(std::clamp(nr_elems / ncpus / 2, 1u, local_free_target)),
      del_from_htab_(std::move(del_from_htab)), nodes_(nr_elems),
      ref_(new std::atomic<uint8_t>[nr_elems]) {
    const auto init_list = [this](LruList& l) {
        for (uint32_t& head : l.lists)
            head = new_head();
        l.next_inactive_rotation = l.lists[lru_inactive];
    };
    for (uint32_t i = 0; i < nr_elems; ++i)
        ref_[i].store(0, std::memory_order_relaxed);
    if (percpu) {
        // bpf_percpu_lru_populate(): CPU 0 gets the first nr_elems / ncpus elements, and so on,
        // each added at its free list's head.
        percpu_lru_.resize(ncpus);
        for (LruList& l : percpu_lru_)
            init_list(l);
        const uint32_t pcpu_entries = nr_elems / ncpus;
        uint32_t i = 0;
        for (uint32_t cpu = 0; cpu < ncpus && i < nr_elems; ++cpu) {
            do {
                nodes_[i].cpu = static_cast<uint16_t>(cpu);
                list_add(i, percpu_lru_[cpu].lists[lru_free]);
            } while (++i < nr_elems && i % pcpu_entries);
        }
        return;
    }
    init_list(common_lru_);
    local_lists_.resize(ncpus);
    for (uint32_t cpu = 0; cpu < ncpus; ++cpu) {
        local_lists_[cpu].free_list = new_head();
        local_lists_[cpu].pending_list = new_head();
        local_lists_[cpu].next_steal = cpu;
    }
    for (uint32_t i = 0; i < nr_elems; ++i)
        list_add(i, common_lru_.lists[lru_free]);
}

uint32_t BpfLru::new_head() {
    const auto head = static_cast<uint32_t>(nodes_.size());
    nodes_.push_back(Node{head, head});
    return head;
}

void BpfLru::list_del(uint32_t node) {
    Node& n = nodes_[node];
    nodes_[n.prev].next = n.next;
    nodes_[n.next].prev = n.prev;
}

void BpfLru::list_add(uint32_t node, uint32_t head) {
    const uint32_t first = nodes_[head].next;
    nodes_[node].prev = head;
    nodes_[node].next = first;
    nodes_[first].prev = node;
    nodes_[head].next = node;
}

// __bpf_lru_node_move_to_free(): from l's lists onto free_list (l's own or a CPU's local one).
void BpfLru::node_move_to_free(LruList& l, uint32_t node, uint32_t free_list,
                               ListType tgt_free_type) {
    if (node == l.next_inactive_rotation) l.next_inactive_rotation = nodes_[node].prev;
    if (nodes_[node].type < nr_lru_list_count) --l.counts[nodes_[node].type];
    nodes_[node].type = tgt_free_type;
    list_move(node, free_list);
}

// __bpf_lru_node_move_in(): from a CPU's pending list into l.
void BpfLru::node_move_in(LruList& l, uint32_t node, ListType tgt_type) {
    if (tgt_type < nr_lru_list_count) ++l.counts[tgt_type];
    nodes_[node].type = tgt_type;
    clear_ref(node);
    list_move(node, l.lists[tgt_type]);
}

// __bpf_lru_node_move(): between or within l's lists, to the head, the ref bit cleared.
void BpfLru::node_move(LruList& l, uint32_t node, ListType tgt_type) {
    Node& n = nodes_[node];
    if (n.type != tgt_type) {
        if (n.type < nr_lru_list_count) --l.counts[n.type];
        if (tgt_type < nr_lru_list_count) ++l.counts[tgt_type];
        n.type = tgt_type;
    }
    clear_ref(node);
    if (node == l.next_inactive_rotation) l.next_inactive_rotation = n.prev;
    list_move(node, l.lists[tgt_type]);
}

// __bpf_lru_list_rotate_active(): from the tail, at most nr_scans nodes, each once: referenced
// ones go back to the head, the others to the inactive list.
void BpfLru::rotate_active(LruList& l) {
    const uint32_t head = l.lists[lru_active];
    const uint32_t first = nodes_[head].next;
    uint32_t i = 0;
    for (uint32_t node = nodes_[head].prev, prev; node != head; node = prev) {
        prev = nodes_[node].prev;
        node_move(l, node, is_ref(node) ? lru_active : lru_inactive);
        if (++i == nr_scans_ || node == first) break;
    }
}

// __bpf_lru_list_rotate_inactive(): from next_inactive_rotation towards the head (wrapping past
// it), at most nr_scans nodes: referenced ones move to the active list, the others stay. The
// next rotation goes on from where this one stopped.
void BpfLru::rotate_inactive(LruList& l) {
    const uint32_t head = l.lists[lru_inactive];
    if (list_empty(head)) return;
    uint32_t last = nodes_[l.next_inactive_rotation].next;
    if (last == head) last = nodes_[last].next;
    uint32_t cur = l.next_inactive_rotation, next = head;
    for (uint32_t i = 0; i < nr_scans_;) {
        if (cur == head) {
            cur = nodes_[cur].prev;
            continue;
        }
        next = nodes_[cur].prev;
        if (is_ref(cur)) node_move(l, cur, lru_active);
        if (cur == last) break;
        cur = next;
        ++i;
    }
    l.next_inactive_rotation = next;
}

// __bpf_lru_list_shrink_inactive(): from the tail, at most nr_scans nodes: referenced ones move
// to the active list, the others are evicted onto free_list until tgt_nshrink are.
uint32_t BpfLru::shrink_inactive(LruList& l, uint32_t tgt_nshrink, uint32_t free_list,
                                 ListType tgt_free_type) {
    const uint32_t head = l.lists[lru_inactive];
    uint32_t nshrinked = 0, i = 0;
    for (uint32_t node = nodes_[head].prev, prev; node != head; node = prev) {
        prev = nodes_[node].prev;
        if (is_ref(node)) {
            node_move(l, node, lru_active);
        } else if (del_from_htab_(node)) {
            node_move_to_free(l, node, free_list, tgt_free_type);
            if (++nshrinked == tgt_nshrink) break;
        }
        if (++i == nr_scans_) break;
    }
    return nshrinked;
}

// __bpf_lru_list_rotate(): the active list only when it outnumbers the inactive one.
void BpfLru::rotate(LruList& l) {
    if (l.counts[lru_inactive] < l.counts[lru_active]) rotate_active(l);
    rotate_inactive(l);
}

// __bpf_lru_list_shrink(): when the inactive list gave nothing, one node regardless of its ref
// bit, the oldest of the inactive list or else of the active list.
uint32_t BpfLru::shrink(LruList& l, uint32_t tgt_nshrink, uint32_t free_list,
                        ListType tgt_free_type) {
    if (uint32_t nshrinked = shrink_inactive(l, tgt_nshrink, free_list, tgt_free_type))
        return nshrinked;
    const uint32_t head =
        list_empty(l.lists[lru_inactive]) ? l.lists[lru_active] : l.lists[lru_inactive];
    for (uint32_t node = nodes_[head].prev, prev; node != head; node = prev) {
        prev = nodes_[node].prev;
        if (del_from_htab_(node)) {
            node_move_to_free(l, node, free_list, tgt_free_type);
            return 1;
        }
    }
    return 0;
}

// __local_list_flush(): the pending nodes, oldest first, to the head of the active (referenced)
// or inactive list.
void BpfLru::local_list_flush(LruList& l, LocalList& loc_l) {
    const uint32_t head = loc_l.pending_list;
    for (uint32_t node = nodes_[head].prev, prev; node != head; node = prev) {
        prev = nodes_[node].prev;
        node_move_in(l, node, is_ref(node) ? lru_active : lru_inactive);
    }
}

// bpf_lru_list_pop_free_to_local(): refills a CPU's local free list with target_free nodes.
void BpfLru::pop_free_to_local(LocalList& loc_l) {
    LruList& l = common_lru_;
    local_list_flush(l, loc_l);
    rotate(l);
    const uint32_t free_head = l.lists[lru_free];
    uint32_t nfree = 0;
    for (uint32_t node = nodes_[free_head].next, next; node != free_head; node = next) {
        next = nodes_[node].next;
        node_move_to_free(l, node, loc_l.free_list, local_free);
        if (++nfree == target_free_) break;
    }
    if (nfree < target_free_) shrink(l, target_free_ - nfree, loc_l.free_list, local_free);
}

void BpfLru::local_list_add_pending(LocalList& loc_l, uint32_t cpu, uint32_t node) {
    nodes_[node].cpu = static_cast<uint16_t>(cpu);
    nodes_[node].type = local_pending;
    clear_ref(node);
    list_add(node, loc_l.pending_list);
}

uint32_t BpfLru::local_list_pop_free(LocalList& loc_l) {
    if (list_empty(loc_l.free_list)) return nil;
    const uint32_t node = nodes_[loc_l.free_list].next;
    list_del(node);
    return node;
}

// __local_list_pop_pending(): the oldest pending node still in the table, an unreferenced one if
// there is one.
uint32_t BpfLru::local_list_pop_pending(LocalList& loc_l) {
    const uint32_t head = loc_l.pending_list;
    for (bool force : {false, true}) {
        for (uint32_t node = nodes_[head].prev; node != head; node = nodes_[node].prev) {
            if ((force || !is_ref(node)) && del_from_htab_(node)) {
                list_del(node);
                return node;
            }
        }
    }
    return nil;
}

uint32_t BpfLru::percpu_lru_pop_free(uint32_t cpu) {
    LruList& l = percpu_lru_[cpu];
    rotate(l);
    const uint32_t free_list = l.lists[lru_free];
    if (list_empty(free_list)) shrink(l, percpu_free_target, free_list, lru_free);
    if (list_empty(free_list)) return nil;
    const uint32_t node = nodes_[free_list].next;
    node_move(l, node, lru_inactive);
    return node;
}

// bpf_common_lru_pop_free(): this CPU's local free list, refilled when empty; failing that, a
// node stolen from the CPUs' local lists, round robin from where this CPU stole last.
uint32_t BpfLru::common_lru_pop_free(uint32_t cpu) {
    LocalList& loc_l = local_lists_[cpu];
    uint32_t node = local_list_pop_free(loc_l);
    if (node == nil) {
        pop_free_to_local(loc_l);
        node = local_list_pop_free(loc_l);
    }
    if (node == nil) {
        const uint32_t first_steal = loc_l.next_steal;
        uint32_t steal = first_steal;
        do {
            LocalList& steal_loc_l = local_lists_[steal];
            node = local_list_pop_free(steal_loc_l);
            if (node == nil) node = local_list_pop_pending(steal_loc_l);
            steal = (steal + 1) % ncpus_;
        } while (node == nil && steal != first_steal);
        loc_l.next_steal = steal;
    }
    if (node != nil) local_list_add_pending(loc_l, cpu, node);
    return node;
}

uint32_t BpfLru::pop_free(uint32_t cpu) {
    std::lock_guard guard(lock_);
    return percpu_ ? percpu_lru_pop_free(cpu) : common_lru_pop_free(cpu);
}

// bpf_common_lru_push_free() and bpf_percpu_lru_push_free(): a pending node goes back to its
// CPU's local free list, any other to the free list of the list it is on.
void BpfLru::push_free(uint32_t node) {
    std::lock_guard guard(lock_);
    Node& n = nodes_[node];
    if (percpu_) {
        node_move(percpu_lru_[n.cpu], node, lru_free);
    } else if (n.type == lru_free || n.type == local_free) {
        return; // already free: the kernel warns and leaves it
    } else if (n.type == local_pending) {
        n.type = local_free;
        clear_ref(node);
        list_move(node, local_lists_[n.cpu].free_list);
    } else {
        node_move(common_lru_, node, lru_free);
    }
}

} // namespace ebpf::detail
