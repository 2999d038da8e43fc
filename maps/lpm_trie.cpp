// BPF_MAP_TYPE_LPM_TRIE (kernel/bpf/lpm_trie.c): longest-prefix match over keys
// struct { u32 prefixlen; u8 data[]; } (prefixlen in host order, data most significant byte
// first), as a path-compressed binary trie.
//
// The trie's shape is the kernel's, so get_next_key walks in the same post order: more specific
// prefixes before less specific ones, the 0 branch before the 1 branch. Nodes and values come
// from preallocated pools (2 * max_entries nodes: real ones, and intermediate ones that each join
// two subtrees); a value slot is recycled after a delete and stays valid memory. Writers (and the
// syscall's reads) take one lock. A program's lookup takes none, as the kernel's walks under RCU:
// it walks the trie and tries again if a writer changed it meanwhile, which a sequence count
// (odd while a writer works) tells; what the walk reads is atomic (relaxed), so a torn walk is
// only wasted, and its length is bounded so that a cycle through reused nodes ends.
#include "maps/map_impl.hpp"

#include <algorithm>
#include <bit>
#include <mutex>

namespace ebpf {

using namespace detail;

namespace {

class LpmTrie final : public Map {
  public:
    LpmTrie(const MapDef& def, uint32_t ncpus)
        : Map(def, ncpus), data_size_(def.key_size - 4), max_prefixlen_(data_size_ * 8),
          value_stride_(round_up8(def.value_size)),
          node_shift_(std::bit_width(sizeof(Node) + round_up8(data_size_) - 1)),
          pool_(checked_size(node_pool_size(def), uint64_t{1} << node_shift_)),
          values_(checked_size(def.max_entries, value_stride_)), free_nodes_(node_pool_size(def)),
          free_values_(def.max_entries) {}

    void* lookup(const void* key, uint32_t) override {
        for (;;) {
            const uint32_t seq = seq_.load(std::memory_order_acquire);
            if (seq & 1) {
                cpu_relax();
                continue;
            }
            const uint32_t node = longest_match(key);
            const uint32_t value = node == nil ? nil : node_at(node).value;
            std::atomic_thread_fence(std::memory_order_acquire);
            if (seq_.load(std::memory_order_relaxed) == seq)
                return value == nil ? nullptr : value_ptr(value);
        }
    }

    DirectLookup direct_lookup() const override {
        return [](Map* map, const void* key) { return static_cast<LpmTrie*>(map)->lookup(key, 0); };
    }

    long update(const void* key, const void* value, uint64_t flags, uint32_t) override {
        if (flags > BPF_EXIST) return -kerr::einval;
        if (prefixlen_of(key) > max_prefixlen_) return -kerr::einval;
        std::lock_guard guard(lock_);
        begin_write();
        const long err = update_locked(key, value, flags);
        end_write();
        return err;
    }

    long erase(const void* key) override {
        if (prefixlen_of(key) > max_prefixlen_) return -kerr::einval;
        std::lock_guard guard(lock_);
        begin_write();
        const long err = delete_locked(key);
        end_write();
        return err;
    }

    long sys_lookup(const void* key, void* value) override {
        if (long err = sys_read_perm(def())) return err;
        std::lock_guard guard(lock_);
        const uint32_t node = longest_match(key);
        if (node == nil) return -kerr::enoent;
        std::memcpy(value, value_ptr(node_at(node).value), def().value_size);
        return 0;
    }

    long sys_update(const void* key, const void* value, uint64_t flags) override {
        if (long err = sys_update_check(def(), flags)) return err;
        return update(key, value, flags, 0);
    }

    long sys_delete(const void* key) override {
        if (long err = sys_write_perm(def())) return err;
        return erase(key);
    }

    long get_next_key(const void* key, void* next_key) override;

    bool owns(uint64_t addr, uint64_t len, bool write) const override {
        return prog_access_ok(def(), write) &&
               in_one_value(values_.data(), value_stride_, def().max_entries, def().value_size,
                            addr, len);
    }

  private:
    static uint32_t node_pool_size(const MapDef& def) {
        if (def.max_entries > (nil - 1) / 2) throw std::bad_alloc();
        return 2 * def.max_entries;
    }

    // A word the lock-free lookup reads while a writer may store it: every access is atomic.
    class Relaxed {
      public:
        Relaxed() = default;
        explicit Relaxed(uint32_t v) : word_(v) {}
        operator uint32_t() const { return ref().load(std::memory_order_relaxed); }
        Relaxed& operator=(uint32_t v) {
            ref().store(v, std::memory_order_relaxed);
            return *this;
        }
        Relaxed& operator=(const Relaxed& other) { return *this = uint32_t{other}; }

      private:
        std::atomic_ref<uint32_t> ref() const { return std::atomic_ref<uint32_t>(word_); }
        mutable uint32_t word_;
    };

    // A node and, after it in the pool, its data bytes as key words (map_impl.hpp), zero-padded
    // to a whole word: one node's walk step reads one place.
    struct Node {
        Relaxed child[2];
        Relaxed prefixlen;
        Relaxed value; // nil: an intermediate node, which no lookup returns
    };

    static uint32_t prefixlen_of(const void* key) {
        uint32_t prefixlen;
        std::memcpy(&prefixlen, key, 4);
        return prefixlen;
    }
    static const uint8_t* data_of(const void* key) { return static_cast<const uint8_t*>(key) + 4; }
    static int extract_bit(const uint8_t* data, uint32_t index) {
        return (data[index / 8] >> (7 - index % 8)) & 1;
    }
    Node& node_at(uint32_t node) const {
        return *reinterpret_cast<Node*>(pool_.data() + (uint64_t{node} << node_shift_));
    }
    // With lock_ held, as plain memory: only writers, which hold it too, change it.
    uint8_t* node_data(uint32_t node) const {
        return pool_.data() + (uint64_t{node} << node_shift_) + sizeof(Node);
    }
    static std::atomic_ref<uint64_t> data_word(const Node& n, uint32_t i) {
        return std::atomic_ref<uint64_t>(reinterpret_cast<uint64_t*>(const_cast<Node*>(&n) + 1)[i]);
    }
    void store_data(uint32_t node, const uint8_t* data) {
        for (uint32_t off = 0; off < data_size_; off += 8)
            data_word(node_at(node), off / 8)
                .store(key_word(data + off, data_size_ - off), std::memory_order_relaxed);
    }
    uint8_t* value_ptr(uint32_t slot) const {
        return values_.data() + uint64_t{slot} * value_stride_;
    }
    bool intermediate(uint32_t node) const { return node_at(node).value == nil; }

    void begin_write() {
        seq_.store(seq_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
    }
    void end_write() {
        seq_.store(seq_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    }

    // A key as walks read it: its first data word at hand, which is all of an IPv4 key.
    struct SearchKey {
        uint32_t prefixlen;
        const uint8_t* data;
        uint64_t first;     // key_word() of the data's first 8 bytes
        uint64_t first_msb; // the same, its first bit most significant
    };
    SearchKey search_key(const void* key) const {
        const uint64_t first = key_word(data_of(key), std::min<uint32_t>(data_size_, 8));
        return {prefixlen_of(key), data_of(key), first, msb_first(first)};
    }
    // A key word (or the xor of two) in the data's bit order: the most significant bit of its
    // first byte first.
    static uint64_t msb_first(uint64_t word) {
        if constexpr (std::endian::native == std::endian::little) return __builtin_bswap64(word);
        return word;
    }
    static int key_bit(const SearchKey& key, uint32_t index) {
        if (index < 64) return static_cast<int>((key.first_msb >> (63 - index)) & 1);
        return extract_bit(key.data, index);
    }

    // How many leading bits of the node (of prefix length node_prefixlen, as read once) and key
    // agree, up to the shorter prefix: where the first word that differs differs first. The
    // padding past the data is zero in both.
    [[gnu::always_inline]] uint32_t longest_prefix_match(const Node& node, uint32_t node_prefixlen,
                                                         const SearchKey& key) const {
        const uint32_t limit = std::min(node_prefixlen, key.prefixlen);
        uint32_t bits = 0;
        uint64_t diff = data_word(node, 0).load(std::memory_order_relaxed) ^ key.first;
        for (uint32_t off = 8; diff == 0 && off < data_size_ && off * 8 < limit; off += 8) {
            bits = off * 8;
            diff = data_word(node, off / 8).load(std::memory_order_relaxed) ^
                   key_word(key.data + off, data_size_ - off);
        }
        if (diff == 0) return limit;
        return std::min(bits + static_cast<uint32_t>(std::countl_zero(msb_first(diff))), limit);
    }
    uint32_t longest_prefix_match(uint32_t node, const void* key) const {
        const Node& n = node_at(node);
        return longest_prefix_match(n, n.prefixlen, search_key(key));
    }

    // trie_lookup_elem(): the deepest real node whose whole prefix matches key. Safe without the
    // lock: each node's prefix length is read once, so the bit taken lies inside the key, and a
    // consistent trie's path is at most max_prefixlen + 1 nodes (prefix lengths grow down it).
    // The pool's address and the like are taken once: the compiler reloads members after the
    // walk's atomic loads.
    uint32_t longest_match(const void* key_bytes) const {
        const SearchKey key = search_key(key_bytes);
        const uint32_t max_prefixlen = max_prefixlen_;
        if (key.prefixlen > max_prefixlen) return nil;
        const uint8_t* const pool = pool_.data();
        const int shift = node_shift_;
        uint32_t found = nil;
        uint32_t node = root_;
        for (uint32_t steps = 0; node != nil && steps <= max_prefixlen; ++steps) {
            const Node& n = *reinterpret_cast<const Node*>(pool + (uint64_t{node} << shift));
            const uint32_t prefixlen = n.prefixlen;
            const uint32_t matchlen = longest_prefix_match(n, prefixlen, key);
            if (matchlen == max_prefixlen) return node;
            if (matchlen < prefixlen) break;
            if (n.value != nil) found = node;
            // Both children, then a select rather than child[bit]: their loads need not wait
            // for the bit, which needs the prefix length loaded first. (A branch was faster
            // still on one key looked up again and again, and slower on varied keys, which
            // mispredict it.)
            const uint32_t left = n.child[0], right = n.child[1];
            node = key_bit(key, prefixlen) ? right : left;
        }
        return found;
    }

    uint32_t init_node(uint32_t node, uint32_t prefixlen, const uint8_t* data) {
        Node& n = node_at(node);
        n.child[0] = nil;
        n.child[1] = nil;
        n.prefixlen = prefixlen;
        n.value = nil;
        store_data(node, data);
        return node;
    }

    uint32_t new_node(const void* key) {
        return init_node(free_nodes_.pop(), prefixlen_of(key), data_of(key));
    }

    // trie_check_add_elem()
    long check_add(uint64_t flags) {
        if (flags == BPF_EXIST) return -kerr::enoent;
        if (n_entries_ == def().max_entries) return -kerr::enospc;
        ++n_entries_;
        return 0;
    }

    uint32_t take_value(const void* value) {
        const uint32_t slot = free_values_.pop();
        std::memcpy(value_ptr(slot), value, def().value_size);
        return slot;
    }

    // The first real node in post order below node (intermediate nodes have two children).
    uint32_t leftmost(uint32_t node) const {
        uint32_t first = nil;
        while (node != nil) {
            const Node& n = node_at(node);
            if (n.value != nil) first = node;
            node = n.child[0] != nil || n.value == nil ? n.child[0] : n.child[1];
        }
        return first;
    }

    long copy_key(uint32_t node, void* key) const {
        const uint32_t prefixlen = node_at(node).prefixlen;
        std::memcpy(key, &prefixlen, 4);
        std::memcpy(static_cast<uint8_t*>(key) + 4, node_data(node), data_size_);
        return 0;
    }

    long update_locked(const void* key, const void* value, uint64_t flags);
    long delete_locked(const void* key);

    const uint32_t data_size_;
    const uint32_t max_prefixlen_;
    const uint64_t value_stride_;
    const int node_shift_; // nodes lie 2^node_shift_ bytes apart: a shift finds one, not a multiply
    std::mutex lock_;
    std::atomic<uint32_t> seq_{0};
    Arena pool_; // the nodes
    Arena values_;
    FreeList free_nodes_;
    FreeList free_values_;
    Relaxed root_{nil};
    uint32_t n_entries_ = 0;
};

// trie_update_elem(): an existing real node gets the value in place (the kernel replaces the
// node, so a program's pointer to the old value would keep the old value), an intermediate one
// becomes real; otherwise the new node goes below the last node whose prefix it extends, above
// the node its own prefix covers, or beside it under a new intermediate node.
long LpmTrie::update_locked(const void* key, const void* value, uint64_t flags) {
    const uint32_t prefixlen = prefixlen_of(key);
    Relaxed* slot = &root_;
    uint32_t matchlen = 0;
    while (*slot != nil) {
        const uint32_t node = *slot;
        matchlen = longest_prefix_match(node, key);
        if (node_at(node).prefixlen != matchlen || node_at(node).prefixlen == prefixlen) break;
        slot = &node_at(node).child[extract_bit(data_of(key), node_at(node).prefixlen)];
    }
    const uint32_t node = *slot;
    if (node != nil && node_at(node).prefixlen == matchlen) { // the exact prefix is there
        if (!intermediate(node)) {
            if (flags == BPF_NOEXIST) return -kerr::eexist;
            std::memcpy(value_ptr(node_at(node).value), value, def().value_size);
        } else {
            if (long err = check_add(flags)) return err;
            node_at(node).value = take_value(value);
        }
        // The kernel puts a new node in its place: the data bits past the prefix are key's now.
        store_data(node, data_of(key));
        return 0;
    }
    if (long err = check_add(flags)) return err;
    const uint32_t fresh = new_node(key);
    node_at(fresh).value = take_value(value);
    if (node == nil) {
        *slot = fresh;
    } else if (matchlen == prefixlen) { // fresh covers node
        node_at(fresh).child[extract_bit(node_data(node), matchlen)] = node;
        *slot = fresh;
    } else { // they part at bit matchlen
        const uint32_t im = init_node(free_nodes_.pop(), matchlen, node_data(node));
        const int bit = extract_bit(data_of(key), matchlen);
        node_at(im).child[bit] = fresh;
        node_at(im).child[!bit] = node;
        *slot = im;
    }
    return 0;
}

// trie_delete_elem(): a node with two children turns intermediate; a leaf under an intermediate
// parent takes the parent along (its sibling moves up); otherwise the node's one child, if any,
// takes its place. Every intermediate node keeps exactly two children.
long LpmTrie::delete_locked(const void* key) {
    const uint32_t prefixlen = prefixlen_of(key);
    Relaxed* trim = &root_;
    Relaxed* trim2 = trim;
    uint32_t parent = nil;
    uint32_t matchlen = 0;
    while (*trim != nil) {
        const uint32_t node = *trim;
        matchlen = longest_prefix_match(node, key);
        if (node_at(node).prefixlen != matchlen || node_at(node).prefixlen == prefixlen) break;
        parent = node;
        trim2 = trim;
        trim = &node_at(node).child[extract_bit(data_of(key), node_at(node).prefixlen)];
    }
    const uint32_t node = *trim;
    if (node == nil || node_at(node).prefixlen != prefixlen ||
        node_at(node).prefixlen != matchlen || intermediate(node))
        return -kerr::enoent;

    --n_entries_;
    free_values_.push(node_at(node).value);
    node_at(node).value = nil;
    Node& n = node_at(node);
    if (n.child[0] != nil && n.child[1] != nil) return 0;

    if (parent != nil && intermediate(parent) && n.child[0] == nil && n.child[1] == nil) {
        *trim2 = node_at(parent).child[node_at(parent).child[0] == node ? 1 : 0];
        free_nodes_.push(parent);
        free_nodes_.push(node);
        return 0;
    }
    *trim = n.child[0] != nil ? n.child[0] : n.child[1];
    free_nodes_.push(node);
    return 0;
}

// trie_get_next_key(): post order. A key that is not in the trie (or none) gives the leftmost
// real node.
long LpmTrie::get_next_key(const void* key, void* next_key) {
    if (long err = sys_read_perm(def())) return err;
    std::lock_guard guard(lock_);
    if (root_ == nil) return -kerr::enoent;
    if (!key || prefixlen_of(key) > max_prefixlen_) return copy_key(leftmost(root_), next_key);

    std::vector<uint32_t> path; // root to the node of key
    uint32_t node = root_;
    uint32_t matchlen = 0;
    while (node != nil) {
        path.push_back(node);
        matchlen = longest_prefix_match(node, key);
        if (node_at(node).prefixlen != matchlen || node_at(node).prefixlen == prefixlen_of(key))
            break;
        node = node_at(node).child[extract_bit(data_of(key), node_at(node).prefixlen)];
    }
    if (node == nil || node_at(node).prefixlen != matchlen || intermediate(node))
        return copy_key(leftmost(root_), next_key);

    // After a 0 child comes its 1 sibling's subtree, after a node's subtrees the node itself.
    for (size_t i = path.size() - 1; i > 0; --i) {
        const Node& parent = node_at(path[i - 1]);
        if (parent.child[0] == path[i] && parent.child[1] != nil)
            return copy_key(leftmost(parent.child[1]), next_key);
        if (parent.value != nil) return copy_key(path[i - 1], next_key);
    }
    return -kerr::enoent;
}

} // namespace

DefCheck detail::trie_alloc_check(const MapDef& def) {
    constexpr uint32_t mask = BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK;
    constexpr uint64_t lpm_trie_node_size = 24; // sizeof(struct lpm_trie_node)
    if (def.max_entries == 0) return DefError{kerr::einval, "max_entries must not be 0"};
    if (!(def.map_flags & BPF_F_NO_PREALLOC))
        return DefError{kerr::einval, "map_flags must include BPF_F_NO_PREALLOC"};
    if (def.map_flags & ~mask) return DefError{kerr::einval, "map_flags has unknown flags"};
    if (!flags_access_ok(def.map_flags))
        return DefError{kerr::einval, "map_flags has both BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG"};
    if (def.key_size < 4 + 1 || def.key_size > 4 + 256)
        return DefError{kerr::einval, "key_size must be 4 + 1..256 data bytes"};
    if (def.value_size < 1 || def.value_size > KMALLOC_MAX_SIZE - 256 - lpm_trie_node_size)
        return DefError{kerr::einval, "value_size out of range"};
    return std::nullopt;
}

std::shared_ptr<Map> detail::make_lpm_trie(const MapDef& def, uint32_t ncpus) {
    return std::make_shared<LpmTrie>(def, ncpus);
}

} // namespace ebpf
