// The kernel differential tests' tools: one map in the live kernel (bpf(2) through libbpf) and
// one of ours, created from the same attributes, and each syscall-view operation done on both
// with the same return codes and values required. Linux only.
#pragma once

#include "maps/kernel_errno.hpp"
#include "maps/map.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <set>
#include <unistd.h>
#include <vector>

namespace maps_kernel {

namespace e = ebpf;

using Bytes = std::vector<uint8_t>;

template <typename T> Bytes bytes(const T& v) {
    Bytes out(sizeof(T));
    std::memcpy(out.data(), &v, sizeof(T));
    return out;
}

// Whether bpf() works here; each test that cannot run says why.
inline bool kernel_available() {
    static const int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "probe", 4, 4, 1, nullptr);
    if (fd < 0)
        WARN("skipping the kernel differential test: bpf(BPF_MAP_CREATE) failed with "
             << std::strerror(-fd) << " (bpf() needs root or CAP_BPF, and "
             << "kernel.unprivileged_bpf_disabled may forbid it)");
    return fd >= 0;
}

inline uint32_t possible_cpus() {
    const int n = libbpf_num_possible_cpus();
    REQUIRE(n > 0);
    return static_cast<uint32_t>(n);
}

// BTF for a value struct { int a; struct bpf_spin_lock lock; int b, c; }, which is how the
// kernel learns that a value holds a bpf_spin_lock (at offset 4).
struct SpinLockBtf {
    static constexpr int32_t lock_off = 4;
    static constexpr uint32_t value_size = 16;
    int fd = -1;
    uint32_t int_id = 0, value_id = 0;
    btf* types = nullptr;

    SpinLockBtf() {
        types = btf__new_empty();
        REQUIRE(types);
        int_id = btf__add_int(types, "int", 4, BTF_INT_SIGNED);
        const int lock_id = btf__add_struct(types, "bpf_spin_lock", 4);
        REQUIRE(btf__add_field(types, "val", int_id, 0, 0) == 0);
        value_id = btf__add_struct(types, "val_t", value_size);
        REQUIRE(btf__add_field(types, "a", int_id, 0, 0) == 0);
        REQUIRE(btf__add_field(types, "lock", lock_id, 32, 0) == 0);
        REQUIRE(btf__add_field(types, "b", int_id, 64, 0) == 0);
        REQUIRE(btf__add_field(types, "c", int_id, 96, 0) == 0);
        REQUIRE(btf__load_into_kernel(types) == 0);
        fd = btf__fd(types);
    }
    ~SpinLockBtf() { btf__free(types); }
    SpinLockBtf(const SpinLockBtf&) = delete;
    SpinLockBtf& operator=(const SpinLockBtf&) = delete;
};

// One map on each side, created from the same attributes.
class Pair {
  public:
    Pair(e::MapType type, uint32_t key_size, uint32_t value_size, uint32_t max_entries,
         uint32_t map_flags = 0, const SpinLockBtf* lock = nullptr)
        : key_size_(key_size) {
        const uint32_t ncpus = possible_cpus();
        const bool percpu = type == e::MapType::percpu_array || type == e::MapType::percpu_hash ||
                            type == e::MapType::lru_percpu_hash;
        value_out_ = percpu ? ((value_size + 7) & ~7u) * ncpus : value_size;
        LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = map_flags);
        if (lock) {
            opts.btf_fd = lock->fd;
            opts.btf_key_type_id = lock->int_id;
            opts.btf_value_type_id = lock->value_id;
        }
        fd_ = bpf_map_create(static_cast<bpf_map_type>(type), "diff", key_size, value_size,
                             max_entries, &opts);
        INFO("kernel map_create: " << fd_);
        REQUIRE(fd_ >= 0);
        e::MapDef def;
        def.type = type;
        def.key_size = key_size;
        def.value_size = value_size;
        def.max_entries = max_entries;
        def.map_flags = map_flags;
        def.spin_lock_off = lock ? SpinLockBtf::lock_off : -1;
        def.name = "diff";
        auto ours = e::create_map(def, e::MapOptions{ncpus});
        INFO((ours ? "" : ours.error().message));
        REQUIRE(ours.ok());
        ours_ = *ours;
    }
    ~Pair() { close(fd_); }
    Pair(const Pair&) = delete;
    Pair& operator=(const Pair&) = delete;

    size_t value_out() const { return value_out_; }

    long update(const Bytes* key, const Bytes& value, uint64_t flags) {
        const void* k = key ? key->data() : nullptr;
        const long theirs = bpf_map_update_elem(fd_, k, value.data(), flags);
        const long ours = ours_->sys_update(k, value.data(), flags);
        INFO("update flags " << flags << ": kernel " << theirs << ", ours " << ours);
        CHECK(ours == theirs);
        return theirs;
    }

    // The value looked up (kernel's), after checking both sides agree.
    long lookup(const Bytes* key, Bytes* out = nullptr) { return read(key, out, false); }
    long lookup_and_delete(const Bytes* key, Bytes* out = nullptr) { return read(key, out, true); }

    long erase(const Bytes& key) {
        const long theirs = bpf_map_delete_elem(fd_, key.data());
        const long ours = ours_->sys_delete(key.data());
        INFO("delete: kernel " << theirs << ", ours " << ours);
        CHECK(ours == theirs);
        return theirs;
    }

    // get_next_key where both sides must answer the same key (arrays, tries, queues).
    long next_key(const Bytes* key) {
        Bytes theirs_next(std::max<uint32_t>(key_size_, 4), 0xee), ours_next = theirs_next;
        const void* k = key ? key->data() : nullptr;
        const long theirs = bpf_map_get_next_key(fd_, k, theirs_next.data());
        const long ours = ours_->get_next_key(k, ours_next.data());
        INFO("get_next_key: kernel " << theirs << ", ours " << ours);
        CHECK(ours == theirs);
        if (theirs == 0 && ours == 0) CHECK(ours_next == theirs_next);
        return theirs;
    }

    // Walks both maps in full: the same keys, each once, whatever the order.
    std::set<Bytes> keys() {
        const auto theirs =
            walk([&](const void* k, void* n) { return bpf_map_get_next_key(fd_, k, n); });
        const auto ours = walk([&](const void* k, void* n) { return ours_->get_next_key(k, n); });
        CHECK(ours == theirs);
        return theirs;
    }

    e::Map& ours() { return *ours_; }
    int fd() const { return fd_; }

  private:
    long read(const Bytes* key, Bytes* out, bool remove) {
        Bytes theirs_value(value_out_, 0xcc), ours_value(value_out_, 0xcc);
        const void* k = key ? key->data() : nullptr;
        const long theirs = remove ? bpf_map_lookup_and_delete_elem(fd_, k, theirs_value.data())
                                   : bpf_map_lookup_elem(fd_, k, theirs_value.data());
        const long ours = remove ? ours_->sys_lookup_and_delete(k, ours_value.data())
                                 : ours_->sys_lookup(k, ours_value.data());
        INFO((remove ? "lookup_and_delete" : "lookup")
             << ": kernel " << theirs << ", ours " << ours);
        CHECK(ours == theirs);
        if (theirs == 0 && ours == 0) CHECK(ours_value == theirs_value);
        if (out) *out = theirs_value;
        return theirs;
    }

    template <typename Next> std::set<Bytes> walk(Next next) {
        std::set<Bytes> seen;
        Bytes key(key_size_), nk(key_size_);
        const void* prev = nullptr;
        long err;
        while ((err = next(prev, nk.data())) == 0) {
            INFO("key seen twice in a walk");
            REQUIRE(seen.insert(nk).second);
            REQUIRE(seen.size() <= 100000);
            key = nk;
            prev = key.data();
        }
        CHECK(err == -ENOENT);
        return seen;
    }

    uint32_t key_size_;
    size_t value_out_ = 0;
    int fd_ = -1;
    std::shared_ptr<e::Map> ours_;
};

inline Bytes u32(uint32_t v) {
    return bytes(v);
}

// A value of n bytes derived from seed, so every byte is compared.
inline Bytes pattern(size_t n, uint32_t seed) {
    Bytes out(n);
    for (size_t i = 0; i < n; ++i)
        out[i] = static_cast<uint8_t>(seed * 131 + i * 7 + 1);
    return out;
}

} // namespace maps_kernel
