// Register state, as the kernel's struct bpf_reg_state: a type, a fixed offset, known bits and
// signed/unsigned 64- and 32-bit bounds of the variable part, ids for null checks and
// references, and what the pointer points into.
#pragma once

#include "maps/map.hpp"
#include "verifier/tnum.hpp"

#include <cstdint>
#include <limits>
#include <string>

namespace ebpf::verifier {

enum class RegType : uint8_t {
    not_init,
    scalar,
    ptr_to_ctx,
    const_ptr_to_map,
    ptr_to_map_value,
    ptr_to_map_key,
    ptr_to_stack,
    ptr_to_packet_meta,
    ptr_to_packet,
    ptr_to_packet_end,
    ptr_to_flow_keys,
    ptr_to_sock_common,
    ptr_to_socket,
    ptr_to_tcp_sock,
    ptr_to_tp_buffer,
    ptr_to_xdp_sock,
    ptr_to_mem,
    ptr_to_buf,
    ptr_to_func,
    ptr_to_btf_id,
};

// Type flags, as the kernel's PTR_MAYBE_NULL, MEM_RDONLY, MEM_RINGBUF.
inline constexpr uint32_t PTR_MAYBE_NULL = 1u << 0, MEM_RDONLY = 1u << 1, MEM_RINGBUF = 1u << 2,
                          PTR_TRUSTED = 1u << 3;

struct RegState {
    RegType type = RegType::not_init;
    uint32_t flags = 0;
    int32_t off = 0;       // fixed offset of a pointer
    int32_t range = 0;     // packet pointers: bytes proven readable past off, or a pkt_end marker
    uint32_t mem_size = 0; // ptr_to_mem: size of the region
    const Map* map = nullptr; // const_ptr_to_map and ptr_to_map_value/key
    bool inner_map = false;   // map is a map-in-map and this is its inner map template
    uint32_t frameno = 0;     // ptr_to_stack: the frame it points into
    uint32_t id = 0;          // shared by copies: null checks and bounds mark them all
    uint32_t ref_obj_id = 0;  // acquired references (ringbuf records, sockets)
    uint32_t subprog = 0;     // ptr_to_func: the callback's first instruction
    Tnum var_off = tnum_unknown;
    int64_t smin = std::numeric_limits<int64_t>::min();
    int64_t smax = std::numeric_limits<int64_t>::max();
    uint64_t umin = 0;
    uint64_t umax = std::numeric_limits<uint64_t>::max();
    int32_t s32_min = std::numeric_limits<int32_t>::min();
    int32_t s32_max = std::numeric_limits<int32_t>::max();
    uint32_t u32_min = 0;
    uint32_t u32_max = std::numeric_limits<uint32_t>::max();
    bool precise = false;

    bool is_pointer() const { return type != RegType::not_init && type != RegType::scalar; }
    bool maybe_null() const { return flags & PTR_MAYBE_NULL; }
    bool is_const() const { return type == RegType::scalar && tnum_is_const(var_off); }
    bool is_packet() const {
        return type == RegType::ptr_to_packet || type == RegType::ptr_to_packet_meta;
    }
};

// Packet pointer ranges that say where it stands against pkt_end instead (the kernel's
// BEYOND_PKT_END and AT_PKT_END): no byte is readable, and comparisons with pkt_end are known.
inline constexpr int32_t beyond_pkt_end = -2, at_pkt_end = -1;

// The definition of the map a register points to (the inner template for inner_map).
const MapDef& reg_map_def(const RegState& reg);

// Scalar constructors and bound maintenance (the kernel's __mark_reg_known, __mark_reg_unknown,
// reg_bounds_sync, ...).
void mark_known(RegState& reg, uint64_t value);
void mark_known_zero(RegState& reg);
void mark_unknown(RegState& reg); // an unbounded scalar
void mark_not_init(RegState& reg);
void mark_unbounded(RegState& reg); // bounds unknown, type kept
void mark_32_unbounded(RegState& reg);
void mark_64_unbounded(RegState& reg);
void bounds_sync(RegState& reg);       // reg_bounds_sync: tnum and the four ranges agree
bool bounds_sane(const RegState& reg); // false when a range is empty (dead branch)
void zext_32_to_64(RegState& reg);     // a 32-bit result: upper half known zero
void assign_32_into_64(RegState& reg); // after a 32-bit op: derive 64-bit bounds

// The kernel's name for a type ("scalar", "ctx", "map_value_or_null", "fp", ...).
std::string reg_type_str(const RegState& reg);
std::string reg_type_str(RegType type, uint32_t flags);

} // namespace ebpf::verifier
