#include "vm/loader/btf.hpp"

#include <limits>

namespace ebpf::btf {
namespace {

constexpr size_t BTF_HEADER_SIZE = 24, BTF_TYPE_SIZE = 12;
// struct btf_ext_header up to line_info_len; core_relo_off/len may follow.
constexpr size_t BTF_EXT_HEADER_MIN = 24, BTF_EXT_HEADER_CORE = 32;
constexpr uint32_t FUNC_INFO_MIN_REC = 8, LINE_INFO_MIN_REC = 16, CORE_RELO_MIN_REC = 16;

uint32_t load_u32(const uint8_t* p) {
    return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
uint16_t load_u16(const uint8_t* p) {
    return static_cast<uint16_t>(p[0] | p[1] << 8);
}

Error fail(const char* what, std::string message) {
    return Error{std::string(what) + ": " + std::move(message), std::nullopt};
}

bool fits(uint64_t offset, uint64_t size, uint64_t limit) {
    return offset <= limit && size <= limit - offset;
}

std::string tid(uint32_t id) {
    return "type [" + std::to_string(id) + "]";
}

// Bytes that follow struct btf_type for a kind, or nullopt for a kind BTF does not define.
std::optional<uint64_t> extra_size(uint32_t kind, uint32_t vlen) {
    switch (kind) {
    case BTF_KIND_PTR:
    case BTF_KIND_FWD:
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_CONST:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_FUNC:
    case BTF_KIND_FLOAT:
    case BTF_KIND_TYPE_TAG: return 0;
    case BTF_KIND_INT:
    case BTF_KIND_VAR:
    case BTF_KIND_DECL_TAG: return 4;
    case BTF_KIND_ARRAY: return 12;
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
    case BTF_KIND_ENUM64:
    case BTF_KIND_DATASEC: return uint64_t{vlen} * 12;
    case BTF_KIND_ENUM:
    case BTF_KIND_FUNC_PROTO: return uint64_t{vlen} * 8;
    default: return std::nullopt;
    }
}

Type decode(const uint8_t* p) {
    Type t;
    t.name_off = load_u32(p);
    const uint32_t info = load_u32(p + 4);
    t.vlen = info & 0xffff;
    t.kind = (info >> 24) & 0x1f;
    t.kflag = info >> 31;
    t.size_type = load_u32(p + 8);
    const uint8_t* x = p + BTF_TYPE_SIZE;
    switch (t.kind) {
    case BTF_KIND_INT: t.int_encoding = load_u32(x); break;
    case BTF_KIND_VAR: t.linkage = load_u32(x); break;
    case BTF_KIND_DECL_TAG: t.component_idx = static_cast<int32_t>(load_u32(x)); break;
    case BTF_KIND_ARRAY:
        t.elem_type = load_u32(x);
        t.index_type = load_u32(x + 4);
        t.nelems = load_u32(x + 8);
        break;
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
        for (uint32_t i = 0; i < t.vlen; i++, x += 12)
            t.members.push_back({load_u32(x), load_u32(x + 4), load_u32(x + 8)});
        break;
    case BTF_KIND_FUNC_PROTO:
        for (uint32_t i = 0; i < t.vlen; i++, x += 8)
            t.members.push_back({load_u32(x), load_u32(x + 4), 0});
        break;
    case BTF_KIND_ENUM:
        for (uint32_t i = 0; i < t.vlen; i++, x += 8)
            t.enumerators.push_back({load_u32(x), static_cast<int32_t>(load_u32(x + 4))});
        break;
    case BTF_KIND_ENUM64:
        for (uint32_t i = 0; i < t.vlen; i++, x += 12) {
            const uint64_t val = uint64_t{load_u32(x + 8)} << 32 | load_u32(x + 4);
            t.enumerators.push_back({load_u32(x), static_cast<int64_t>(val)});
        }
        break;
    case BTF_KIND_DATASEC:
        for (uint32_t i = 0; i < t.vlen; i++, x += 12)
            t.vars.push_back({load_u32(x), load_u32(x + 4), load_u32(x + 8)});
        break;
    default: break;
    }
    return t;
}

} // namespace

const char* kind_name(uint32_t kind) {
    switch (kind) {
    case BTF_KIND_UNKN: return "void";
    case BTF_KIND_INT: return "int";
    case BTF_KIND_PTR: return "ptr";
    case BTF_KIND_ARRAY: return "array";
    case BTF_KIND_STRUCT: return "struct";
    case BTF_KIND_UNION: return "union";
    case BTF_KIND_ENUM: return "enum";
    case BTF_KIND_FWD: return "fwd";
    case BTF_KIND_TYPEDEF: return "typedef";
    case BTF_KIND_VOLATILE: return "volatile";
    case BTF_KIND_CONST: return "const";
    case BTF_KIND_RESTRICT: return "restrict";
    case BTF_KIND_FUNC: return "func";
    case BTF_KIND_FUNC_PROTO: return "func_proto";
    case BTF_KIND_VAR: return "var";
    case BTF_KIND_DATASEC: return "datasec";
    case BTF_KIND_FLOAT: return "float";
    case BTF_KIND_DECL_TAG: return "decl_tag";
    case BTF_KIND_TYPE_TAG: return "type_tag";
    case BTF_KIND_ENUM64: return "enum64";
    default: return "unknown";
    }
}

Result<Btf> Btf::parse(std::span<const uint8_t> data) {
    const char* what = "BTF";
    if (data.size() < BTF_HEADER_SIZE)
        return fail(what, "header truncated (" + std::to_string(data.size()) + " bytes)");
    const uint8_t* p = data.data();
    const uint16_t magic = load_u16(p);
    if (magic == 0x9feb) return fail(what, "big-endian BTF is not supported");
    if (magic != BTF_MAGIC) return fail(what, "bad magic " + std::to_string(magic));
    if (p[2] != 1) return fail(what, "unsupported version " + std::to_string(p[2]));
    const uint32_t hdr_len = load_u32(p + 4);
    const uint32_t type_off = load_u32(p + 8), type_len = load_u32(p + 12);
    const uint32_t str_off = load_u32(p + 16), str_len = load_u32(p + 20);
    if (hdr_len < BTF_HEADER_SIZE || hdr_len > data.size())
        return fail(what, "header length " + std::to_string(hdr_len) + " is invalid");
    const uint64_t left = data.size() - hdr_len;
    if (type_off % 4) return fail(what, "type section is not 4-byte aligned");
    if (!fits(type_off, type_len, left) || !fits(str_off, str_len, left))
        return fail(what, "type section (" + std::to_string(type_off) + " + " +
                              std::to_string(type_len) + ") or string section (" +
                              std::to_string(str_off) + " + " + std::to_string(str_len) +
                              ") runs past the end (" + std::to_string(left) + " bytes)");
    if (uint64_t{type_off} + type_len > str_off)
        return fail(what, "type section overlaps or follows the string section");
    const uint8_t* types = p + hdr_len + type_off;
    const uint8_t* strs = p + hdr_len + str_off;
    if (str_len == 0 || strs[0] != '\0' || strs[str_len - 1] != '\0')
        return fail(what, "string section must start and end with a NUL byte");

    Btf btf;
    btf.strings_.assign(strs, strs + str_len);
    btf.types_.emplace_back(); // [0] void
    for (uint64_t pos = 0; pos < type_len;) {
        const uint32_t id = btf.type_count();
        if (type_len - pos < BTF_TYPE_SIZE)
            return fail(what, tid(id) + " at offset " + std::to_string(pos) + " is truncated");
        const uint32_t info = load_u32(types + pos + 4);
        const uint32_t kind = (info >> 24) & 0x1f, vlen = info & 0xffff;
        const auto extra = extra_size(kind, vlen);
        if (!extra) return fail(what, tid(id) + ": unknown kind " + std::to_string(kind));
        if (type_len - pos - BTF_TYPE_SIZE < *extra)
            return fail(what, tid(id) + " (" + kind_name(kind) + ", vlen " + std::to_string(vlen) +
                                  ") at offset " + std::to_string(pos) + " is truncated");
        btf.types_.push_back(decode(types + pos));
        pos += BTF_TYPE_SIZE + *extra;
    }

    const uint32_t n = btf.type_count();
    for (uint32_t id = 1; id < n; id++) {
        const Type& t = btf.types_[id];
        auto bad_name = [&](uint32_t off) {
            return fail(what,
                        tid(id) + ": name offset " + std::to_string(off) + " is out of range");
        };
        auto bad_ref = [&](uint32_t ref) {
            return fail(what, tid(id) + " (" + kind_name(t.kind) + ") refers to " + tid(ref) +
                                  " past the last type [" + std::to_string(n - 1) + "]");
        };
        if (!btf.str(t.name_off)) return bad_name(t.name_off);
        switch (t.kind) {
        case BTF_KIND_PTR:
        case BTF_KIND_TYPEDEF:
        case BTF_KIND_VOLATILE:
        case BTF_KIND_CONST:
        case BTF_KIND_RESTRICT:
        case BTF_KIND_TYPE_TAG:
        case BTF_KIND_VAR:
        case BTF_KIND_DECL_TAG:
        case BTF_KIND_FUNC_PROTO:
            if (t.size_type >= n) return bad_ref(t.size_type);
            break;
        case BTF_KIND_FUNC:
            if (t.size_type >= n) return bad_ref(t.size_type);
            if (btf.types_[t.size_type].kind != BTF_KIND_FUNC_PROTO)
                return fail(what, tid(id) + " (func) refers to " + tid(t.size_type) +
                                      " which is not a func_proto");
            break;
        case BTF_KIND_ARRAY:
            if (t.elem_type >= n) return bad_ref(t.elem_type);
            if (t.index_type >= n) return bad_ref(t.index_type);
            break;
        default: break;
        }
        if (t.kind == BTF_KIND_DECL_TAG && t.component_idx < -1)
            return fail(what, tid(id) + ": decl_tag component index " +
                                  std::to_string(t.component_idx) + " is invalid");
        for (const auto& m : t.members) {
            if (!btf.str(m.name_off)) return bad_name(m.name_off);
            if (m.type >= n) return bad_ref(m.type);
        }
        for (const auto& e : t.enumerators)
            if (!btf.str(e.name_off)) return bad_name(e.name_off);
        for (const auto& v : t.vars)
            if (v.type >= n) return bad_ref(v.type);
    }
    return btf;
}

std::optional<std::string_view> Btf::str(uint32_t off) const {
    if (off >= strings_.size()) return std::nullopt;
    return std::string_view(strings_.data() + off); // the section ends with a NUL
}

std::optional<uint32_t> Btf::find_by_name(std::string_view name) const {
    for (uint32_t id = 1; id < type_count(); id++)
        if (this->name(types_[id]) == name) return id;
    return std::nullopt;
}

Result<uint32_t> Btf::skip_mods_and_typedefs(uint32_t id) const {
    const uint32_t start = id;
    for (int depth = 0; depth <= MAX_RESOLVE_DEPTH; depth++) {
        const Type& t = types_[id];
        if (!t.is_mod() && t.kind != BTF_KIND_TYPEDEF) return id;
        id = t.size_type;
    }
    return fail("BTF", tid(start) + ": typedef/modifier chain is longer than " +
                           std::to_string(MAX_RESOLVE_DEPTH) + " (a loop?)");
}

Result<uint32_t> Btf::resolve_size(uint32_t id) const {
    const uint32_t start = id;
    uint64_t nelems = 1;
    for (int depth = 0; depth < MAX_RESOLVE_DEPTH; depth++) {
        const Type& t = types_[id];
        uint64_t size;
        switch (t.kind) {
        case BTF_KIND_INT:
        case BTF_KIND_STRUCT:
        case BTF_KIND_UNION:
        case BTF_KIND_ENUM:
        case BTF_KIND_ENUM64:
        case BTF_KIND_DATASEC:
        case BTF_KIND_FLOAT: size = t.size_type; break;
        case BTF_KIND_PTR: size = 8; break;
        case BTF_KIND_TYPEDEF:
        case BTF_KIND_VOLATILE:
        case BTF_KIND_CONST:
        case BTF_KIND_RESTRICT:
        case BTF_KIND_VAR:
        case BTF_KIND_DECL_TAG:
        case BTF_KIND_TYPE_TAG: id = t.size_type; continue;
        case BTF_KIND_ARRAY:
            nelems *= t.nelems;
            if (nelems > std::numeric_limits<uint32_t>::max())
                return fail("BTF", tid(start) + ": array size overflows 32 bits");
            id = t.elem_type;
            continue;
        default:
            return fail("BTF", tid(start) + ": cannot determine the size of " + tid(id) + " (" +
                                   kind_name(t.kind) + ")");
        }
        if (size * nelems > std::numeric_limits<uint32_t>::max())
            return fail("BTF", tid(start) + ": size overflows 32 bits");
        return static_cast<uint32_t>(size * nelems);
    }
    return fail("BTF", tid(start) + ": type chain is longer than " +
                           std::to_string(MAX_RESOLVE_DEPTH) + " (a loop?)");
}

namespace {

template <typename Rec, typename Decode>
Status parse_ext_info(std::span<const uint8_t> data, uint32_t off, uint32_t len, uint32_t min_rec,
                      const char* what, const Btf& btf, std::vector<ExtSec<Rec>>& out,
                      Decode decode) {
    if (len == 0) return std::nullopt;
    if (off % 4) return fail(what, "section is not 4-byte aligned");
    if (!fits(off, len, data.size()))
        return fail(what, "section (" + std::to_string(off) + " + " + std::to_string(len) +
                              ") runs past the end of .BTF.ext");
    const uint8_t* p = data.data() + off;
    if (len < 4) return fail(what, "section has no record size");
    const uint32_t rec_size = load_u32(p);
    if (rec_size < min_rec || rec_size % 4)
        return fail(what, "record size " + std::to_string(rec_size) + " is invalid");
    uint64_t pos = 4;
    if (pos == len) return fail(what, "section has no records");
    while (pos < len) {
        if (len - pos < 8)
            return fail(what, "section header at offset " + std::to_string(pos) + " is truncated");
        ExtSec<Rec> sec;
        sec.sec_name_off = load_u32(p + pos);
        const uint32_t num_info = load_u32(p + pos + 4);
        if (!btf.str(sec.sec_name_off))
            return fail(what, "section name offset " + std::to_string(sec.sec_name_off) +
                                  " is out of range");
        const std::string_view sec_name = *btf.str(sec.sec_name_off);
        if (num_info == 0)
            return fail(what, "section '" + std::string(sec_name) + "' has no records");
        if (uint64_t{num_info} * rec_size > len - pos - 8)
            return fail(what, "section '" + std::string(sec_name) +
                                  "': " + std::to_string(num_info) + " records of " +
                                  std::to_string(rec_size) + " bytes run past the end");
        pos += 8;
        sec.recs.reserve(num_info);
        for (uint32_t i = 0; i < num_info; i++, pos += rec_size) {
            auto rec = decode(p + pos);
            if (auto err = rec.second)
                return fail(what, "section '" + std::string(sec_name) + "': " + *err);
            sec.recs.push_back(rec.first);
        }
        out.push_back(std::move(sec));
    }
    return std::nullopt;
}

} // namespace

Result<BtfExt> BtfExt::parse(std::span<const uint8_t> data, const Btf& btf) {
    const char* what = "BTF.ext";
    if (data.size() < 8) return fail(what, "header truncated");
    const uint8_t* p = data.data();
    const uint16_t magic = load_u16(p);
    if (magic == 0x9feb) return fail(what, "big-endian BTF.ext is not supported");
    if (magic != BTF_MAGIC) return fail(what, "bad magic " + std::to_string(magic));
    if (p[2] != 1) return fail(what, "unsupported version " + std::to_string(p[2]));
    const uint32_t hdr_len = load_u32(p + 4);
    if (hdr_len < BTF_EXT_HEADER_MIN || hdr_len > data.size())
        return fail(what, "header length " + std::to_string(hdr_len) + " is invalid");
    const auto body = data.subspan(hdr_len);

    BtfExt ext;
    auto func = [](const uint8_t* r) {
        return std::pair{FuncInfoRec{load_u32(r), load_u32(r + 4)}, std::optional<std::string>{}};
    };
    auto line = [&btf](const uint8_t* r) {
        LineInfoRec rec{load_u32(r), load_u32(r + 4), load_u32(r + 8), load_u32(r + 12)};
        std::optional<std::string> err;
        if (!btf.str(rec.file_name_off) || !btf.str(rec.line_off))
            err = "line info at insn offset " + std::to_string(rec.insn_off) +
                  " names a string out of range";
        return std::pair{rec, err};
    };
    if (auto err =
            parse_ext_info<FuncInfoRec>(body, load_u32(p + 8), load_u32(p + 12), FUNC_INFO_MIN_REC,
                                        "BTF.ext func_info", btf, ext.func_info, func))
        return *err;
    if (auto err =
            parse_ext_info<LineInfoRec>(body, load_u32(p + 16), load_u32(p + 20), LINE_INFO_MIN_REC,
                                        "BTF.ext line_info", btf, ext.line_info, line))
        return *err;
    if (hdr_len < BTF_EXT_HEADER_CORE) return ext;
    auto core = [&btf](const uint8_t* r) {
        CoreReloRec rec{load_u32(r), load_u32(r + 4), load_u32(r + 8), load_u32(r + 12)};
        std::optional<std::string> err;
        if (rec.type_id >= btf.type_count())
            err = "CO-RE relocation at insn offset " + std::to_string(rec.insn_off) + " names " +
                  tid(rec.type_id) + " past the last type";
        else if (!btf.str(rec.access_str_off))
            err = "CO-RE relocation at insn offset " + std::to_string(rec.insn_off) +
                  " has an access string offset out of range";
        return std::pair{rec, err};
    };
    if (auto err =
            parse_ext_info<CoreReloRec>(body, load_u32(p + 24), load_u32(p + 28), CORE_RELO_MIN_REC,
                                        "BTF.ext core_relo", btf, ext.core_relos, core))
        return *err;
    return ext;
}

} // namespace ebpf::btf
