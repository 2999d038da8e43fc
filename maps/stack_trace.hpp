// BPF_MAP_TYPE_STACK_TRACE (kernel/bpf/stackmap.c): call chains stored by id. The id of a chain
// is its bucket, jhash2 of its IPs with seed 0, masked to n_buckets (max_entries rounded up to a
// power of two); a bucket holds one chain, and max_entries preallocated elements back them.
// Programs only reach it through bpf_get_stackid; the syscall side reads (and deletes) chains by
// id, and refuses updates.
//
// With BPF_F_STACK_BUILD_ID each frame is a struct bpf_stack_build_id (32 bytes) instead of a
// u64 IP. This VM knows no executable's mappings, so every frame takes the kernel's fallback for
// a frame it cannot resolve: status BPF_STACK_BUILD_ID_IP, the build id zeroed, the IP kept.
#pragma once

#include "maps/map_impl.hpp"

#include <span>
#include <vector>

namespace ebpf {

// bpf_get_stackid/bpf_get_stack flags (enum in linux/bpf.h).
inline constexpr uint64_t BPF_F_SKIP_FIELD_MASK = 0xff, BPF_F_USER_STACK = 1u << 8,
                          BPF_F_FAST_STACK_CMP = 1u << 9, BPF_F_REUSE_STACKID = 1u << 10,
                          BPF_F_USER_BUILD_ID = 1u << 11;
// sysctl kernel.perf_event_max_stack at its default: the deepest chain perf collects.
inline constexpr uint32_t sysctl_perf_event_max_stack = 127;

// struct bpf_stack_build_id: s32 status; u8 build_id[20]; union { u64 offset; u64 ip; }.
inline constexpr uint32_t BPF_STACK_BUILD_ID_SIZE = 32, BPF_STACK_BUILD_ID_IP_OFF = 24;
inline constexpr int32_t BPF_STACK_BUILD_ID_EMPTY = 0, BPF_STACK_BUILD_ID_VALID = 1,
                         BPF_STACK_BUILD_ID_IP = 2;

// Writes n frames of ips as struct bpf_stack_build_id with the unresolved status (see above).
void stack_build_id_fallback(uint8_t* out, std::span<const uint64_t> ips);

class StackTraceMap final : public Map {
  public:
    StackTraceMap(const MapDef& def, uint32_t ncpus);

    bool build_id() const { return def().map_flags & BPF_F_STACK_BUILD_ID; }
    // Bytes of one frame: 8, or 32 with BPF_F_STACK_BUILD_ID.
    uint32_t frame_size() const { return build_id() ? BPF_STACK_BUILD_ID_SIZE : 8; }
    uint32_t n_buckets() const { return n_buckets_; }

    // __bpf_get_stackid(): trace is the chain as perf collected it (at most
    // value_size / frame_size() + skip frames); the flags were checked by the helper. The id, or
    // -EFAULT (nothing left after the skip), -EEXIST (the bucket holds another chain and
    // BPF_F_REUSE_STACKID is not set), -ENOMEM (all max_entries elements in use).
    long get_stackid(std::span<const uint64_t> trace, uint64_t flags);

    void* lookup(const void*, uint32_t) override { return nullptr; }
    long update(const void*, const void*, uint64_t, uint32_t) override { return -kerr::einval; }
    long erase(const void* key) override;

    long sys_lookup(const void* key, void* value) override;
    long sys_update(const void* key, const void* value, uint64_t flags) override;
    long sys_delete(const void* key) override;
    long get_next_key(const void* key, void* next_key) override;
    long sys_lookup_and_delete(const void* key, void* value) override;

  private:
    struct Bucket {
        uint32_t hash;
        uint32_t nr; // frames
        // then value_size bytes of frames
    };

    Bucket* element(uint32_t id) const {
        return reinterpret_cast<Bucket*>(elements_.data() + uint64_t{id} * stride_);
    }
    static uint8_t* frames(Bucket* b) { return reinterpret_cast<uint8_t*>(b + 1); }
    long extract(const void* key, void* value, bool remove); // bpf_stackmap_extract()

    uint32_t* bucket(uint32_t id) const {
        return reinterpret_cast<uint32_t*>(buckets_.data()) + id;
    }
    uint32_t pop_free();
    void push_free(uint32_t element);

    const uint32_t n_buckets_;
    const uint64_t stride_;
    detail::Arena elements_;
    detail::Arena buckets_; // per bucket: its element's id + 1, 0 when empty
    detail::Arena free_;    // element ids given back, a stack of nfree_
    uint32_t nfree_ = 0;
    uint32_t fresh_ = 0;           // elements from here on were never used
    std::vector<uint8_t> scratch_; // the frames of a build-id chain being stored, under lock_
    SpinLock lock_;
};

namespace detail {
DefCheck stack_map_alloc_check(const MapDef& def);
std::shared_ptr<Map> make_stack_trace_map(const MapDef& def, uint32_t ncpus);
} // namespace detail

} // namespace ebpf
