// Loads, stores and atomics: the kernel's check_mem_access and what it calls for each kind of
// memory (stack slots, context fields, map values and keys, packets, helper-given memory).
#include "verifier/env.hpp"
#include "verifier/scalar_ops.hpp"

#include <bit>
#include <cstring>

namespace ebpf::verifier {
namespace {

constexpr int64_t max_var_off = 1LL << 29;

bool register_is_null(const RegState& r) {
    return r.type == RegType::scalar && tnum_equals_const(r.var_off, 0);
}

bool is_sk_pointer(RegType t) {
    return t == RegType::ptr_to_sock_common || t == RegType::ptr_to_socket ||
           t == RegType::ptr_to_tcp_sock || t == RegType::ptr_to_xdp_sock;
}

// The fields of struct bpf_sock, bpf_sock common to all sockets, and struct bpf_tcp_sock that a
// program may read (bpf_sock_is_valid_access and its kin in net/core/filter.c).
bool sock_field_ok(int off, int size) {
    constexpr int sizeof_bpf_sock = 80;
    if (off < 0 || off >= sizeof_bpf_sock || off % size != 0) return false;
    auto narrow_ok = [&](int field) { return size <= field && (size & (size - 1)) == 0; };
    if (off == 0 || off == 16 || off == 20) return size == 4; // bound_dev_if, mark, priority
    if (off >= 48 && off < 52) {                              // dst_port: a __be16 and a hole
        if (off >= 50) return false;
        return size == 4 ? off == 48 : narrow_ok(2);
    }
    // family, type, protocol, src_ip4, src_ip6, src_port, dst_ip4, dst_ip6, state,
    // rx_queue_mapping: u32 fields that allow narrow loads.
    return narrow_ok(4);
}

bool sock_access_ok(RegType type, int off, int size) {
    switch (type) {
    case RegType::ptr_to_sock_common:
        if (off >= 8 && off < 24) return false; // type .. priority are not in sock_common
        return sock_field_ok(off, size);
    case RegType::ptr_to_socket: return sock_field_ok(off, size);
    case RegType::ptr_to_tcp_sock:
        if (off < 0 || off >= 112 || off % size != 0) return false;
        if (off == 80 || off == 88) return size == 8; // bytes_received, bytes_acked
        return size == 4;
    case RegType::ptr_to_xdp_sock: return off == 0 && size == 4; // queue_id
    default: return false;
    }
}

// The kernel struct behind a map of this type (its map_btf_id), as messages name it.
const char* map_struct_name(MapType type) {
    switch (type) {
    case MapType::hash:
    case MapType::percpu_hash:
    case MapType::lru_hash:
    case MapType::lru_percpu_hash:
    case MapType::hash_of_maps: return "bpf_htab";
    case MapType::lpm_trie: return "lpm_trie";
    case MapType::queue:
    case MapType::stack: return "bpf_queue_stack";
    case MapType::ringbuf: return "bpf_ringbuf_map";
    case MapType::devmap:
    case MapType::devmap_hash: return "bpf_dtab";
    case MapType::cpumap: return "bpf_cpu_map";
    case MapType::xskmap: return "xsk_map";
    case MapType::stack_trace: return "bpf_stack_map";
    default: return "bpf_array"; // the array kinds
    }
}

} // namespace

// check_ptr_alignment: always for the stack (its spill tracking needs it), else when asked.
int Env::check_ptr_alignment(const RegState& reg, int off, int size, bool strict_once) {
    const bool strict = opts_.strict_alignment || strict_once || reg.type == RegType::ptr_to_stack;
    if (strict && size != 1) {
        if (reg.is_packet()) {
            const Tnum at =
                tnum_add(reg.var_off, tnum_const(static_cast<uint64_t>(2 + reg.off + off)));
            if (!tnum_is_aligned(at, size))
                return reject(-EACCES_, "misaligned packet access off %d+%s+%d+%d size %d", 2,
                              tnum_str(reg.var_off).c_str(), reg.off, off, size);
        } else {
            const char* desc = reg.type == RegType::ptr_to_stack       ? "stack "
                               : reg.type == RegType::ptr_to_map_value ? "value "
                               : reg.type == RegType::ptr_to_map_key   ? "key "
                               : reg.type == RegType::ptr_to_ctx       ? "context "
                               : reg.type == RegType::ptr_to_flow_keys ? "flow keys "
                                                                       : "";
            const Tnum at = tnum_add(reg.var_off, tnum_const(static_cast<uint64_t>(reg.off + off)));
            if (!tnum_is_aligned(at, size))
                return reject(-EACCES_, "misaligned %saccess off %s+%d+%d size %d", desc,
                              tnum_str(reg.var_off).c_str(), reg.off, off, size);
        }
    }
    return 0;
}

int Env::check_mem_access(uint32_t insn_idx, uint32_t regno, int off, int size, bool write,
                          int value_regno, bool sign_ext) {
    return check_mem_access_once(insn_idx, regno, off, size, write, value_regno, sign_ext, false);
}

int Env::check_mem_access_once(uint32_t insn_idx, uint32_t regno, int off, int size, bool write,
                               int value_regno, bool sign_ext, bool strict_once) {
    auto& regs = cur_.cur().regs;
    RegState& reg = regs[regno];
    (void)insn_idx;

    if (int err = check_ptr_alignment(reg, off, size, strict_once)) return err;
    off += reg.off;
    if (reg.maybe_null() && reg.type != RegType::ptr_to_mem)
        return reject(-EACCES_, "R%u invalid mem access '%s'", regno, reg_type_str(reg).c_str());
    const bool leaks =
        !opts_.privileged && write && value_regno >= 0 && regs[value_regno].is_pointer();
    int err = 0;

    switch (reg.type) {
    case RegType::ptr_to_map_key:
        if (write) return reject(-EACCES_, "write to change key R%u not allowed", regno);
        if ((err = check_mem_region_access(regno, off, size, reg_map_def(reg).key_size)))
            return err;
        if (value_regno >= 0) mark_unknown(regs[value_regno]);
        break;
    case RegType::ptr_to_map_value: {
        if (leaks) return reject(-EACCES_, "R%d leaks addr into map", value_regno);
        const MapDef& def = reg_map_def(reg);
        if (write && (def.map_flags & BPF_F_RDONLY_PROG || reg.flags & MEM_RDONLY))
            return reject(-EACCES_, "write into map forbidden, value_size=%u off=%d size=%d",
                          def.value_size, off, size);
        if (!write && def.map_flags & BPF_F_WRONLY_PROG)
            return reject(-EACCES_, "read from map forbidden, value_size=%u off=%d size=%d",
                          def.value_size, off, size);
        if ((err = check_mem_region_access(regno, off, size, def.value_size))) return err;
        if (def.spin_lock_off >= 0 && tnum_is_const(reg.var_off)) {
            const int64_t at = off + static_cast<int64_t>(reg.var_off.value);
            if (at < def.spin_lock_off + 4 && at + size > def.spin_lock_off)
                return reject(-EACCES_, "bpf_spin_lock cannot be accessed directly by load/store");
        }
        if (!write && value_regno >= 0) {
            RegState& dst = regs[value_regno];
            const Map* map = reg.map;
            uint8_t* base = nullptr;
            // Read-only global data is known: its bytes are the value.
            if (tnum_is_const(reg.var_off) && !reg.inner_map &&
                (def.map_flags & BPF_F_RDONLY_PROG) && map->type() == MapType::array &&
                (base = const_cast<Map*>(map)->direct_value(0))) {
                uint64_t v = 0;
                std::memcpy(&v, base + off + reg.var_off.value, static_cast<size_t>(size));
                if (sign_ext)
                    v = static_cast<uint64_t>(size == 1   ? static_cast<int8_t>(v)
                                              : size == 2 ? static_cast<int16_t>(v)
                                                          : static_cast<int32_t>(v));
                mark_unknown(dst);
                mark_known(dst, v);
                return 0;
            }
            mark_unknown(dst);
        }
        break;
    }
    case RegType::ptr_to_mem:
        if (reg.maybe_null())
            return reject(-EACCES_, "R%u invalid mem access '%s'", regno,
                          reg_type_str(reg).c_str());
        if (write && (reg.flags & MEM_RDONLY))
            return reject(-EACCES_, "R%u cannot write into %s", regno, reg_type_str(reg).c_str());
        if (leaks) return reject(-EACCES_, "R%d leaks addr into mem", value_regno);
        if ((err = check_mem_region_access(regno, off, size, reg.mem_size))) return err;
        if (value_regno >= 0 && !write) mark_unknown(regs[value_regno]);
        break;
    case RegType::const_ptr_to_map: {
        // check_ptr_to_map_access. The kernel then reads the map's struct through BTF, which
        // this VM does not model: such reads are refused below like other unknown memory.
        const char* name = map_struct_name(reg_map_def(reg).type);
        if (!opts_.privileged)
            return reject(-EPERM_,
                          "'struct %s' access is allowed only to CAP_PERFMON and CAP_SYS_ADMIN",
                          name);
        if (off < 0)
            return reject(-EACCES_, "R%u is %s invalid negative access: off=%d", regno, name, off);
        if (write) return reject(-EACCES_, "only read from %s is supported", name);
        return reject(-EACCES_, "R%u invalid mem access '%s'", regno, reg_type_str(reg).c_str());
    }
    case RegType::ptr_to_ctx: {
        if (leaks) return reject(-EACCES_, "R%d leaks addr into ctx", value_regno);
        if ((err = check_ptr_off_reg(reg, regno))) return err;
        RegType loaded = RegType::scalar;
        uint32_t loaded_flags = 0;
        if ((err = check_ctx_access(off, size, write, sign_ext, loaded, loaded_flags))) return err;
        if (!write && value_regno >= 0) {
            RegState& dst = regs[value_regno];
            if (loaded == RegType::scalar) {
                mark_unknown(dst);
            } else {
                mark_unknown(dst);
                mark_known_zero(dst);
                dst.type = loaded;
                dst.flags = loaded_flags;
                if (loaded_flags & PTR_MAYBE_NULL) dst.id = ++id_gen_;
            }
        }
        break;
    }
    case RegType::ptr_to_stack: {
        FuncState& frame = *cur_.frames[reg.frameno];
        int64_t min_off, max_off;
        if (tnum_is_const(reg.var_off)) {
            min_off = static_cast<int64_t>(reg.var_off.value) + off;
            max_off = min_off + size;
        } else {
            if (reg.smax >= max_var_off || reg.smin <= -max_var_off)
                return reject(-EACCES_, "invalid unbounded variable-offset%s stack R%u",
                              write ? " write to" : " read from", regno);
            min_off = reg.smin + off;
            max_off = reg.smax + off + size;
        }
        if (min_off < -MAX_BPF_STACK || max_off > 0) {
            if (tnum_is_const(reg.var_off))
                return reject(-EACCES_, "invalid%s stack R%u off=%d size=%d",
                              write ? " write to" : " read from", regno, off, size);
            return reject(-EACCES_, "invalid variable-offset%s stack R%u var_off=%s off=%d size=%d",
                          write ? " write to" : " read from", regno, tnum_str(reg.var_off).c_str(),
                          off, size);
        }
        frame.grow_stack(static_cast<size_t>(-min_off));
        note_stack_depth(frame, static_cast<uint32_t>(-min_off));
        if (!tnum_is_const(reg.var_off) && !write) mark_stack_read(reg.frameno, min_off, max_off);
        if (!tnum_is_const(reg.var_off)) {
            // Any slot in the range may be touched: writes make them all unknown data.
            for (int64_t at = min_off; at < max_off; ++at) {
                const int64_t slot = -at - 1;
                StackSlot& s = frame.stack[static_cast<size_t>(slot / 8)];
                if (write) {
                    if (s.slot_type[7] == SlotType::spill) s.spilled_ptr = RegState{};
                    for (auto& t : s.slot_type)
                        if (t == SlotType::spill) t = SlotType::misc;
                    s.slot_type[static_cast<size_t>(slot % 8)] = SlotType::misc;
                } else if (!opts_.privileged &&
                           s.slot_type[static_cast<size_t>(slot % 8)] == SlotType::invalid) {
                    return reject(
                        -EACCES_,
                        "invalid variable-offset read from stack R%u var_off=%s off=%d size=%d",
                        regno, tnum_str(reg.var_off).c_str(), off, size);
                }
            }
            if (!write && value_regno >= 0) mark_unknown(regs[value_regno]);
            break;
        }
        const int at = static_cast<int>(min_off);
        // For precision tracking: the slot this instruction read or wrote.
        HistEntry& hist = cur_.history.back();
        hist.stack_frame = static_cast<int8_t>(reg.frameno);
        hist.spi = static_cast<uint8_t>((-at - 1) / 8);
        if (write)
            mark_stack_written(reg.frameno, at, size);
        else
            mark_stack_read(reg.frameno, at, at + size);
        if (write) {
            if ((err = check_stack_write(frame, at, size, value_regno, insn_idx))) return err;
        } else if ((err = check_stack_read(frame, at, size, value_regno))) {
            return err;
        }
        break;
    }
    case RegType::ptr_to_packet:
    case RegType::ptr_to_packet_meta:
        if (write && !packet_writable()) return reject(-EACCES_, "cannot write into packet");
        if (leaks) return reject(-EACCES_, "R%d leaks addr into packet", value_regno);
        if ((err = check_packet_access(regno, off, size))) return err;
        if (!write && value_regno >= 0) mark_unknown(regs[value_regno]);
        break;
    default:
        if (!is_sk_pointer(reg.type))
            return reject(-EACCES_, "R%u invalid mem access '%s'", regno,
                          reg_type_str(reg).c_str());
        if (write)
            return reject(-EACCES_, "R%u cannot write into %s", regno, reg_type_str(reg).c_str());
        if (reg.smin < 0)
            return reject(-EACCES_,
                          "R%u min value is negative, either use unsigned index or do a if (index "
                          ">=0) check.",
                          regno);
        if (!sock_access_ok(reg.type, off, size))
            return reject(-EACCES_, "R%u invalid %s access off=%d size=%d", regno,
                          reg_type_str(reg).c_str(), off, size);
        if (value_regno >= 0) mark_unknown(regs[value_regno]);
        break;
    }

    if (size < 8 && value_regno >= 0 && !write && regs[value_regno].type == RegType::scalar) {
        if (sign_ext)
            coerce_reg_to_size_sx(regs[value_regno], size);
        else
            coerce_reg_to_size(regs[value_regno], size);
    }
    return 0;
}

int Env::check_ptr_off_reg(const RegState& reg, uint32_t regno) {
    const std::string type = reg_type_str(reg);
    if (reg.off < 0)
        return reject(-EACCES_, "negative offset %s ptr R%u off=%d disallowed", type.c_str(), regno,
                      reg.off);
    if (reg.off)
        return reject(-EACCES_, "dereference of modified %s ptr R%u off=%d disallowed",
                      type.c_str(), regno, reg.off);
    if (!tnum_is_const(reg.var_off) || reg.var_off.value)
        return reject(-EACCES_, "variable %s access var_off=%s disallowed", type.c_str(),
                      tnum_str(reg.var_off).c_str());
    return 0;
}

int Env::check_mem_access_bounds(uint32_t regno, int64_t off, int size, uint32_t mem_size,
                                 bool zero_size_allowed) {
    const bool size_ok = size > 0 || (size == 0 && zero_size_allowed);
    if (off >= 0 && size_ok && static_cast<uint64_t>(off) + static_cast<uint64_t>(size) <= mem_size)
        return 0;
    const RegState& reg = cur_.cur().regs[regno];
    switch (reg.type) {
    case RegType::ptr_to_map_key:
        verbose("invalid access to map key, key_size=%u off=%lld size=%d\n", mem_size,
                static_cast<long long>(off), size);
        break;
    case RegType::ptr_to_map_value:
        verbose("invalid access to map value, value_size=%u off=%lld size=%d\n", mem_size,
                static_cast<long long>(off), size);
        break;
    case RegType::ptr_to_packet:
    case RegType::ptr_to_packet_meta:
    case RegType::ptr_to_packet_end:
        verbose("invalid access to packet, off=%lld size=%d, R%u(id=%u,off=%lld,r=%u)\n",
                static_cast<long long>(off), size, regno, reg.id, static_cast<long long>(off),
                mem_size);
        break;
    default:
        verbose("invalid access to memory, mem_size=%u off=%lld size=%d\n", mem_size,
                static_cast<long long>(off), size);
    }
    return -EACCES_;
}

int Env::check_mem_region_access(uint32_t regno, int off, int size, uint32_t mem_size,
                                 bool zero_size_allowed) {
    const RegState& reg = cur_.cur().regs[regno];
    if (reg.smin < 0 &&
        (reg.smin == std::numeric_limits<int64_t>::min() ||
         off + reg.smin != static_cast<int32_t>(off + reg.smin) || reg.smin + off < 0))
        return reject(
            -EACCES_,
            "R%u min value is negative, either use unsigned index or do a if (index >=0) check.",
            regno);
    if (int err =
            check_mem_access_bounds(regno, reg.smin + off, size, mem_size, zero_size_allowed)) {
        reject(err, "R%u min value is outside of the allowed memory range", regno);
        return err;
    }
    if (reg.umax >= static_cast<uint64_t>(max_var_off))
        return reject(-EACCES_,
                      "R%u unbounded memory access, make sure to bounds check any such access",
                      regno);
    if (int err = check_mem_access_bounds(regno, static_cast<int64_t>(reg.umax) + off, size,
                                          mem_size, zero_size_allowed)) {
        reject(err, "R%u max value is outside of the allowed memory range", regno);
        return err;
    }
    return 0;
}

int Env::check_packet_access(uint32_t regno, int off, int size, bool zero_size_allowed) {
    const RegState& reg = cur_.cur().regs[regno];
    if (reg.smin < 0)
        return reject(
            -EACCES_,
            "R%u min value is negative, either use unsigned index or do a if (index >=0) check.",
            regno);
    const int err =
        reg.range < 0 ? -EINVAL_
                      : check_mem_access_bounds(regno, off, size, static_cast<uint32_t>(reg.range),
                                                zero_size_allowed);
    if (err) {
        reject(err, "R%u offset is outside of the packet", regno);
        return err;
    }
    return 0;
}

int Env::check_stack_write(FuncState& frame, int off, int size, int value_regno,
                           uint32_t insn_idx) {
    const int slot = -off - 1;
    StackSlot& s = frame.stack[static_cast<size_t>(slot / 8)];
    const Insn& insn = insns_[insn_idx];
    const bool is_spill = s.slot_type[7] == SlotType::spill;
    if (!opts_.privileged && is_spill && s.spilled_ptr.type != RegType::scalar && size != 8)
        return reject(-EACCES_, "attempt to corrupt spilled pointer on stack");
    const RegState* reg = value_regno >= 0 ? &cur_.cur().regs[value_regno] : nullptr;

    auto save = [&](const RegState& r) {
        ++cur_.jmp_history_cnt; // the kernel records spills in its jump history
        s.spilled_ptr = r;
        for (int i = 8; i > 8 - size; --i)
            s.slot_type[static_cast<size_t>(i - 1)] = SlotType::spill;
        for (int i = 8 - size; i > 0; --i) {
            SlotType& t = s.slot_type[static_cast<size_t>(i - 1)];
            if (t == SlotType::zero || (opts_.privileged && t == SlotType::invalid)) continue;
            t = SlotType::misc;
        }
    };
    if (reg && off % 8 == 0 && reg->type == RegType::scalar && opts_.privileged) {
        save(*reg);
    } else if (!reg && off % 8 == 0 && bpf_class(insn.opcode) == BPF_ST && opts_.privileged) {
        RegState imm;
        imm.type = RegType::scalar;
        mark_known(imm, static_cast<uint64_t>(static_cast<int64_t>(insn.imm)));
        save(imm);
    } else if (reg && reg->is_pointer()) {
        if (size != 8) return reject(-EACCES_, "invalid size of register spill");
        if (&frame != &cur_.cur() && reg->type == RegType::ptr_to_stack)
            return reject(-EINVAL_,
                          "cannot spill pointers to stack into stack frame of the caller");
        save(*reg);
    } else {
        SlotType type = SlotType::misc;
        s.spilled_ptr = RegState{};
        for (auto& t : s.slot_type)
            if (t == SlotType::spill) t = SlotType::misc;
        if ((reg && register_is_null(*reg)) ||
            (!reg && bpf_class(insn.opcode) == BPF_ST && insn.imm == 0)) {
            // A zero slot is no spill: the trace back cannot go through it.
            if (reg) mark_chain_precision(static_cast<uint32_t>(value_regno));
            type = SlotType::zero;
        }
        for (int i = 0; i < size; ++i)
            s.slot_type[static_cast<size_t>((slot - i) % 8)] = type;
    }
    return 0;
}

int Env::check_stack_read(FuncState& frame, int off, int size, int dst_regno) {
    const int slot = -off - 1;
    StackSlot& s = frame.stack[static_cast<size_t>(slot / 8)];
    auto& regs = cur_.cur().regs;
    auto readable = [&](SlotType t) {
        return t == SlotType::misc || t == SlotType::zero ||
               (t == SlotType::invalid && opts_.privileged);
    };
    if (s.slot_type[7] == SlotType::spill) {
        int spill_size = 1;
        for (int i = 7; i > 0 && s.slot_type[static_cast<size_t>(i - 1)] == SlotType::spill; --i)
            ++spill_size;
        const RegState& spilled = s.spilled_ptr;
        if (size != 8 || spill_size != 8) {
            if (spilled.type != RegType::scalar)
                return reject(-EACCES_, "invalid size of register fill");
            if (dst_regno < 0) return 0;
            // A narrow fill of the spilled scalar's low bytes keeps what is known of it.
            if (size <= spill_size && off % 8 == 0) {
                ++cur_.jmp_history_cnt; // a fill: recorded like a spill
                regs[dst_regno] = spilled;
                if (std::bit_width(spilled.umax) > static_cast<uint64_t>(size) * 8)
                    regs[dst_regno].id = 0;
                return 0;
            }
            int spill_cnt = 0, zero_cnt = 0;
            for (int i = 0; i < size; ++i) {
                const SlotType t = s.slot_type[static_cast<size_t>((slot - i) % 8)];
                if (t == SlotType::spill) {
                    ++spill_cnt;
                    continue;
                }
                if (t == SlotType::zero)
                    ++zero_cnt;
                else if (!readable(t))
                    return reject(-EACCES_, "invalid read from stack off %d+%d size %d", off, i,
                                  size);
            }
            mark_unknown(regs[dst_regno]);
            if ((spill_cnt == size && tnum_equals_const(spilled.var_off, 0)) || zero_cnt == size)
                mark_known_zero(regs[dst_regno]);
            return 0;
        }
        if (dst_regno >= 0) {
            regs[dst_regno] = spilled;
        } else if (!opts_.privileged && spilled.is_pointer()) {
            return reject(-EACCES_, "leaking pointer from stack off %d", off);
        }
        ++cur_.jmp_history_cnt;
        return 0;
    }
    int zero_cnt = 0;
    for (int i = 0; i < size; ++i) {
        const SlotType t = s.slot_type[static_cast<size_t>((slot - i) % 8)];
        if (t == SlotType::zero)
            ++zero_cnt;
        else if (!readable(t))
            return reject(-EACCES_, "invalid read from stack off %d+%d size %d", off, i, size);
    }
    if (dst_regno >= 0) {
        mark_unknown(regs[dst_regno]);
        if (zero_cnt == size) mark_known_zero(regs[dst_regno]);
    }
    return 0;
}

int Env::check_atomic(const Insn& insn, uint32_t insn_idx) {
    switch (insn.imm) {
    case BPF_ADD:
    case BPF_ADD | BPF_FETCH:
    case BPF_AND:
    case BPF_AND | BPF_FETCH:
    case BPF_OR:
    case BPF_OR | BPF_FETCH:
    case BPF_XOR:
    case BPF_XOR | BPF_FETCH:
    case BPF_XCHG:
    case BPF_CMPXCHG: break;
    default: return reject(-EINVAL_, "BPF_ATOMIC uses invalid atomic opcode %02x", insn.imm & 0xff);
    }
    if (bpf_size(insn.opcode) != BPF_W && bpf_size(insn.opcode) != BPF_DW)
        return reject(-EINVAL_, "invalid atomic operand size");
    if (int err = check_reg_arg(insn.src, RegArg::src_op)) return err;
    if (int err = check_reg_arg(insn.dst, RegArg::src_op)) return err;
    auto& regs = cur_.cur().regs;
    if (insn.imm == BPF_CMPXCHG) {
        if (int err = check_reg_arg(BPF_REG_0, RegArg::src_op)) return err;
        if (!opts_.privileged && regs[0].is_pointer())
            return reject(-EACCES_, "R0 leaks addr into mem");
    }
    if (!opts_.privileged && regs[insn.src].is_pointer())
        return reject(-EACCES_, "R%u leaks addr into mem", insn.src);
    const RegType t = regs[insn.dst].type;
    if (t == RegType::ptr_to_ctx || t == RegType::ptr_to_packet ||
        t == RegType::ptr_to_packet_meta || t == RegType::ptr_to_flow_keys || is_sk_pointer(t))
        return reject(-EACCES_, "BPF_ATOMIC stores into R%u %s is not allowed", insn.dst,
                      reg_type_str(regs[insn.dst]).c_str());
    int load_reg = -1;
    if (insn.imm & BPF_FETCH) {
        load_reg = insn.imm == BPF_CMPXCHG ? BPF_REG_0 : insn.src;
        if (int err = check_reg_arg(static_cast<uint32_t>(load_reg), RegArg::dst_op)) return err;
    }
    const int size = size_bytes(insn.opcode);
    if (int err = check_mem_access_once(insn_idx, insn.dst, insn.off, size, false, -1, false, true))
        return err;
    if (load_reg >= 0)
        if (int err = check_mem_access_once(insn_idx, insn.dst, insn.off, size, false, load_reg,
                                            false, true))
            return err;
    return check_mem_access_once(insn_idx, insn.dst, insn.off, size, true, -1, false, true);
}

int Env::check_ld_abs(const Insn& insn) {
    const ProgType pt = opts_.prog_type;
    if (pt != ProgType::socket_filter && pt != ProgType::sched_cls && pt != ProgType::sched_act)
        return reject(-EINVAL_, "BPF_LD_[ABS|IND] instructions not allowed for this program type");
    const bool abs = bpf_mode(insn.opcode) == BPF_ABS;
    if (insn.dst != 0 || insn.off != 0 || bpf_size(insn.opcode) == BPF_DW || (abs && insn.src != 0))
        return reject(-EINVAL_, "BPF_LD_[ABS|IND] uses reserved fields");
    if (int err = check_reg_arg(6, RegArg::src_op)) return err;
    if (int err = check_resource_leak(true, "BPF_LD_[ABS|IND]")) return err;
    auto& regs = cur_.cur().regs;
    if (regs[6].type != RegType::ptr_to_ctx)
        return reject(-EINVAL_, "at the time of BPF_LD_ABS|IND R6 != pointer to skb");
    if (!abs)
        if (int err = check_reg_arg(insn.src, RegArg::src_op)) return err;
    if (int err = check_ptr_off_reg(regs[6], 6)) return err;
    for (int r = 1; r <= 5; ++r)
        mark_not_init(regs[r]);
    mark_unknown(regs[0]);
    return 0;
}

} // namespace ebpf::verifier
