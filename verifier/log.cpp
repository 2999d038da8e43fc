// The verifier log in the kernel's format: instructions as disasm.c prints them, register states
// as print_verifier_state does, the error line, and the statistics.
#include "helpers/registry.hpp"
#include "verifier/env.hpp"
#include "vm/isa/disasm.hpp"

#include <cstdio>

namespace ebpf::verifier {
namespace {

std::string vformat(const char* fmt, va_list ap) {
    va_list copy;
    va_copy(copy, ap);
    const int n = std::vsnprintf(nullptr, 0, fmt, copy);
    va_end(copy);
    std::string s(static_cast<size_t>(n > 0 ? n : 0), '\0');
    std::vsnprintf(s.data(), s.size() + 1, fmt, ap);
    return s;
}

std::string fmt(const char* f, auto... args) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, args...);
    return buf;
}

// verbose_snum / verbose_unum: small numbers in decimal, others in hex.
std::string snum(uint64_t v) {
    const int64_t s = static_cast<int64_t>(v);
    if (v <= 0xffff) return fmt("%llu", static_cast<unsigned long long>(v));
    if (s >= -32768 && s <= 32767) return fmt("%lld", static_cast<long long>(s));
    return fmt("%#llx", static_cast<unsigned long long>(v));
}
std::string unum(uint64_t v) {
    if (v <= 0xffff) return fmt("%llu", static_cast<unsigned long long>(v));
    return fmt("%#llx", static_cast<unsigned long long>(v));
}

void scalar_ranges(const RegState& r, std::string& out, const char*& sep) {
    struct MinMax {
        const char* name;
        uint64_t val;
        bool omit;
    } m[] = {
        {"smin", static_cast<uint64_t>(r.smin), r.smin == std::numeric_limits<int64_t>::min()},
        {"smax", static_cast<uint64_t>(r.smax), r.smax == std::numeric_limits<int64_t>::max()},
        {"umin", r.umin, r.umin == 0},
        {"umax", r.umax, r.umax == ~0ULL},
        {"smin32", static_cast<uint64_t>(static_cast<int64_t>(r.s32_min)),
         r.s32_min == std::numeric_limits<int32_t>::min()},
        {"smax32", static_cast<uint64_t>(static_cast<int64_t>(r.s32_max)),
         r.s32_max == std::numeric_limits<int32_t>::max()},
        {"umin32", r.u32_min, r.u32_min == 0},
        {"umax32", r.u32_max, r.u32_max == 0xffffffffu},
    };
    for (size_t i = 0; i < 8; ++i) {
        if (m[i].omit) continue;
        const bool neg1 = m[i].name[0] == 's' && static_cast<int64_t>(m[i].val) < 0;
        out += sep;
        out += m[i].name;
        out += "=";
        sep = ",";
        for (size_t j = i + 2; j < 8; j += 2) {
            if (m[j].omit) continue;
            const bool neg2 = m[j].name[0] == 's' && static_cast<int64_t>(m[j].val) < 0;
            if (neg1 == neg2 && m[i].val == m[j].val) {
                m[j].omit = true;
                out += m[j].name;
                out += "=";
            }
        }
        out += m[i].name[0] == 's' ? snum(m[i].val) : unum(m[i].val);
    }
}

} // namespace

void Env::verbose(const char* f, ...) {
    va_list ap;
    va_start(ap, f);
    log_ += vformat(f, ap);
    va_end(ap);
}

int Env::reject(int err, const char* f, ...) {
    va_list ap;
    va_start(ap, f);
    error_ = vformat(f, ap);
    va_end(ap);
    log_ += error_ + "\n";
    error_insn_ = cur_insn_;
    return err;
}

std::string Env::reg_str(const RegState& r) const {
    std::string out;
    if (r.type == RegType::scalar && r.precise) out += "P";
    if (r.type == RegType::scalar && tnum_is_const(r.var_off)) return out + snum(r.var_off.value);
    out += reg_type_str(r);
    if (r.type == RegType::ptr_to_stack) {
        if (r.frameno != cur_.cur().frameno) out += fmt("[%u]", r.frameno);
        if (tnum_is_const(r.var_off))
            return out + snum(r.var_off.value + static_cast<uint64_t>(static_cast<int64_t>(r.off)));
    }
    out += "(";
    const char* sep = "";
    auto a = [&](const std::string& s) {
        out += sep;
        out += s;
        sep = ",";
    };
    if (r.id) a(fmt("id=%u", r.id));
    if (r.ref_obj_id) a(fmt("ref_obj_id=%u", r.ref_obj_id));
    if ((r.type == RegType::const_ptr_to_map || r.type == RegType::ptr_to_map_value ||
         r.type == RegType::ptr_to_map_key) &&
        r.map) {
        if (!reg_map_def(r).name.empty()) a("map=" + reg_map_def(r).name);
        a(fmt("ks=%u,vs=%u", reg_map_def(r).key_size, reg_map_def(r).value_size));
    }
    if (r.type != RegType::scalar && r.off) a(fmt("off=%d", r.off));
    if (r.is_packet() || r.type == RegType::ptr_to_packet_end) a(fmt("r=%d", r.range));
    if (r.type == RegType::ptr_to_mem) a(fmt("sz=%u", r.mem_size));
    if (tnum_is_const(r.var_off)) {
        if (r.var_off.value) a(fmt("imm=%llx", static_cast<unsigned long long>(r.var_off.value)));
    } else {
        scalar_ranges(r, out, sep);
        if (!tnum_is_unknown(r.var_off))
            a(fmt("var_off=(0x%llx; 0x%llx)", static_cast<unsigned long long>(r.var_off.value),
                  static_cast<unsigned long long>(r.var_off.mask)));
    }
    return out + ")";
}

std::string Env::state_str(const VerifierState& st) const {
    const FuncState& f = st.cur();
    std::string out;
    if (f.frameno) out += fmt(" frame%u:", f.frameno);
    for (int i = 0; i < MAX_BPF_REG; ++i) {
        const RegState& r = f.regs[i];
        if (r.type == RegType::not_init) continue;
        out += fmt(" R%d=", i) + reg_str(r);
    }
    static constexpr char slot_char[] = {'?', 'r', 'm', '0'};
    for (size_t i = 0; i < f.stack.size(); ++i) {
        const StackSlot& s = f.stack[i];
        std::string types;
        bool valid = false;
        for (size_t j = 0; j < 8; ++j) {
            if (s.slot_type[j] != SlotType::invalid) valid = true;
            types += slot_char[static_cast<size_t>(s.slot_type[j])];
        }
        if (!valid) continue;
        out += fmt(" fp%d=", -static_cast<int>(i + 1) * 8);
        if (s.slot_type[7] == SlotType::spill) {
            types.resize(types.find('r'));
            out += types + reg_str(s.spilled_ptr);
        } else {
            out += types;
        }
    }
    return out;
}

void Env::print_insn(uint32_t idx) {
    DisasmOptions opts;
    opts.helper_name = kernel_helper_name;
    if (opts_.log_level >= 2) verbose("%u:%s\n", idx, state_str(cur_).c_str());
    verbose("%u: (%02x) %s\n", idx, insns_[idx].opcode, disasm_insn(insns_, idx, opts).c_str());
}

} // namespace ebpf::verifier
