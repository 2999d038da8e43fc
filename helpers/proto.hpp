// Helper prototypes as data, as the kernel's struct bpf_func_proto: what each argument register
// must hold and what R0 holds after the call. The verifier checks calls against them; the
// interpreter's checked mode uses them to bound what a helper may touch.
#pragma once

#include <array>
#include <cstdint>

namespace ebpf {

enum class ArgType : uint8_t {
    dontcare,                // unused argument
    anything,                // any initialised value
    const_map_ptr,           // a map from lddw
    ptr_to_map_key,          // key_size readable bytes
    ptr_to_map_value,        // value_size readable bytes
    ptr_to_map_value_uninit, // value_size bytes the helper writes
    ptr_to_mem,              // readable memory; the next argument is its size
    ptr_to_mem_or_null,
    ptr_to_uninit_mem, // memory the helper writes; the next argument is its size
    const_size,        // size of the previous argument's memory, > 0
    const_size_or_zero,
    const_alloc_size_or_zero, // a constant allocation size (ringbuf reserve)
    ptr_to_ctx,
    ptr_to_spin_lock,
    ptr_to_func,          // a callback (lddw src 4)
    ptr_to_stack_or_null, // callback context
    ptr_to_ringbuf_mem,   // a record from bpf_ringbuf_reserve, released by the call
    ptr_to_const_str,     // a NUL-terminated string in read-only map memory
    ptr_to_timer,
    ptr_to_long, // 8 writable bytes (strtol results)
    ptr_to_sock_common,        // a socket of any kind (not null)
    ptr_to_btf_id_sock_common, // a socket, also as a BTF pointer
    // 4 aligned bytes the helper reads and writes (bpf_check_mtu's mtu_len)
    ptr_to_aligned_u32,
};

enum class RetType : uint8_t {
    integer,
    void_,
    ptr_to_map_value_or_null,
    ptr_to_ringbuf_mem_or_null, // sized by the const_alloc_size argument
    ptr_to_socket_or_null,
    ptr_to_sock_common_or_null,
    ptr_to_tcp_sock_or_null,
    ptr_to_btf_id_or_null, // a BTF-typed kernel object (bpf_skc_to_*)
};

// What a call does to references (the kernel's acquire/release functions and pointer casts).
enum class RefKind : uint8_t {
    none,
    acquire,     // R0 is a new reference the program must release
    release,     // the argument of kind ptr_to_btf_id_sock_common / ptr_to_ringbuf_mem is released
    cast,        // R0 is the argument seen as another type: it shares its reference
};

struct HelperProto {
    RetType ret = RetType::integer;
    std::array<ArgType, 5> args{};
    bool gpl_only = false;
    bool pkt_access = false; // may take packet pointers for memory arguments
    RefKind ref = RefKind::none;
};

// The kernel's prototype for a helper id, or null when this build has none for it.
const HelperProto* kernel_helper_proto(int32_t id);

} // namespace ebpf
