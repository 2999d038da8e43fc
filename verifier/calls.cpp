// Calls: helper calls checked against their prototypes (check_helper_call, check_func_arg) and
// bpf-to-bpf calls into a new frame (check_func_call).
#include "helpers/kernel_ids.hpp"
#include "helpers/proto.hpp"
#include "helpers/registry.hpp"
#include "verifier/env.hpp"
#include "verifier/map_func.hpp"
#include "vm/progtypes/prog_type_info.hpp"

#include <algorithm>
#include <cstring>

namespace ebpf::verifier {
namespace {

constexpr uint64_t max_var_siz = 1ULL << 29;

bool register_is_null(const RegState& r) {
    return r.type == RegType::scalar && tnum_equals_const(r.var_off, 0);
}

struct Compatible {
    std::vector<std::pair<RegType, uint32_t>> types;
};

const Compatible& compatible_types(ArgType arg) {
    static const Compatible mem{{{RegType::ptr_to_stack, 0},
                                 {RegType::ptr_to_packet, 0},
                                 {RegType::ptr_to_packet_meta, 0},
                                 {RegType::ptr_to_map_key, 0},
                                 {RegType::ptr_to_map_value, 0},
                                 {RegType::ptr_to_mem, 0},
                                 {RegType::ptr_to_mem, MEM_RINGBUF},
                                 {RegType::ptr_to_buf, 0},
                                 {RegType::ptr_to_btf_id, PTR_TRUSTED}}};
    static const Compatible key_value{{{RegType::ptr_to_stack, 0},
                                       {RegType::ptr_to_packet, 0},
                                       {RegType::ptr_to_packet_meta, 0},
                                       {RegType::ptr_to_map_key, 0},
                                       {RegType::ptr_to_map_value, 0}}};
    static const Compatible scalar{{{RegType::scalar, 0}}};
    static const Compatible map_ptr{{{RegType::const_ptr_to_map, 0}}};
    static const Compatible ctx{{{RegType::ptr_to_ctx, 0}}};
    static const Compatible func{{{RegType::ptr_to_func, 0}}};
    static const Compatible stack{{{RegType::ptr_to_stack, 0}}};
    static const Compatible ringbuf{{{RegType::ptr_to_mem, MEM_RINGBUF}}};
    static const Compatible map_value{{{RegType::ptr_to_map_value, 0}}};
    static const Compatible sock{{{RegType::ptr_to_sock_common, 0},
                                  {RegType::ptr_to_socket, 0},
                                  {RegType::ptr_to_tcp_sock, 0},
                                  {RegType::ptr_to_xdp_sock, 0}}};
    static const Compatible btf_id_sock{{{RegType::ptr_to_sock_common, 0},
                                         {RegType::ptr_to_socket, 0},
                                         {RegType::ptr_to_tcp_sock, 0},
                                         {RegType::ptr_to_xdp_sock, 0},
                                         {RegType::ptr_to_btf_id, 0},
                                         {RegType::ptr_to_btf_id, PTR_TRUSTED}}};
    switch (arg) {
    case ArgType::ptr_to_map_key:
    case ArgType::ptr_to_map_value:
    case ArgType::ptr_to_map_value_uninit: return key_value;
    case ArgType::ptr_to_mem:
    case ArgType::ptr_to_mem_or_null:
    case ArgType::ptr_to_uninit_mem:
    case ArgType::ptr_to_long:
    case ArgType::ptr_to_aligned_u32: return mem;
    case ArgType::const_size:
    case ArgType::const_size_or_zero:
    case ArgType::const_alloc_size_or_zero:
    case ArgType::anything:
    case ArgType::dontcare: return scalar;
    case ArgType::const_map_ptr: return map_ptr;
    case ArgType::ptr_to_ctx: return ctx;
    case ArgType::ptr_to_func: return func;
    case ArgType::ptr_to_stack_or_null: return stack;
    case ArgType::ptr_to_ringbuf_mem: return ringbuf;
    case ArgType::ptr_to_spin_lock:
    case ArgType::ptr_to_const_str:
    case ArgType::ptr_to_timer: return map_value;
    case ArgType::ptr_to_sock_common: return sock;
    case ArgType::ptr_to_btf_id_sock_common: return btf_id_sock;
    }
    return scalar;
}

// Helpers that may move or reallocate the packet (bpf_helper_changes_pkt_data): every packet
// pointer, in every frame, is invalid after them.
bool changes_pkt_data(int32_t id) {
    using H = KernelHelper;
    switch (static_cast<H>(id)) {
    case H::clone_redirect:
    case H::l3_csum_replace:
    case H::l4_csum_replace:
    case H::lwt_push_encap:
    case H::lwt_seg6_action:
    case H::lwt_seg6_adjust_srh:
    case H::lwt_seg6_store_bytes:
    case H::msg_pop_data:
    case H::msg_pull_data:
    case H::msg_push_data:
    case H::skb_adjust_room:
    case H::skb_change_head:
    case H::skb_change_proto:
    case H::skb_change_tail:
    case H::skb_pull_data:
    case H::skb_store_bytes:
    case H::skb_vlan_pop:
    case H::skb_vlan_push:
    case H::store_hdr_opt:
    case H::xdp_adjust_head:
    case H::xdp_adjust_meta:
    case H::xdp_adjust_tail: return true;
    default: return false;
    }
}

bool arg_may_be_null(ArgType a) {
    return a == ArgType::ptr_to_mem_or_null || a == ArgType::ptr_to_stack_or_null;
}

// do_refine_retval_range: helpers that fill a buffer return at most its size, or an error.
constexpr int64_t max_errno = 4095; // MAX_ERRNO

void refine_retval_range(int32_t func_id, RegState& r0, uint64_t msize_max, uint32_t ncpus) {
    using H = KernelHelper;
    switch (static_cast<H>(func_id)) {
    case H::get_stack:
    case H::get_task_stack:
    case H::probe_read_str:
    case H::probe_read_kernel_str:
    case H::probe_read_user_str:
        r0.smax = static_cast<int64_t>(msize_max);
        r0.s32_max = static_cast<int32_t>(msize_max);
        r0.smin = -max_errno;
        r0.s32_min = -max_errno;
        bounds_sync(r0);
        break;
    case H::get_smp_processor_id:
        if (!ncpus) break;
        r0.umin = r0.u32_min = 0;
        r0.smin = r0.s32_min = 0;
        r0.umax = r0.u32_max = ncpus - 1;
        r0.smax = r0.s32_max = static_cast<int32_t>(ncpus - 1);
        bounds_sync(r0);
        break;
    default: break;
    }
}

} // namespace

int Env::check_helper_mem_access(uint32_t regno, int64_t access_size, bool write,
                                 bool zero_size_allowed) {
    auto& regs = cur_.cur().regs;
    RegState& reg = regs[regno];
    const int size = static_cast<int>(access_size);
    switch (reg.type) {
    case RegType::ptr_to_packet:
    case RegType::ptr_to_packet_meta:
        return check_packet_access(regno, reg.off, size, zero_size_allowed);
    case RegType::ptr_to_map_key:
        if (write)
            return reject(-EACCES_, "R%u cannot write into %s", regno, reg_type_str(reg).c_str());
        return check_mem_region_access(regno, reg.off, size, reg_map_def(reg).key_size);
    case RegType::ptr_to_map_value: {
        const MapDef& def = reg_map_def(reg);
        if (write && (def.map_flags & BPF_F_RDONLY_PROG || reg.flags & MEM_RDONLY))
            return reject(-EACCES_, "write into map forbidden, value_size=%u off=%d size=%d",
                          def.value_size, reg.off, size);
        if (!write && def.map_flags & BPF_F_WRONLY_PROG)
            return reject(-EACCES_, "read from map forbidden, value_size=%u off=%d size=%d",
                          def.value_size, reg.off, size);
        return check_mem_region_access(regno, reg.off, size, def.value_size, zero_size_allowed);
    }
    case RegType::ptr_to_mem:
        if (write && (reg.flags & MEM_RDONLY))
            return reject(-EACCES_, "R%u cannot write into %s", regno, reg_type_str(reg).c_str());
        return check_mem_region_access(regno, reg.off, size, reg.mem_size, zero_size_allowed);
    case RegType::ptr_to_stack:
        return check_stack_range(regno, reg.off, size, zero_size_allowed, write);
    default:
        if (zero_size_allowed && access_size == 0 && register_is_null(reg)) return 0;
        return reject(-EACCES_, "R%u type=%s expected=fp", regno, reg_type_str(reg).c_str());
    }
}

int Env::check_stack_range(uint32_t regno, int off, int access_size, bool zero_size_allowed,
                           bool write) {
    RegState& reg = cur_.cur().regs[regno];
    FuncState& frame = *cur_.frames[reg.frameno];
    if (access_size == 0 && zero_size_allowed) return 0;
    if (access_size == 0) return reject(-EACCES_, "invalid zero-sized read");
    int64_t min_off, max_off;
    if (tnum_is_const(reg.var_off)) {
        min_off = static_cast<int64_t>(reg.var_off.value) + off;
        max_off = min_off + access_size;
    } else {
        if (reg.smax >= (1LL << 29) || reg.smin <= -(1LL << 29))
            return reject(-EACCES_,
                          "invalid unbounded variable-offset indirect access to stack R%u", regno);
        min_off = reg.smin + off;
        max_off = reg.smax + off + access_size;
    }
    if (min_off < -MAX_BPF_STACK || max_off > 0 || access_size <= 0)
        return reject(-EACCES_, "invalid%s stack R%u off=%d size=%d",
                      write ? " write to" : " read from", regno, off, access_size);
    frame.grow_stack(static_cast<size_t>(-min_off));
    note_stack_depth(frame, static_cast<uint32_t>(-min_off));
    if (!write) mark_stack_read(reg.frameno, min_off, max_off);
    for (int64_t at = min_off; at < max_off; ++at) {
        const int64_t slot = -at - 1;
        StackSlot& s = frame.stack[static_cast<size_t>(slot / 8)];
        SlotType& t = s.slot_type[static_cast<size_t>(slot % 8)];
        if (write) {
            // The helper writes here: whatever was spilled is gone.
            if (s.slot_type[7] == SlotType::spill) {
                mark_unknown(s.spilled_ptr);
                for (auto& st : s.slot_type)
                    if (st == SlotType::spill) st = SlotType::misc;
            }
            t = SlotType::misc;
            continue;
        }
        if (t == SlotType::misc || t == SlotType::zero ||
            (t == SlotType::invalid && opts_.privileged))
            continue;
        if (s.slot_type[7] == SlotType::spill &&
            (s.spilled_ptr.type == RegType::scalar || opts_.privileged))
            continue;
        if (tnum_is_const(reg.var_off))
            return reject(-EACCES_, "invalid read from stack R%u off %lld+%lld size %d", regno,
                          static_cast<long long>(min_off), static_cast<long long>(at - min_off),
                          access_size);
        return reject(-EACCES_, "invalid read from stack R%u var_off (0x%llx; 0x%llx)+%lld size %d",
                      regno, static_cast<unsigned long long>(reg.var_off.value),
                      static_cast<unsigned long long>(reg.var_off.mask),
                      static_cast<long long>(at - min_off), access_size);
    }
    return 0;
}

// get_constant_map_key: the key of an array map lookup, where the stack holds it as a known
// constant (zeroed bytes, or a spilled constant of the key's size); -1 otherwise. The slot is
// then precise: the lookup's result depends on it.
int64_t Env::constant_map_key(const RegState& key, const MapDef& def) {
    if (!opts_.privileged || key.type != RegType::ptr_to_stack || !tnum_is_const(key.var_off) ||
        (def.type != MapType::array && def.type != MapType::percpu_array))
        return -1;
    const int64_t slot =
        -(static_cast<int64_t>(key.off) + static_cast<int64_t>(key.var_off.value)) - 1;
    if (slot < 0 || static_cast<size_t>(slot / 8) >= cur_.frames[key.frameno]->stack.size())
        return -1;
    const StackSlot& s = cur_.frames[key.frameno]->stack[static_cast<size_t>(slot / 8)];
    const auto run_of = [&](SlotType t) {
        uint32_t n = 0;
        for (int64_t i = slot % 8; i >= 0 && s.slot_type[static_cast<size_t>(i)] == t; --i)
            ++n;
        return n;
    };
    if (run_of(SlotType::zero) >= def.key_size) return 0;
    if (s.slot_type[7] != SlotType::spill || s.spilled_ptr.type != RegType::scalar ||
        run_of(SlotType::spill) != def.key_size || !tnum_is_const(s.spilled_ptr.var_off))
        return -1;
    mark_stack_slot_precision(key.frameno, static_cast<uint32_t>(slot / 8));
    return static_cast<int64_t>(s.spilled_ptr.var_off.value);
}

int Env::check_helper_call(const Insn& insn, uint32_t insn_idx) {
    const int32_t func_id = insn.imm;
    const std::string name = kernel_helper_name(func_id);
    const HelperProto* fn = kernel_helper_proto(func_id);
    const ProgTypeInfo* pt = prog_type_info(opts_.prog_type);
    if (func_id < 0 || func_id >= 212 || name.empty())
        return reject(-EINVAL_, "invalid func unknown#%d", func_id);
    if (!fn || !pt || !pt->helper_allowed(func_id))
        return reject(-EINVAL_, "program of this type cannot use helper %s#%d", name.c_str(),
                      func_id);

    auto& regs = cur_.cur().regs;
    const RegState* map_reg = nullptr; // the const_map_ptr argument
    RegState map_arg;
    uint32_t alloc_size = 0;
    uint64_t msize_max = 0;     // the largest size a size argument allows (msize_max_value)
    int64_t const_map_key = -1; // an array map's key known on the stack (const_map_key)
    uint32_t release_ref = 0;
    uint32_t arg_ref = 0; // the reference an argument holds, for casts
    int callback = -1;    // the callback's first instruction (bpf_loop, for_each_map_elem)
    for (uint32_t i = 0; i < 5; ++i) {
        const ArgType arg = fn->args[i];
        if (arg == ArgType::dontcare) break;
        const uint32_t regno = i + 1;
        if (int err = check_reg_arg(regno, RegArg::src_op)) return err;
        RegState& reg = regs[regno];
        if (arg == ArgType::anything) {
            if (!opts_.privileged && reg.is_pointer())
                return reject(-EACCES_, "R%u leaks addr into helper function", regno);
            continue;
        }
        if (reg.is_packet() && !fn->pkt_access)
            return reject(-EACCES_, "helper access to the packet is not allowed");
        if (!(register_is_null(reg) && arg_may_be_null(arg))) {
            const Compatible& c = compatible_types(arg);
            bool ok = false;
            for (auto [t, f] : c.types)
                if (reg.type == t && reg.flags == f) ok = true;
            if (!ok) {
                std::string expected;
                for (size_t j = 0; j < c.types.size(); ++j) {
                    if (j) expected += ", ";
                    expected += reg_type_str(c.types[j].first, c.types[j].second);
                }
                return reject(-EACCES_, "R%u type=%s expected=%s", regno, reg_type_str(reg).c_str(),
                              expected.c_str());
            }
            if (reg.type == RegType::ptr_to_ctx)
                if (int err = check_ptr_off_reg(reg, regno)) return err;
        }
        if (reg.ref_obj_id) arg_ref = reg.ref_obj_id;
        const bool releases =
            fn->ref == RefKind::release &&
            (arg == ArgType::ptr_to_ringbuf_mem || arg == ArgType::ptr_to_btf_id_sock_common);
        if (releases) {
            if (!reg.ref_obj_id && !register_is_null(reg))
                return reject(-EINVAL_, "R%u must be referenced when passed to release function",
                              regno);
            if (reg.off)
                return reject(
                    -EINVAL_,
                    "R%u must have zero offset when passed to release func or trusted arg to kfunc",
                    regno);
            release_ref = reg.ref_obj_id;
        }
        switch (arg) {
        case ArgType::const_map_ptr:
            map_arg = reg;
            map_reg = &map_arg;
            break;
        case ArgType::ptr_to_map_key:
            if (!map_reg) return reject(-EACCES_, "invalid map_ptr to access map->key");
            if (int err =
                    check_helper_mem_access(regno, reg_map_def(*map_reg).key_size, false, false))
                return err;
            const_map_key = constant_map_key(reg, reg_map_def(*map_reg));
            break;
        case ArgType::ptr_to_map_value:
        case ArgType::ptr_to_map_value_uninit:
            if (!map_reg) return reject(-EACCES_, "invalid map_ptr to access map->value");
            if (int err = check_helper_mem_access(regno, reg_map_def(*map_reg).value_size,
                                                  arg == ArgType::ptr_to_map_value_uninit, false))
                return err;
            break;
        case ArgType::const_size:
        case ArgType::const_size_or_zero: {
            const bool zero_ok = arg == ArgType::const_size_or_zero;
            const bool write = fn->args[i - 1] == ArgType::ptr_to_uninit_mem;
            if (reg.smin < 0)
                return reject(-EACCES_,
                              "R%u min value is negative, either use unsigned or 'var &= const'",
                              regno);
            if (reg.umin == 0 && !zero_ok)
                return reject(-EACCES_, "R%u invalid zero-sized read: u64=[%lld,%lld]", regno,
                              static_cast<long long>(reg.umin), static_cast<long long>(reg.umax));
            if (reg.umax >= max_var_siz)
                return reject(
                    -EACCES_,
                    "R%u unbounded memory access, use 'var &= const' or 'if (var < const)'", regno);
            if (int err = check_helper_mem_access(regno - 1, static_cast<int64_t>(reg.umax), write,
                                                  zero_ok))
                return err;
            mark_chain_precision(regno);
            msize_max = reg.umax;
            break;
        }
        case ArgType::const_alloc_size_or_zero:
            if (!tnum_is_const(reg.var_off))
                return reject(-EACCES_, "R%u is not a known constant'", regno);
            alloc_size = static_cast<uint32_t>(reg.var_off.value);
            mark_chain_precision(regno);
            break;
        case ArgType::ptr_to_aligned_u32: // ARG_PTR_TO_FIXED_SIZE_MEM | MEM_WRITE | MEM_ALIGNED
            if (int err = check_helper_mem_access(regno, 4, true, false)) return err;
            if (int err = check_ptr_alignment(reg, 0, 4, true)) return err;
            break;
        case ArgType::ptr_to_ringbuf_mem:
            if (!reg.ref_obj_id)
                return reject(-EINVAL_, "R%u must be referenced when passed to release function",
                              regno);
            if (reg.off)
                return reject(
                    -EINVAL_,
                    "R%u must have zero offset when passed to release func or trusted arg to kfunc",
                    regno);
            release_ref = reg.ref_obj_id;
            break;
        case ArgType::ptr_to_func: callback = static_cast<int>(reg.subprog); break;
        case ArgType::ptr_to_spin_lock:
            if (int err = process_spin_lock(
                    regno, func_id == static_cast<int32_t>(KernelHelper::spin_lock)))
                return err;
            break;
        case ArgType::ptr_to_const_str:
            if (int err = check_reg_const_str(regno)) return err;
            break;
        case ArgType::ptr_to_timer:
            return reject(-EINVAL_, "%s#%d is not verified yet", name.c_str(), func_id);
        default: break;
        }
    }
    if (map_reg) {
        const MapDef& def = reg_map_def(*map_reg);
        if (def.map_flags & BPF_F_RDONLY_PROG && func_writes_map(func_id))
            return reject(-EACCES_, "write into map forbidden");
        if (!map_func_compatible(def.type, func_id))
            return reject(-EINVAL_, "cannot pass map_type %u into func %s#%d",
                          static_cast<uint32_t>(def.type), name.c_str(), func_id);
    }
    if (func_id == static_cast<int32_t>(KernelHelper::tail_call)) {
        // record_func_key: a constant index in the array is precise (the kernel's JIT may turn
        // the call into a direct jump to that slot).
        const RegState& index = regs[3];
        if (map_reg && index.is_const() && index.var_off.value < reg_map_def(*map_reg).max_entries)
            mark_chain_precision(3);
        if (int err = check_resource_leak(true, "tail_call")) return err;
    }
    if (callback >= 0)
        if (int err =
                push_callback_call(func_id, insn_idx, static_cast<uint32_t>(callback), map_reg))
            return err;
    if (release_ref) {
        auto& refs = cur_.refs;
        refs.erase(std::remove_if(refs.begin(), refs.end(),
                                  [&](const RefState& r) { return r.id == release_ref; }),
                   refs.end());
        for (auto& frame : cur_.frames) {
            for (auto& r : frame->regs)
                if (r.ref_obj_id == release_ref) mark_unknown(r);
            for (auto& s : frame->stack)
                if (s.slot_type[7] == SlotType::spill && s.spilled_ptr.ref_obj_id == release_ref)
                    mark_unknown(s.spilled_ptr);
        }
    }

    // check_get_func_ip: of the types whose helper set has it, only kprobe knows its function.
    if (func_id == static_cast<int32_t>(KernelHelper::get_func_ip) &&
        opts_.prog_type != ProgType::kprobe) {
        constexpr int ENOTSUPP_ = 524;
        return reject(-ENOTSUPP_, "func %s#%d not supported for program type %u", name.c_str(),
                      func_id, static_cast<uint32_t>(opts_.prog_type));
    }

    for (int r = 1; r <= 5; ++r)
        mark_not_init(regs[r]);
    if (changes_pkt_data(func_id)) {
        auto invalidate = [](RegState& r) {
            if (r.is_packet() || r.type == RegType::ptr_to_packet_end) mark_unknown(r);
        };
        for (auto& frame : cur_.frames) {
            for (auto& r : frame->regs)
                invalidate(r);
            for (auto& slot : frame->stack)
                if (slot.slot_type[7] == SlotType::spill) invalidate(slot.spilled_ptr);
        }
    }
    RegState& r0 = regs[0];
    switch (fn->ret) {
    case RetType::integer:
        mark_unknown(r0);
        refine_retval_range(func_id, r0, msize_max, opts_.ncpus);
        break;
    case RetType::void_: mark_not_init(r0); break;
    case RetType::ptr_to_map_value_or_null:
        mark_unknown(r0);
        mark_known_zero(r0);
        r0.type = RegType::ptr_to_map_value;
        r0.map = map_reg ? map_reg->map : nullptr;
        r0.inner_map = map_reg && map_reg->inner_map;
        // A lookup in an array at a constant key within it cannot fail.
        if (func_id == static_cast<int32_t>(KernelHelper::map_lookup_elem) && const_map_key >= 0 &&
            const_map_key < reg_map_def(*map_reg).max_entries)
            break;
        r0.flags = PTR_MAYBE_NULL;
        r0.id = ++id_gen_;
        break;
    case RetType::ptr_to_ringbuf_mem_or_null:
        mark_unknown(r0);
        mark_known_zero(r0);
        r0.type = RegType::ptr_to_mem;
        r0.flags = PTR_MAYBE_NULL | MEM_RINGBUF;
        r0.mem_size = alloc_size;
        r0.id = ++id_gen_;
        break;
    case RetType::ptr_to_socket_or_null:
    case RetType::ptr_to_sock_common_or_null:
    case RetType::ptr_to_tcp_sock_or_null:
    case RetType::ptr_to_btf_id_or_null:
        mark_unknown(r0);
        mark_known_zero(r0);
        r0.type = fn->ret == RetType::ptr_to_socket_or_null        ? RegType::ptr_to_socket
                  : fn->ret == RetType::ptr_to_sock_common_or_null ? RegType::ptr_to_sock_common
                  : fn->ret == RetType::ptr_to_tcp_sock_or_null    ? RegType::ptr_to_tcp_sock
                                                                   : RegType::ptr_to_btf_id;
        r0.flags = PTR_MAYBE_NULL;
        r0.id = ++id_gen_;
        break;
    }
    if (fn->ref == RefKind::acquire) {
        // The new reference's id doubles as the null-check id.
        r0.id = r0.ref_obj_id = ++id_gen_;
        cur_.refs.push_back(RefState{r0.id, static_cast<int>(insn_idx)});
    } else if (fn->ref == RefKind::cast) {
        r0.ref_obj_id = arg_ref;
    }
    return 0;
}

int Env::process_spin_lock(uint32_t regno, bool is_lock) {
    const RegState& reg = cur_.cur().regs[regno];
    if (!tnum_is_const(reg.var_off))
        return reject(
            -EINVAL_,
            "R%u doesn't have constant offset. bpf_spin_lock has to be at the constant offset",
            regno);
    const MapDef& def = reg_map_def(reg);
    if (def.spin_lock_off < 0)
        return reject(-EINVAL_, "map '%s' has no valid bpf_spin_lock", def.name.c_str());
    const int64_t at = static_cast<int64_t>(reg.var_off.value) + reg.off;
    if (at != def.spin_lock_off)
        return reject(-EINVAL_, "off %lld doesn't point to 'struct bpf_spin_lock' that is at %d",
                      static_cast<long long>(at), def.spin_lock_off);
    if (is_lock) {
        if (cur_.active_spin_lock_map)
            return reject(-EINVAL_, "Locking two bpf_spin_locks are not allowed");
        cur_.active_spin_lock_map = reg.map;
        cur_.active_spin_lock_id = reg.id;
        return 0;
    }
    if (!cur_.active_spin_lock_map)
        return reject(-EINVAL_, "bpf_spin_unlock without taking a lock");
    if (cur_.active_spin_lock_map != reg.map || cur_.active_spin_lock_id != reg.id)
        return reject(-EINVAL_, "bpf_spin_unlock of different lock");
    cur_.active_spin_lock_map = nullptr;
    cur_.active_spin_lock_id = 0;
    return 0;
}

int Env::check_reg_const_str(uint32_t regno) {
    // A format string: NUL-terminated, in a map programs cannot change (frozen read-only data).
    const RegState& reg = cur_.cur().regs[regno];
    if (reg.type != RegType::ptr_to_map_value || reg.inner_map) return -EINVAL_;
    const MapDef& def = reg_map_def(reg);
    if (!(def.map_flags & BPF_F_RDONLY_PROG))
        return reject(-EACCES_, "R%u does not point to a readonly map'", regno);
    if (!tnum_is_const(reg.var_off))
        return reject(-EACCES_, "R%u is not a constant address'", regno);
    uint8_t* base = const_cast<Map*>(reg.map)->direct_value(0);
    if (!base) return reject(-EACCES_, "no direct value access support for this map type");
    if (int err = check_mem_region_access(
            regno, reg.off, static_cast<int>(def.value_size) - reg.off, def.value_size))
        return err;
    const uint64_t at = static_cast<uint64_t>(reg.off) + reg.var_off.value;
    if (!std::memchr(base + at, 0, def.value_size - at))
        return reject(-EINVAL_, "string is not zero-terminated");
    return 0;
}

int Env::push_callback_call(int32_t func_id, uint32_t insn_idx, uint32_t target,
                            const RegState* map_reg) {
    // The callback runs on a branch of its own, in a new frame; this path goes on as if the
    // helper returned. When the callback exits it comes back to this call, which may start it
    // again with what it changed: the kernel's way of covering every number of iterations.
    FuncState& caller = cur_.cur();
    const bool is_loop = func_id == static_cast<int32_t>(KernelHelper::loop);
    // How many iterations are explored depends on the bound.
    if (is_loop) mark_chain_precision(BPF_REG_1);
    if (is_loop && caller.callback_depth >= caller.regs[BPF_REG_1].umax) {
        caller.callback_depth = 0;
        return 0;
    }
    const int subprog = find_subprog(target);
    if (subprog < 0) return reject(-EFAULT_, "verifier bug. No program starts at insn %u", target);
    if (cur_.curframe + 1 >= MAX_CALL_FRAMES)
        return reject(-E2BIG_, "the call stack of %u frames is too deep", cur_.curframe + 2);
    if (int err = push_branch(target, insn_idx)) return err;
    VerifierState& cb = branches_.back().state;
    FuncState& cb_caller = cb.cur();
    cb_caller.callback_depth++;
    caller.callback_depth = 0;
    auto callee = std::make_unique<FuncState>();
    init_func_state(*callee, cb.curframe + 1, static_cast<uint32_t>(subprog),
                    static_cast<int>(insn_idx));
    callee->in_callback_fn = true;
    if (is_loop) {
        // callback_fn(u32 index, void *ctx)
        mark_unknown(callee->regs[1]);
        callee->regs[2] = cb_caller.regs[3];
    } else {
        // callback_fn(struct bpf_map *map, key, value, void *ctx)
        RegState map = *map_reg;
        callee->regs[1] = map;
        for (auto [r, type] :
             {std::pair{2, RegType::ptr_to_map_key}, std::pair{3, RegType::ptr_to_map_value}}) {
            RegState& reg = callee->regs[r];
            mark_unknown(reg);
            mark_known_zero(reg);
            reg.type = type;
            reg.map = map.map;
            reg.inner_map = map.inner_map;
        }
        callee->regs[4] = cb_caller.regs[3];
    }
    cb.frames.push_back(std::move(callee));
    cb.curframe++;
    return 0;
}

int Env::check_func_call(const Insn& insn, uint32_t& insn_idx) {
    const uint32_t target = insn_idx + insn.imm + 1;
    const int subprog = find_subprog(target);
    if (subprog < 0) return reject(-EFAULT_, "verifier bug. No program starts at insn %u", target);
    if (cur_.curframe + 1 >= MAX_CALL_FRAMES)
        return reject(-E2BIG_, "the call stack of %u frames is too deep", cur_.curframe + 2);
    FuncState& caller = cur_.cur();
    auto callee = std::make_unique<FuncState>();
    init_func_state(*callee, cur_.curframe + 1, static_cast<uint32_t>(subprog),
                    static_cast<int>(insn_idx));
    for (int r = 1; r <= 5; ++r)
        callee->regs[r] = caller.regs[r];
    for (int r = 0; r <= 5; ++r)
        mark_not_init(caller.regs[r]);
    cur_.frames.push_back(std::move(callee));
    cur_.curframe++;
    insn_idx = target;
    return 0;
}

} // namespace ebpf::verifier
