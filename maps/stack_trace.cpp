// BPF_MAP_TYPE_STACK_TRACE: stack_map_alloc's checks, __bpf_get_stackid's bucket choice and
// collision rules, and the syscall side (bpf_stackmap_extract, get_next_key, delete).
#include "maps/stack_trace.hpp"

#include "maps/jhash.hpp"

namespace ebpf {

using namespace detail;

void stack_build_id_fallback(uint8_t* out, std::span<const uint64_t> ips) {
    for (uint64_t ip : ips) {
        std::memset(out, 0, BPF_STACK_BUILD_ID_SIZE);
        std::memcpy(out, &BPF_STACK_BUILD_ID_IP, 4);
        std::memcpy(out + BPF_STACK_BUILD_ID_IP_OFF, &ip, 8);
        out += BPF_STACK_BUILD_ID_SIZE;
    }
}

StackTraceMap::StackTraceMap(const MapDef& def, uint32_t ncpus)
    : Map(def, ncpus), n_buckets_(std::bit_ceil(def.max_entries)),
      stride_(sizeof(Bucket) + uint64_t{def.value_size}),
      elements_(checked_size(def.max_entries, stride_)),
      buckets_(checked_size(n_buckets_, sizeof(uint32_t))),
      free_(checked_size(def.max_entries, sizeof(uint32_t))), scratch_(def.value_size) {}

uint32_t StackTraceMap::pop_free() {
    if (nfree_) return reinterpret_cast<uint32_t*>(free_.data())[--nfree_];
    return fresh_ < def().max_entries ? fresh_++ : nil;
}

void StackTraceMap::push_free(uint32_t element) {
    reinterpret_cast<uint32_t*>(free_.data())[nfree_++] = element;
}

long StackTraceMap::get_stackid(std::span<const uint64_t> trace, uint64_t flags) {
    const uint32_t skip = flags & BPF_F_SKIP_FIELD_MASK;
    if (trace.size() <= skip) return -kerr::efault; // skipping more than the usable chain
    const auto ips = trace.subspan(skip);
    const auto nr = static_cast<uint32_t>(ips.size());
    // The hash is over the IPs (as u32 words) in both modes.
    const uint32_t hash = jhash2(reinterpret_cast<const uint32_t*>(ips.data()), nr * 2, 0);
    const uint32_t id = hash & (n_buckets_ - 1);

    // What the bucket would hold: the IPs, or their bpf_stack_build_id frames.
    const uint8_t* data = reinterpret_cast<const uint8_t*>(ips.data());
    const uint64_t len = uint64_t{nr} * frame_size();
    std::lock_guard guard(lock_);
    if (build_id()) {
        stack_build_id_fallback(scratch_.data(), ips);
        data = scratch_.data();
    }
    const uint32_t held = *bucket(id);
    Bucket* old = held ? element(held - 1) : nullptr;
    if (old && old->hash == hash) {
        if (flags & BPF_F_FAST_STACK_CMP) return id;
        if (old->nr == nr && std::memcmp(frames(old), data, len) == 0) return id;
    }
    if (old && !(flags & BPF_F_REUSE_STACKID)) return -kerr::eexist;
    // The kernel takes the new element before giving the old one back.
    const uint32_t fresh = pop_free();
    if (fresh == nil) return -kerr::enomem;
    Bucket* b = element(fresh);
    b->hash = hash;
    b->nr = nr;
    std::memcpy(frames(b), data, len);
    *bucket(id) = fresh + 1;
    if (old) push_free(held - 1);
    return id;
}

long StackTraceMap::extract(const void* key, void* value, bool remove) {
    const uint32_t id = array_index(key);
    if (id >= n_buckets_) return -kerr::enoent;
    std::lock_guard guard(lock_);
    const uint32_t held = *bucket(id);
    if (!held) return -kerr::enoent;
    Bucket* b = element(held - 1);
    const uint64_t len = uint64_t{b->nr} * frame_size();
    std::memcpy(value, frames(b), len);
    std::memset(static_cast<uint8_t*>(value) + len, 0, def().value_size - len);
    if (remove) {
        *bucket(id) = 0;
        push_free(held - 1);
    }
    return 0;
}

long StackTraceMap::erase(const void* key) {
    const uint32_t id = array_index(key);
    if (id >= n_buckets_) return -kerr::e2big;
    std::lock_guard guard(lock_);
    const uint32_t held = *bucket(id);
    if (!held) return -kerr::enoent;
    *bucket(id) = 0;
    push_free(held - 1);
    return 0;
}

long StackTraceMap::sys_lookup(const void* key, void* value) {
    if (long err = sys_read_perm(def())) return err;
    return extract(key, value, false);
}

long StackTraceMap::sys_update(const void*, const void*, uint64_t flags) {
    if (long err = sys_update_check(def(), flags)) return err;
    return -kerr::einval;
}

long StackTraceMap::sys_delete(const void* key) {
    if (long err = sys_write_perm(def())) return err;
    return erase(key);
}

long StackTraceMap::sys_lookup_and_delete(const void* key, void* value) {
    if (long err = sys_read_perm(def())) return err;
    if (long err = sys_write_perm(def())) return err;
    return extract(key, value, true);
}

// The bucket after key's that holds a chain; a key out of range or empty starts from bucket 0.
long StackTraceMap::get_next_key(const void* key, void* next_key) {
    if (long err = sys_read_perm(def())) return err;
    std::lock_guard guard(lock_);
    uint32_t id = key ? array_index(key) : 0;
    if (key) id = id >= n_buckets_ || !*bucket(id) ? 0 : id + 1;
    while (id < n_buckets_ && !*bucket(id))
        ++id;
    if (id >= n_buckets_) return -kerr::enoent;
    std::memcpy(next_key, &id, 4);
    return 0;
}

DefCheck detail::stack_map_alloc_check(const MapDef& def) {
    constexpr uint32_t mask = BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_STACK_BUILD_ID;
    if (def.map_flags & ~mask) return DefError{kerr::einval, "map_flags has unknown flags"};
    if (def.max_entries == 0) return DefError{kerr::einval, "max_entries must not be 0"};
    if (def.key_size != 4) return DefError{kerr::einval, "key_size must be 4"};
    if (def.value_size < 8 || def.value_size % 8)
        return DefError{kerr::einval, "value_size must be a multiple of 8"};
    if (def.map_flags & BPF_F_STACK_BUILD_ID) {
        if (def.value_size % BPF_STACK_BUILD_ID_SIZE ||
            def.value_size / BPF_STACK_BUILD_ID_SIZE > sysctl_perf_event_max_stack)
            return DefError{kerr::einval, "value_size must be a multiple of 32 (struct "
                                          "bpf_stack_build_id), at most 127 of them"};
    } else if (def.value_size / 8 > sysctl_perf_event_max_stack) {
        return DefError{kerr::einval, "value_size must hold at most 127 frames"};
    }
    if (def.max_entries > 1u << 31) return DefError{kerr::e2big, "max_entries above 2^31"};
    return std::nullopt;
}

std::shared_ptr<Map> detail::make_stack_trace_map(const MapDef& def, uint32_t ncpus) {
    return std::make_shared<StackTraceMap>(def, ncpus);
}

} // namespace ebpf
