#include "helpers/checked.hpp"

#include "maps/map.hpp"

#include <cstdio>

namespace ebpf {
namespace {

// A string argument (bpf_snprintf's format) is read up to its NUL; no format is longer.
constexpr uint64_t max_const_str = 1 << 16;

std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(v));
    return buf;
}

struct ArgChecker {
    RunState& state;
    int32_t id;
    const uint64_t (&regs)[5];
    const Map* map = nullptr;

    bool fail(size_t i, const std::string& what) {
        state.fault(kernel_helper_name(id) + ": R" + std::to_string(i + 1) + " " + what);
        return false;
    }

    bool memory(size_t i, uint64_t len, bool write) {
        if (len == 0 || state.accessible(regs[i], len, write)) return true;
        return fail(i, "(" + std::to_string(len) + " bytes at " + hex(regs[i]) +
                           ") is not memory the run may " + (write ? "write" : "read"));
    }

    bool check(size_t i, ArgType arg) {
        const uint64_t r = regs[i];
        switch (arg) {
        case ArgType::const_map_ptr:
            map = reinterpret_cast<const Map*>(r);
            if (!state.knows_map(map)) return fail(i, "= " + hex(r) + " is not a map of the run");
            return true;
        case ArgType::ptr_to_map_key:
            return map ? memory(i, map->def().key_size, false) : fail(i, "has no map");
        case ArgType::ptr_to_map_value:
        case ArgType::ptr_to_map_value_uninit:
            return map ? memory(i, map->def().value_size, arg == ArgType::ptr_to_map_value_uninit)
                       : fail(i, "has no map");
        case ArgType::ptr_to_mem:
        case ArgType::ptr_to_mem_or_null:
        case ArgType::ptr_to_uninit_mem: {
            const uint64_t len = i + 1 < 5 ? regs[i + 1] : 0;
            if (r == 0 && arg == ArgType::ptr_to_mem_or_null && len == 0) return true;
            return memory(i, len, arg == ArgType::ptr_to_uninit_mem);
        }
        case ArgType::ptr_to_spin_lock:
            if (r % 4) return fail(i, "= " + hex(r) + " is not a 4-byte aligned bpf_spin_lock");
            return memory(i, 4, true);
        case ArgType::ptr_to_long: return memory(i, 8, true);
        case ArgType::ptr_to_aligned_u32:
            if (r % 4) return fail(i, "= " + hex(r) + " is not 4-byte aligned");
            return memory(i, 4, true);
        case ArgType::ptr_to_const_str:
            for (uint64_t n = 0; n < max_const_str; ++n) {
                if (!state.accessible(r + n, 1, false))
                    return fail(i, "(a string at " + hex(r) + ") is not memory the run may read");
                if (*reinterpret_cast<const char*>(r + n) == 0) return true;
            }
            return fail(i, "(a string at " + hex(r) + ") has no NUL");
        case ArgType::ptr_to_ctx:
            if (state.ctx && r != reinterpret_cast<uint64_t>(state.ctx))
                return fail(i, "= " + hex(r) + " is not the run's context");
            return true;
        // A socket: a view of one the run knows (the context's, or one a lookup found). The
        // helpers that take a BTF socket take null too.
        case ArgType::ptr_to_btf_id_sock_common:
            if (r == 0) return true;
            [[fallthrough]];
        case ArgType::ptr_to_sock_common:
            if (!state.knows_sock_view(r))
                return fail(i, "= " + hex(r) + " is not a socket of the run");
            return true;
        // Not dereferenced here: callbacks are checked by the engine that runs them, ringbuf
        // records by the ring buffer, and sizes with the memory before them.
        default: return true;
        }
    }
};

} // namespace

bool check_helper_args(RunState& state, int32_t id, const HelperProto* proto,
                       const uint64_t (&regs)[5]) {
    if (!proto) {
        state.fault(kernel_helper_name(id) + " has no prototype to check its arguments against");
        return false;
    }
    ArgChecker checker{state, id, regs};
    for (size_t i = 0; i < proto->args.size(); ++i)
        if (!checker.check(i, proto->args[i])) return false;
    return true;
}

} // namespace ebpf
