// BTF (.BTF) and its extension (.BTF.ext) as include/uapi/linux/btf.h lays them out, parsed with
// every offset, count and type id checked. Type chains (typedefs, modifiers, arrays) are followed
// at most MAX_RESOLVE_DEPTH steps, so a loop in hostile BTF gives an error, not a hang.
#pragma once

#include "vm/isa/result.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ebpf::btf {

inline constexpr uint16_t BTF_MAGIC = 0xeb9f;

inline constexpr uint32_t BTF_KIND_UNKN = 0, BTF_KIND_INT = 1, BTF_KIND_PTR = 2, BTF_KIND_ARRAY = 3,
                          BTF_KIND_STRUCT = 4, BTF_KIND_UNION = 5, BTF_KIND_ENUM = 6,
                          BTF_KIND_FWD = 7, BTF_KIND_TYPEDEF = 8, BTF_KIND_VOLATILE = 9,
                          BTF_KIND_CONST = 10, BTF_KIND_RESTRICT = 11, BTF_KIND_FUNC = 12,
                          BTF_KIND_FUNC_PROTO = 13, BTF_KIND_VAR = 14, BTF_KIND_DATASEC = 15,
                          BTF_KIND_FLOAT = 16, BTF_KIND_DECL_TAG = 17, BTF_KIND_TYPE_TAG = 18,
                          BTF_KIND_ENUM64 = 19;

inline constexpr uint32_t BTF_VAR_STATIC = 0, BTF_VAR_GLOBAL_ALLOCATED = 1,
                          BTF_VAR_GLOBAL_EXTERN = 2;
inline constexpr uint32_t BTF_FUNC_STATIC = 0, BTF_FUNC_GLOBAL = 1, BTF_FUNC_EXTERN = 2;

// BTF_KIND_INT encoding bits.
inline constexpr uint32_t BTF_INT_SIGNED = 1, BTF_INT_CHAR = 2, BTF_INT_BOOL = 4;

// libbpf's bound on typedef/modifier/array chains (btf.c).
inline constexpr int MAX_RESOLVE_DEPTH = 32;

struct Member { // struct btf_member; also struct btf_param (offset unused)
    uint32_t name_off = 0;
    uint32_t type = 0;
    uint32_t offset = 0;
};

struct Enumerator { // struct btf_enum and struct btf_enum64
    uint32_t name_off = 0;
    int64_t val = 0;
};

struct VarSecinfo { // struct btf_var_secinfo
    uint32_t type = 0;
    uint32_t offset = 0;
    uint32_t size = 0;
};

struct Type {
    uint32_t name_off = 0;
    uint32_t kind = BTF_KIND_UNKN;
    uint32_t vlen = 0; // FUNC: the linkage
    bool kflag = false;
    uint32_t size_type = 0; // `size` or `type` of struct btf_type, by kind

    uint32_t int_encoding = 0;                          // INT
    uint32_t elem_type = 0, index_type = 0, nelems = 0; // ARRAY
    uint32_t linkage = 0;                               // VAR
    int32_t component_idx = 0;                          // DECL_TAG
    std::vector<Member> members;                        // STRUCT, UNION; FUNC_PROTO params
    std::vector<Enumerator> enumerators;                // ENUM, ENUM64
    std::vector<VarSecinfo> vars;                       // DATASEC

    bool is_mod() const {
        return kind == BTF_KIND_VOLATILE || kind == BTF_KIND_CONST || kind == BTF_KIND_RESTRICT ||
               kind == BTF_KIND_TYPE_TAG;
    }
    bool is_composite() const { return kind == BTF_KIND_STRUCT || kind == BTF_KIND_UNION; }
    bool is_any_enum() const { return kind == BTF_KIND_ENUM || kind == BTF_KIND_ENUM64; }
    uint32_t member_bit_offset(const Member& m) const {
        return kflag ? m.offset & 0xffffff : m.offset;
    }
    uint32_t member_bitfield_size(const Member& m) const { return kflag ? m.offset >> 24 : 0; }
    uint32_t int_flags() const { return (int_encoding >> 24) & 0xf; } // BTF_INT_SIGNED, ...
    uint32_t int_bit_offset() const { return (int_encoding >> 16) & 0xff; }
};

const char* kind_name(uint32_t kind); // "struct", "typedef", ... as libbpf's btf_kind_str

class Btf {
  public:
    // Type ids are checked to refer to existing types, name offsets to lie in the string section.
    static Result<Btf> parse(std::span<const uint8_t> data);

    uint32_t type_count() const { return static_cast<uint32_t>(types_.size()); } // with [0] void
    // id < type_count(); every id stored in a Type satisfies that.
    const Type& type(uint32_t id) const { return types_[id]; }
    Type& mutable_type(uint32_t id) { return types_[id]; }

    // The string at `off`, or nullopt when out of range.
    std::optional<std::string_view> str(uint32_t off) const;
    // A type's name; name offsets are checked at parse time.
    std::string_view name(const Type& t) const { return *str(t.name_off); }
    std::string_view name_of(const Member& m) const { return *str(m.name_off); }
    // The first type of that name, as btf__find_by_name.
    std::optional<uint32_t> find_by_name(std::string_view name) const;

    // Follows typedefs and modifiers, as libbpf's skip_mods_and_typedefs.
    Result<uint32_t> skip_mods_and_typedefs(uint32_t id) const;
    // The size of a type in bytes, as btf__resolve_size (pointers are 8 bytes).
    Result<uint32_t> resolve_size(uint32_t id) const;

  private:
    std::vector<Type> types_;
    std::vector<char> strings_;
};

struct FuncInfoRec { // struct bpf_func_info, insn_off in bytes as clang writes it
    uint32_t insn_off = 0;
    uint32_t type_id = 0;
};

struct LineInfoRec { // struct bpf_line_info
    uint32_t insn_off = 0;
    uint32_t file_name_off = 0;
    uint32_t line_off = 0;
    uint32_t line_col = 0;

    uint32_t line_number() const { return line_col >> 10; }
    uint32_t column() const { return line_col & 0x3ff; }
};

template <typename Rec> struct ExtSec { // struct btf_ext_info_sec and its records
    uint32_t sec_name_off = 0;
    std::vector<Rec> recs;
};

struct CoreReloRec { // struct bpf_core_relo
    uint32_t insn_off = 0;
    uint32_t type_id = 0;
    uint32_t access_str_off = 0;
    uint32_t kind = 0; // enum bpf_core_relo_kind
};

struct BtfExt {
    std::vector<ExtSec<FuncInfoRec>> func_info;
    std::vector<ExtSec<LineInfoRec>> line_info;
    std::vector<ExtSec<CoreReloRec>> core_relos; // present when the header is 32 bytes or more

    // String offsets (section, file and line names, CO-RE access strings) are checked against
    // `btf`; CO-RE type ids are checked to exist.
    static Result<BtfExt> parse(std::span<const uint8_t> data, const Btf& btf);
};

} // namespace ebpf::btf
