// BPF_MAP_TYPE_LPM_TRIE (kernel/bpf/lpm_trie.c): longest-prefix match over keys
// struct { u32 prefixlen; u8 data[]; } (prefixlen in host order, data most significant byte
// first), as a path-compressed binary trie.
//
// The trie's shape is the kernel's, so get_next_key walks in the same post order: more specific
// prefixes before less specific ones, the 0 branch before the 1 branch. Nodes and values come
// from preallocated pools (2 * max_entries nodes: real ones, and intermediate ones that each join
// two subtrees); a value slot is recycled after a delete and stays valid memory. One
// reader-writer lock guards the trie: lookups share it, updates and deletes hold it alone.
#include "maps/map_impl.hpp"

#include <algorithm>
#include <bit>
#include <shared_mutex>

namespace ebpf {

using namespace detail;

namespace {

class LpmTrie final : public Map {
  public:
    LpmTrie(const MapDef& def, uint32_t ncpus)
        : Map(def, ncpus), data_size_(def.key_size - 4), max_prefixlen_(data_size_ * 8),
          value_stride_(round_up8(def.value_size)),
          nodes_(std::make_unique_for_overwrite<Node[]>(node_pool_size(def))),
          node_data_(checked_size(node_pool_size(def), data_size_)),
          values_(checked_size(def.max_entries, value_stride_)), free_nodes_(node_pool_size(def)),
          free_values_(def.max_entries) {}

    void* lookup(const void* key, uint32_t) override {
        std::shared_lock guard(lock_);
        const uint32_t node = longest_match(key);
        return node == nil ? nullptr : value_ptr(nodes_[node].value);
    }

    long update(const void* key, const void* value, uint64_t flags, uint32_t) override {
        if (flags > BPF_EXIST) return -kerr::einval;
        if (prefixlen_of(key) > max_prefixlen_) return -kerr::einval;
        std::unique_lock guard(lock_);
        return update_locked(key, value, flags);
    }

    long erase(const void* key) override {
        if (prefixlen_of(key) > max_prefixlen_) return -kerr::einval;
        std::unique_lock guard(lock_);
        return delete_locked(key);
    }

    long sys_lookup(const void* key, void* value) override {
        if (long err = sys_read_perm(def())) return err;
        std::shared_lock guard(lock_);
        const uint32_t node = longest_match(key);
        if (node == nil) return -kerr::enoent;
        std::memcpy(value, value_ptr(nodes_[node].value), def().value_size);
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

    // Set when taken from the pool: the pool is left untouched until used.
    struct Node {
        uint32_t child[2];
        uint32_t prefixlen;
        uint32_t value; // nil: an intermediate node, which no lookup returns
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
    uint8_t* node_data(uint32_t node) const {
        return node_data_.data() + uint64_t{node} * data_size_;
    }
    uint8_t* value_ptr(uint32_t slot) const {
        return values_.data() + uint64_t{slot} * value_stride_;
    }
    bool intermediate(uint32_t node) const { return nodes_[node].value == nil; }

    // How many leading bits of node and key agree, up to the shorter prefix.
    uint32_t longest_prefix_match(uint32_t node, const void* key) const {
        const uint32_t limit = std::min(nodes_[node].prefixlen, prefixlen_of(key));
        const uint8_t* a = node_data(node);
        const uint8_t* b = data_of(key);
        uint32_t bits = 0;
        for (uint32_t i = 0; i < data_size_ && bits < limit; ++i) {
            const uint8_t diff = a[i] ^ b[i];
            if (diff) {
                bits += std::countl_zero(diff);
                break;
            }
            bits += 8;
        }
        return std::min(bits, limit);
    }

    // trie_lookup_elem(): the deepest real node whose whole prefix matches key.
    uint32_t longest_match(const void* key) const {
        if (prefixlen_of(key) > max_prefixlen_) return nil;
        uint32_t found = nil;
        for (uint32_t node = root_; node != nil;) {
            const uint32_t matchlen = longest_prefix_match(node, key);
            if (matchlen == max_prefixlen_) return node;
            if (matchlen < nodes_[node].prefixlen) break;
            if (!intermediate(node)) found = node;
            node = nodes_[node].child[extract_bit(data_of(key), nodes_[node].prefixlen)];
        }
        return found;
    }

    uint32_t new_node(const void* key) {
        const uint32_t node = free_nodes_.pop();
        nodes_[node] = Node{{nil, nil}, prefixlen_of(key), nil};
        std::memcpy(node_data(node), data_of(key), data_size_);
        return node;
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
            const Node& n = nodes_[node];
            if (n.value != nil) first = node;
            node = n.child[0] != nil || n.value == nil ? n.child[0] : n.child[1];
        }
        return first;
    }

    long copy_key(uint32_t node, void* key) const {
        std::memcpy(key, &nodes_[node].prefixlen, 4);
        std::memcpy(static_cast<uint8_t*>(key) + 4, node_data(node), data_size_);
        return 0;
    }

    long update_locked(const void* key, const void* value, uint64_t flags);
    long delete_locked(const void* key);

    const uint32_t data_size_;
    const uint32_t max_prefixlen_;
    const uint64_t value_stride_;
    std::shared_mutex lock_;
    std::unique_ptr<Node[]> nodes_;
    Arena node_data_;
    Arena values_;
    FreeList free_nodes_;
    FreeList free_values_;
    uint32_t root_ = nil;
    uint32_t n_entries_ = 0;
};

// trie_update_elem(): an existing real node gets the value in place (the kernel replaces the
// node, so a program's pointer to the old value would keep the old value), an intermediate one
// becomes real; otherwise the new node goes below the last node whose prefix it extends, above
// the node its own prefix covers, or beside it under a new intermediate node.
long LpmTrie::update_locked(const void* key, const void* value, uint64_t flags) {
    const uint32_t prefixlen = prefixlen_of(key);
    uint32_t* slot = &root_;
    uint32_t matchlen = 0;
    while (*slot != nil) {
        const uint32_t node = *slot;
        matchlen = longest_prefix_match(node, key);
        if (nodes_[node].prefixlen != matchlen || nodes_[node].prefixlen == prefixlen) break;
        slot = &nodes_[node].child[extract_bit(data_of(key), nodes_[node].prefixlen)];
    }
    const uint32_t node = *slot;
    if (node != nil && nodes_[node].prefixlen == matchlen) { // the exact prefix is there
        if (!intermediate(node)) {
            if (flags == BPF_NOEXIST) return -kerr::eexist;
            std::memcpy(value_ptr(nodes_[node].value), value, def().value_size);
        } else {
            if (long err = check_add(flags)) return err;
            nodes_[node].value = take_value(value);
        }
        // The kernel puts a new node in its place: the data bits past the prefix are key's now.
        std::memcpy(node_data(node), data_of(key), data_size_);
        return 0;
    }
    if (long err = check_add(flags)) return err;
    const uint32_t fresh = new_node(key);
    nodes_[fresh].value = take_value(value);
    if (node == nil) {
        *slot = fresh;
    } else if (matchlen == prefixlen) { // fresh covers node
        nodes_[fresh].child[extract_bit(node_data(node), matchlen)] = node;
        *slot = fresh;
    } else { // they part at bit matchlen
        const uint32_t im = free_nodes_.pop();
        nodes_[im] = Node{{nil, nil}, matchlen, nil};
        std::memcpy(node_data(im), node_data(node), data_size_);
        const int bit = extract_bit(data_of(key), matchlen);
        nodes_[im].child[bit] = fresh;
        nodes_[im].child[!bit] = node;
        *slot = im;
    }
    return 0;
}

// trie_delete_elem(): a node with two children turns intermediate; a leaf under an intermediate
// parent takes the parent along (its sibling moves up); otherwise the node's one child, if any,
// takes its place. Every intermediate node keeps exactly two children.
long LpmTrie::delete_locked(const void* key) {
    const uint32_t prefixlen = prefixlen_of(key);
    uint32_t* trim = &root_;
    uint32_t* trim2 = trim;
    uint32_t parent = nil;
    uint32_t matchlen = 0;
    while (*trim != nil) {
        const uint32_t node = *trim;
        matchlen = longest_prefix_match(node, key);
        if (nodes_[node].prefixlen != matchlen || nodes_[node].prefixlen == prefixlen) break;
        parent = node;
        trim2 = trim;
        trim = &nodes_[node].child[extract_bit(data_of(key), nodes_[node].prefixlen)];
    }
    const uint32_t node = *trim;
    if (node == nil || nodes_[node].prefixlen != prefixlen || nodes_[node].prefixlen != matchlen ||
        intermediate(node))
        return -kerr::enoent;

    --n_entries_;
    free_values_.push(nodes_[node].value);
    nodes_[node].value = nil;
    Node& n = nodes_[node];
    if (n.child[0] != nil && n.child[1] != nil) return 0;

    if (parent != nil && intermediate(parent) && n.child[0] == nil && n.child[1] == nil) {
        *trim2 = nodes_[parent].child[nodes_[parent].child[0] == node ? 1 : 0];
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
    std::shared_lock guard(lock_);
    if (root_ == nil) return -kerr::enoent;
    if (!key || prefixlen_of(key) > max_prefixlen_) return copy_key(leftmost(root_), next_key);

    std::vector<uint32_t> path; // root to the node of key
    uint32_t node = root_;
    uint32_t matchlen = 0;
    while (node != nil) {
        path.push_back(node);
        matchlen = longest_prefix_match(node, key);
        if (nodes_[node].prefixlen != matchlen || nodes_[node].prefixlen == prefixlen_of(key))
            break;
        node = nodes_[node].child[extract_bit(data_of(key), nodes_[node].prefixlen)];
    }
    if (node == nil || nodes_[node].prefixlen != matchlen || intermediate(node))
        return copy_key(leftmost(root_), next_key);

    // After a 0 child comes its 1 sibling's subtree, after a node's subtrees the node itself.
    for (size_t i = path.size() - 1; i > 0; --i) {
        const Node& parent = nodes_[path[i - 1]];
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
