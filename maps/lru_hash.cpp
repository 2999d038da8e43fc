// BPF_MAP_TYPE_LRU_HASH and BPF_MAP_TYPE_LRU_PERCPU_HASH (kernel/bpf/hashtab.c and
// bpf_lru_list.c): a hash map that, when full, makes room for a new key by evicting the least
// recently used element.
//
// One LRU list runs through the elements, newest at the head. A program's lookup marks the
// element referenced (a byte store, as the kernel's bpf_lru_node_set_ref); eviction walks from
// the tail and gives each referenced element a second chance (moved to the head, mark cleared),
// so the element evicted is the oldest one not used since. Writers (update, delete) take the
// list's lock for the whole operation, then bucket locks; lookups take no lock, as in HashMap.
#include "maps/hash.hpp"

namespace ebpf {

using namespace detail;

namespace {

class LruHashMap final : public HashMap {
  public:
    LruHashMap(const MapDef& def, uint32_t ncpus)
        : HashMap(def, ncpus), nodes_(new Node[def.max_entries]),
          ref_(new std::atomic<uint8_t>[def.max_entries]) {
        for (uint32_t i = 0; i < def.max_entries; ++i)
            ref_[i].store(0, std::memory_order_relaxed);
    }

    void* lookup(const void* key, uint32_t cpu) override {
        if (percpu_ && cpu >= copies_) return nullptr;
        const uint32_t elem = find(key);
        if (elem == nil) return nullptr;
        mark(elem);
        return value_ptr(elem, percpu_ ? cpu : 0);
    }

    long update(const void* key, const void* value, uint64_t flags, uint32_t cpu) override {
        std::lock_guard guard(lru_lock_);
        return HashMap::update(key, value, flags, cpu);
    }
    long erase(const void* key) override {
        std::lock_guard guard(lru_lock_);
        return HashMap::erase(key);
    }
    long sys_update(const void* key, const void* value, uint64_t flags) override {
        std::lock_guard guard(lru_lock_);
        return HashMap::sys_update(key, value, flags);
    }
    long sys_delete(const void* key) override {
        std::lock_guard guard(lru_lock_);
        return HashMap::sys_delete(key);
    }
    long sys_lookup_and_delete(const void* key, void* value) override {
        std::lock_guard guard(lru_lock_);
        return HashMap::sys_lookup_and_delete(key, value);
    }

  private:
    struct Node {
        uint32_t prev = nil, next = nil;
        bool listed = false;
    };

    void mark(uint32_t elem) {
        if (!ref_[elem].load(std::memory_order_relaxed))
            ref_[elem].store(1, std::memory_order_relaxed);
    }

    // With lru_lock_ held from here on.
    uint32_t alloc_elem() override {
        const uint32_t elem = HashMap::alloc_elem();
        return elem != nil ? elem : evict();
    }
    void free_elem(uint32_t elem) override {
        remove(elem);
        HashMap::free_elem(elem);
    }
    void on_insert(uint32_t elem) override {
        ref_[elem].store(0, std::memory_order_relaxed);
        push_head(elem);
    }
    // The kernel replaces the element by a fresh one marked referenced.
    void on_update(uint32_t elem) override { mark(elem); }

    uint32_t evict() {
        for (uint32_t second_chances = 0; tail_ != nil;) {
            const uint32_t victim = tail_;
            remove(victim);
            if (ref_[victim].load(std::memory_order_relaxed) &&
                second_chances++ < def().max_entries) {
                ref_[victim].store(0, std::memory_order_relaxed);
                push_head(victim);
                continue;
            }
            unlink(victim); // every listed element is in the table: writers hold lru_lock_
            return victim;
        }
        return nil;
    }

    void push_head(uint32_t elem) {
        Node& node = nodes_[elem];
        node.prev = nil;
        node.next = head_;
        node.listed = true;
        if (head_ != nil) nodes_[head_].prev = elem;
        head_ = elem;
        if (tail_ == nil) tail_ = elem;
    }

    void remove(uint32_t elem) {
        Node& node = nodes_[elem];
        if (!node.listed) return;
        (node.prev != nil ? nodes_[node.prev].next : head_) = node.next;
        (node.next != nil ? nodes_[node.next].prev : tail_) = node.prev;
        node.listed = false;
    }

    std::mutex lru_lock_;
    std::unique_ptr<Node[]> nodes_;
    std::unique_ptr<std::atomic<uint8_t>[]> ref_;
    uint32_t head_ = nil, tail_ = nil;
};

} // namespace

std::shared_ptr<Map> detail::make_lru_hash_map(const MapDef& def, uint32_t ncpus) {
    return std::make_shared<LruHashMap>(def, ncpus);
}

} // namespace ebpf
