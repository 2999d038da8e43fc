// Bound maintenance for scalars, after the kernel's reg_bounds_sync and its helpers.
#include "verifier/reg_state.hpp"

#include "maps/map_in_map.hpp"

#include <algorithm>

namespace ebpf::verifier {
namespace {

constexpr int64_t S64_MIN = std::numeric_limits<int64_t>::min();
constexpr int64_t S64_MAX = std::numeric_limits<int64_t>::max();
constexpr int32_t S32_MIN = std::numeric_limits<int32_t>::min();
constexpr int32_t S32_MAX = std::numeric_limits<int32_t>::max();
constexpr uint32_t U32_MAX = std::numeric_limits<uint32_t>::max();

void update_reg32_bounds(RegState& r) {
    const Tnum v = tnum_subreg(r.var_off);
    r.s32_min = std::max(r.s32_min, static_cast<int32_t>(v.value | (v.mask & 0x80000000u)));
    r.s32_max = std::min(r.s32_max, static_cast<int32_t>(v.value | (v.mask & 0x7fffffffu)));
    r.u32_min = std::max(r.u32_min, static_cast<uint32_t>(v.value));
    r.u32_max = std::min(r.u32_max, static_cast<uint32_t>(v.value | v.mask));
}

void update_reg64_bounds(RegState& r) {
    const Tnum v = r.var_off;
    r.smin = std::max(r.smin, static_cast<int64_t>(v.value | (v.mask & (1ULL << 63))));
    r.smax = std::min(r.smax, static_cast<int64_t>(v.value | (v.mask & ~(1ULL << 63))));
    r.umin = std::max(r.umin, v.value);
    r.umax = std::min(r.umax, v.value | v.mask);
}

void reg32_deduce_bounds(RegState& r) {
    // Where the upper halves of a 64-bit range agree, its lower halves bound the subregister.
    if ((r.umin >> 32) == (r.umax >> 32)) {
        r.u32_min = std::max(r.u32_min, static_cast<uint32_t>(r.umin));
        r.u32_max = std::min(r.u32_max, static_cast<uint32_t>(r.umax));
        if (static_cast<int32_t>(r.umin) <= static_cast<int32_t>(r.umax)) {
            r.s32_min = std::max(r.s32_min, static_cast<int32_t>(r.umin));
            r.s32_max = std::min(r.s32_max, static_cast<int32_t>(r.umax));
        }
    }
    if ((r.smin >> 32) == (r.smax >> 32)) {
        r.u32_min = std::max(r.u32_min, static_cast<uint32_t>(r.smin));
        r.u32_max = std::min(r.u32_max, static_cast<uint32_t>(r.smax));
        if (static_cast<int32_t>(r.smin) <= static_cast<int32_t>(r.smax)) {
            r.s32_min = std::max(r.s32_min, static_cast<int32_t>(r.smin));
            r.s32_max = std::min(r.s32_max, static_cast<int32_t>(r.smax));
        }
    }
    // Upper halves that differ by one, with the range crossing from negative to positive low
    // halves.
    if (static_cast<uint32_t>(r.umin >> 32) + 1 == static_cast<uint32_t>(r.umax >> 32) &&
        static_cast<int32_t>(r.umin) < 0 && static_cast<int32_t>(r.umax) >= 0) {
        r.s32_min = std::max(r.s32_min, static_cast<int32_t>(r.umin));
        r.s32_max = std::min(r.s32_max, static_cast<int32_t>(r.umax));
    }
    if (static_cast<uint32_t>(static_cast<uint64_t>(r.smin) >> 32) + 1 ==
            static_cast<uint32_t>(static_cast<uint64_t>(r.smax) >> 32) &&
        static_cast<int32_t>(r.smin) < 0 && static_cast<int32_t>(r.smax) >= 0) {
        r.s32_min = std::max(r.s32_min, static_cast<int32_t>(r.smin));
        r.s32_max = std::min(r.s32_max, static_cast<int32_t>(r.smax));
    }
    if (static_cast<int32_t>(r.u32_min) <= static_cast<int32_t>(r.u32_max)) {
        r.s32_min = std::max(r.s32_min, static_cast<int32_t>(r.u32_min));
        r.s32_max = std::min(r.s32_max, static_cast<int32_t>(r.u32_max));
    }
    if (static_cast<uint32_t>(r.s32_min) <= static_cast<uint32_t>(r.s32_max)) {
        r.u32_min = std::max(static_cast<uint32_t>(r.s32_min), r.u32_min);
        r.u32_max = std::min(static_cast<uint32_t>(r.s32_max), r.u32_max);
    }
}

void reg64_deduce_bounds(RegState& r) {
    if (static_cast<int64_t>(r.umin) <= static_cast<int64_t>(r.umax)) {
        r.smin = std::max(r.smin, static_cast<int64_t>(r.umin));
        r.smax = std::min(r.smax, static_cast<int64_t>(r.umax));
    }
    if (static_cast<uint64_t>(r.smin) <= static_cast<uint64_t>(r.smax)) {
        r.umin = std::max(static_cast<uint64_t>(r.smin), r.umin);
        r.umax = std::min(static_cast<uint64_t>(r.smax), r.umax);
    } else if (r.umax < static_cast<uint64_t>(r.smin)) {
        // The signed range crosses zero; the unsigned range sits on its non-negative side.
        r.smin = static_cast<int64_t>(r.umin);
        r.umax = std::min(r.umax, static_cast<uint64_t>(r.smax));
    } else if (static_cast<uint64_t>(r.smax) < r.umin) {
        r.smax = static_cast<int64_t>(r.umax);
        r.umin = std::max(r.umin, static_cast<uint64_t>(r.smin));
    }
}

void reg_deduce_mixed_bounds(RegState& r) {
    const uint64_t new_umin = (r.umin & ~0xffffffffULL) | r.u32_min;
    const uint64_t new_umax = (r.umax & ~0xffffffffULL) | r.u32_max;
    r.umin = std::max(r.umin, new_umin);
    r.umax = std::min(r.umax, new_umax);
    const int64_t new_smin =
        static_cast<int64_t>((static_cast<uint64_t>(r.smin) & ~0xffffffffULL) | r.u32_min);
    const int64_t new_smax =
        static_cast<int64_t>((static_cast<uint64_t>(r.smax) & ~0xffffffffULL) | r.u32_max);
    r.smin = std::max(r.smin, new_smin);
    r.smax = std::min(r.smax, new_smax);
    // After a sign-extending load the upper half is all ones or all zeros.
    if (r.s32_min >= 0 && r.smin >= S32_MIN && r.smax <= S32_MAX) {
        r.smin = r.s32_min;
        r.smax = r.s32_max;
        r.umin = static_cast<uint64_t>(r.s32_min);
        r.umax = static_cast<uint64_t>(r.s32_max);
        r.var_off = tnum_intersect(
            r.var_off, tnum_range(static_cast<uint64_t>(r.smin), static_cast<uint64_t>(r.smax)));
    }
}

void reg_bound_offset(RegState& r) {
    const Tnum var64 = tnum_intersect(r.var_off, tnum_range(r.umin, r.umax));
    const Tnum var32 = tnum_intersect(tnum_subreg(var64), tnum_range(r.u32_min, r.u32_max));
    r.var_off = tnum_or(tnum_clear_subreg(var64), var32);
}

bool reg32_bound_s64(int32_t a) {
    return a >= 0;
}

} // namespace

void mark_unbounded(RegState& r) {
    mark_64_unbounded(r);
    mark_32_unbounded(r);
}

void mark_64_unbounded(RegState& r) {
    r.smin = S64_MIN;
    r.smax = S64_MAX;
    r.umin = 0;
    r.umax = ~0ULL;
}

void mark_32_unbounded(RegState& r) {
    r.s32_min = S32_MIN;
    r.s32_max = S32_MAX;
    r.u32_min = 0;
    r.u32_max = U32_MAX;
}

void mark_known(RegState& r, uint64_t value) {
    const RegType type = r.type;
    r = RegState{};
    r.type = type;
    r.var_off = tnum_const(value);
    r.smin = r.smax = static_cast<int64_t>(value);
    r.umin = r.umax = value;
    r.s32_min = r.s32_max = static_cast<int32_t>(value);
    r.u32_min = r.u32_max = static_cast<uint32_t>(value);
}

void mark_known_zero(RegState& r) {
    mark_known(r, 0);
}

void mark_unknown(RegState& r) {
    r = RegState{};
    r.type = RegType::scalar;
}

void mark_not_init(RegState& r) {
    r = RegState{};
}

void bounds_sync(RegState& r) {
    update_reg32_bounds(r);
    update_reg64_bounds(r);
    for (int i = 0; i < 2; ++i) {
        reg32_deduce_bounds(r);
        reg64_deduce_bounds(r);
        reg_deduce_mixed_bounds(r);
    }
    reg_bound_offset(r);
    update_reg32_bounds(r);
    update_reg64_bounds(r);
}

bool bounds_sane(const RegState& r) {
    return r.umin <= r.umax && r.smin <= r.smax && r.u32_min <= r.u32_max &&
           r.s32_min <= r.s32_max && (r.var_off.value & r.var_off.mask) == 0;
}

void assign_32_into_64(RegState& r) {
    r.umin = r.u32_min;
    r.umax = r.u32_max;
    if (reg32_bound_s64(r.s32_min) && reg32_bound_s64(r.s32_max)) {
        r.smin = r.s32_min;
        r.smax = r.s32_max;
    } else {
        r.smin = 0;
        r.smax = U32_MAX;
    }
}

void zext_32_to_64(RegState& r) {
    r.var_off = tnum_subreg(r.var_off);
    assign_32_into_64(r);
}

std::string reg_type_str(RegType type, uint32_t flags) {
    static constexpr const char* names[] = {
        "?",         "scalar",   "ctx",     "map_ptr",   "map_value",   "map_key", "fp",
        "pkt_meta",  "pkt",      "pkt_end", "flow_keys", "sock_common", "sock",    "tcp_sock",
        "tp_buffer", "xdp_sock", "mem",     "buf",       "func",        "ptr_",
    };
    std::string s;
    if (flags & MEM_RDONLY) s += "rdonly_";
    if (flags & MEM_RINGBUF) s += "ringbuf_";
    if (flags & PTR_TRUSTED) s += "trusted_";
    s += names[static_cast<size_t>(type)];
    if (flags & PTR_MAYBE_NULL) s += type == RegType::ptr_to_btf_id ? "or_null_" : "_or_null";
    return s;
}

const MapDef& reg_map_def(const RegState& reg) {
    if (reg.inner_map) return static_cast<const MapInMap*>(reg.map)->inner_def();
    return reg.map->def();
}

std::string reg_type_str(const RegState& reg) {
    return reg_type_str(reg.type, reg.flags);
}

} // namespace ebpf::verifier
