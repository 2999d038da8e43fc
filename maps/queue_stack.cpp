// BPF_MAP_TYPE_QUEUE and BPF_MAP_TYPE_STACK (kernel/bpf/queue_stack_maps.c): a ring of
// max_entries + 1 value slots under one lock; the queue pops the oldest value, the stack the
// newest. There are no keys: the syscall's lookup is a peek, its update a push, its
// lookup-and-delete a pop.
#include "maps/map_impl.hpp"

namespace ebpf {

using namespace detail;

namespace {

class QueueStackMap final : public Map {
  public:
    QueueStackMap(const MapDef& def, uint32_t ncpus)
        : Map(def, ncpus), stack_(def.type == MapType::stack), size_(def.max_entries + 1ull),
          elements_(checked_size(size_, def.value_size)) {}

    long update(const void*, const void*, uint64_t, uint32_t) override { return -kerr::einval; }
    long erase(const void*) override { return -kerr::einval; }

    // queue_stack_map_push_elem(): BPF_EXIST makes room by overwriting the oldest value.
    long push(const void* value, uint64_t flags) override {
        if ((flags & BPF_NOEXIST) || flags > BPF_EXIST) return -kerr::einval;
        std::lock_guard guard(lock_);
        if (full()) {
            if (!(flags & BPF_EXIST)) return -kerr::e2big;
            tail_ = next(tail_);
        }
        std::memcpy(slot(head_), value, def().value_size);
        head_ = next(head_);
        return 0;
    }

    long pop(void* value) override { return get(value, true); }
    long peek(void* value) override { return get(value, false); }

    long sys_lookup(const void* key, void* value) override {
        if (long err = sys_read_perm(def())) return err;
        if (key) return -kerr::einval;
        return peek(value);
    }
    long sys_update(const void* key, const void* value, uint64_t flags) override {
        if (long err = sys_update_check(def(), flags)) return err;
        if (key) return -kerr::einval;
        return push(value, flags);
    }
    long sys_delete(const void*) override {
        if (long err = sys_write_perm(def())) return err;
        return -kerr::einval;
    }
    long get_next_key(const void*, void*) override {
        if (long err = sys_read_perm(def())) return err;
        return -kerr::einval;
    }
    long sys_lookup_and_delete(const void* key, void* value) override {
        if (long err = sys_read_perm(def())) return err;
        if (long err = sys_write_perm(def())) return err;
        if (key) return -kerr::einval;
        return pop(value);
    }

  private:
    uint64_t next(uint64_t i) const { return i + 1 == size_ ? 0 : i + 1; }
    bool full() const { return next(head_) == tail_; }
    uint8_t* slot(uint64_t i) const { return elements_.data() + i * def().value_size; }

    long get(void* value, bool remove) {
        std::lock_guard guard(lock_);
        if (head_ == tail_) {
            std::memset(value, 0, def().value_size);
            return -kerr::enoent;
        }
        const uint64_t index = stack_ ? (head_ == 0 ? size_ - 1 : head_ - 1) : tail_;
        std::memcpy(value, slot(index), def().value_size);
        if (remove && stack_) head_ = index;
        if (remove && !stack_) tail_ = next(tail_);
        return 0;
    }

    const bool stack_;
    const uint64_t size_;
    Arena elements_;
    SpinLock lock_;
    uint64_t head_ = 0, tail_ = 0;
};

} // namespace

DefCheck detail::queue_stack_map_alloc_check(const MapDef& def) {
    constexpr uint32_t mask = BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK;
    if (def.max_entries == 0) return DefError{kerr::einval, "max_entries must not be 0"};
    if (def.key_size != 0) return DefError{kerr::einval, "key_size must be 0"};
    if (def.value_size == 0) return DefError{kerr::einval, "value_size must not be 0"};
    if (def.map_flags & ~mask) return DefError{kerr::einval, "map_flags has unknown flags"};
    if (!flags_access_ok(def.map_flags))
        return DefError{kerr::einval, "map_flags has both BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG"};
    if (def.value_size > KMALLOC_MAX_SIZE) return DefError{kerr::e2big, "value_size too large"};
    return std::nullopt;
}

std::shared_ptr<Map> detail::make_queue_stack_map(const MapDef& def, uint32_t ncpus) {
    return std::make_shared<QueueStackMap>(def, ncpus);
}

} // namespace ebpf
