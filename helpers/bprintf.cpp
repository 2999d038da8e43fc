#include "helpers/bprintf.hpp"

#include "helpers/helper_errno.hpp"
#include "helpers/memory_image.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace ebpf::helpers {
namespace {

constexpr long max_bprintf_bin_args = 512;
constexpr int field_width_max = (1 << 23) - 1;

// The kernel's ctype, which is the C locale's for ASCII whatever locale the host runs in.
bool k_isprint(char c) {
    return c >= 0x20 && c < 0x7f;
}
bool k_isspace(char c) {
    return c == ' ' || (c >= '\t' && c <= '\r');
}
bool k_isalnum(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool k_ispunct(char c) {
    return k_isprint(c) && c != ' ' && !k_isalnum(c);
}
bool k_isascii(char c) {
    return static_cast<unsigned char>(c) < 0x80;
}

struct Spec {
    std::string flags; // of "0+- "
    int width = -1;
    bool left() const { return flags.find('-') != std::string::npos; }
    bool zero() const { return flags.find('0') != std::string::npos; }
};

void pad(std::string& out, std::string_view s, const Spec& spec) {
    const size_t width = spec.width < 0 ? 0 : static_cast<size_t>(spec.width);
    const size_t fill = width > s.size() ? width - s.size() : 0;
    if (!spec.left()) out.append(fill, ' ');
    out.append(s);
    if (spec.left()) out.append(fill, ' ');
}

void integer(std::string& out, const Spec& spec, char conv, int size, uint64_t v) {
    const std::string f =
        "%" + spec.flags + (spec.width >= 0 ? std::to_string(spec.width) : "") + "ll" + conv;
    const bool is_signed = conv == 'd' || conv == 'i';
    const auto sv =
        size == 4 ? static_cast<long long>(static_cast<int32_t>(v)) : static_cast<long long>(v);
    const auto uv = size == 4 ? static_cast<unsigned long long>(static_cast<uint32_t>(v))
                              : static_cast<unsigned long long>(v);
    auto print = [&](char* buf, size_t n) {
        return is_signed ? std::snprintf(buf, n, f.c_str(), sv)
                         : std::snprintf(buf, n, f.c_str(), uv);
    };
    const int len = print(nullptr, 0);
    std::string s(static_cast<size_t>(len) + 1, 0);
    print(s.data(), s.size());
    s.pop_back();
    out += s;
}

std::string hex(uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
    return buf;
}

// pointer_string: 16 zero-padded hex digits unless a width says otherwise.
void pointer(std::string& out, const Spec& spec, uint64_t v) {
    const std::string digits = hex(v);
    if (spec.width < 0) {
        out.append(16 - std::min<size_t>(16, digits.size()), '0');
        out += digits;
        return;
    }
    if (spec.zero() && !spec.left() && static_cast<size_t>(spec.width) > digits.size()) {
        out.append(static_cast<size_t>(spec.width) - digits.size(), '0');
        out += digits;
        return;
    }
    pad(out, digits, spec);
}

std::string ip_string(const uint8_t* ip, char style, char version) {
    char buf[64];
    std::string s;
    if (version == '4') {
        std::snprintf(buf, sizeof buf, style == 'I' ? "%u.%u.%u.%u" : "%03u.%03u.%03u.%03u", ip[0],
                      ip[1], ip[2], ip[3]);
        return buf;
    }
    for (int i = 0; i < 16; i += 2) {
        if (style == 'I' && i) s += ':';
        std::snprintf(buf, sizeof buf, "%02x%02x", ip[i], ip[i + 1]);
        s += buf;
    }
    return s;
}

// bpf_trace_copy_string: %s reads user memory below TASK_SIZE (the run's own memory is kernel
// memory wherever it lies), %pks kernel memory, %pus user memory.
long copy_string(const RunState& state, char* buf, uint64_t ptr, char ptype, uint64_t bufsz) {
    buf[0] = 0;
    const bool user =
        ptype == 'u' || (ptype == 's' && ptr < task_size && !state.accessible(ptr, 1, false));
    return user ? strncpy_from_user(state, buf, ptr, bufsz)
                : strncpy_from_kernel(state, buf, ptr, bufsz);
}

} // namespace

Formatted bprintf(const RunState& state, const char* fmt, uint64_t fmt_size,
                  std::span<const uint64_t> args) {
    const void* nul = std::memchr(fmt, 0, fmt_size);
    if (!nul) return {-herr::einval, {}};
    const size_t len = static_cast<size_t>(static_cast<const char*>(nul) - fmt);
    const size_t num_args = args.size();
    Formatted r;
    std::string& out = r.text;
    long used = 0; // bytes of the kernel's bin_args buffer taken
    size_t num_spec = 0;
    auto fail = [](long err) { return Formatted{err, {}}; };

    for (size_t i = 0; i < len; ++i) {
        if ((!k_isprint(fmt[i]) && !k_isspace(fmt[i])) || !k_isascii(fmt[i]))
            return fail(-herr::einval);
        if (fmt[i] != '%') {
            out += fmt[i];
            continue;
        }
        if (fmt[i + 1] == '%') {
            out += '%';
            ++i;
            continue;
        }
        if (num_spec >= num_args) return fail(-herr::einval);
        const uint64_t arg = args[num_spec];
        ++i;
        Spec spec;
        while (fmt[i] == '0' || fmt[i] == '+' || fmt[i] == '-' || fmt[i] == ' ')
            spec.flags += fmt[i++];
        if (fmt[i] >= '1' && fmt[i] <= '9') {
            long width = 0;
            while (fmt[i] >= '0' && fmt[i] <= '9')
                width = std::min<long>(width * 10 + (fmt[i++] - '0'), field_width_max);
            spec.width = static_cast<int>(width);
        }

        char ptype = 0;
        if (fmt[i] == 'p') {
            const char next = fmt[i + 1];
            if ((next == 'k' || next == 'u') && fmt[i + 2] == 's') {
                ptype = next;
                i += 2;
            } else if (next == 0 || k_isspace(next) || k_ispunct(next) || next == 'K' ||
                       next == 'x' || next == 's' || next == 'S') {
                used = (used + 3) & ~3L;
                if (max_bprintf_bin_args - used < 8) return fail(-herr::enospc);
                used += 8;
                ++num_spec;
                ++i; // the kernel skips the character after 'p', a modifier or not
                if (next == 's' || next == 'S')
                    pad(out, "0x" + hex(arg), spec);
                else
                    pointer(out, spec, arg);
                if (next != 'K' && next != 'x' && next != 's' && next != 'S' && next != 0)
                    out += next;
                continue;
            } else if (next == 'B') {
                const std::string sym = "0x" + hex(arg);
                used += static_cast<long>(sym.size()) + 1;
                ++num_spec;
                ++i;
                pad(out, sym, spec);
                continue;
            } else {
                if ((next != 'i' && next != 'I') || (fmt[i + 2] != '4' && fmt[i + 2] != '6'))
                    return fail(-herr::einval);
                const char version = fmt[i + 2];
                i += 2;
                const long ip_size = version == '4' ? 4 : 16;
                if (max_bprintf_bin_args - used < ip_size) return fail(-herr::enospc);
                uint8_t ip[16] = {};
                if (copy_from_kernel(state, ip, arg, static_cast<uint64_t>(ip_size)) < 0)
                    std::memset(ip, 0, sizeof ip);
                const std::string s = ip_string(ip, next, version);
                used += static_cast<long>(s.size()) + 1;
                ++num_spec;
                pad(out, s, spec);
                continue;
            }
        } else if (fmt[i] == 's') {
            ptype = 's';
        } else if (fmt[i] == 'c') {
            if (used >= max_bprintf_bin_args) return fail(-herr::enospc);
            used += 1;
            ++num_spec;
            pad(out, std::string(1, static_cast<char>(arg)), spec);
            continue;
        }

        if (ptype) {
            const char after = fmt[i + 1];
            if (after != 0 && !k_isspace(after) && !k_ispunct(after)) return fail(-herr::einval);
            if (used >= max_bprintf_bin_args) return fail(-herr::enospc);
            std::string buf(static_cast<size_t>(max_bprintf_bin_args - used), 0);
            long n = copy_string(state, buf.data(), arg, ptype, buf.size());
            if (n < 0) {
                buf[0] = 0;
                n = 1;
            }
            used += n;
            ++num_spec;
            pad(out, std::string_view(buf.data(), strnlen(buf.data(), buf.size())), spec);
            continue;
        }

        int size = 4;
        if (fmt[i] == 'l') {
            size = 8;
            ++i;
        }
        if (fmt[i] == 'l') ++i;
        const char conv = fmt[i];
        if (conv != 'i' && conv != 'd' && conv != 'u' && conv != 'x' && conv != 'X')
            return fail(-herr::einval);
        used = (used + 3) & ~3L;
        if (max_bprintf_bin_args - used < size) return fail(-herr::enospc);
        used += size;
        ++num_spec;
        integer(out, spec, conv, size, arg);
    }
    return r;
}

} // namespace ebpf::helpers
