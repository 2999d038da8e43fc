#include "cli/io.hpp"

#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace ebpf::cli {
namespace {

int nibble(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

} // namespace

Result<std::vector<uint8_t>> parse_hex(std::string_view text) {
    if (text.starts_with("0x") || text.starts_with("0X")) text.remove_prefix(2);
    std::vector<uint8_t> out;
    out.reserve(text.size() / 2);
    for (size_t i = 0; i < text.size();) {
        if (std::isspace(static_cast<unsigned char>(text[i]))) {
            ++i;
            continue;
        }
        const int hi = nibble(text[i]);
        const int lo = i + 1 < text.size() ? nibble(text[i + 1]) : -1;
        if (hi < 0 || lo < 0)
            return Error{
                "bad hex at character " + std::to_string(i) + ": expected pairs of hex digits", {}};
        out.push_back(static_cast<uint8_t>(hi << 4 | lo));
        i += 2;
    }
    return out;
}

std::string to_hex(const uint8_t* data, size_t size) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s(size * 2, '0');
    for (size_t i = 0; i < size; ++i) {
        s[2 * i] = digits[data[i] >> 4];
        s[2 * i + 1] = digits[data[i] & 15];
    }
    return s;
}

Result<std::vector<uint8_t>> read_file(const std::string& path) {
    // Reading a directory through a stream throws: say what it is instead.
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) return Error{path + ": is a directory", {}};
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error{path + ": " + std::strerror(errno), {}};
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    if (in.bad()) return Error{path + ": read error", {}};
    return bytes;
}

Result<std::vector<Insn>> insns_from_bytes(const std::vector<uint8_t>& bytes) {
    if (bytes.empty()) return Error{"no instructions", {}};
    if (bytes.size() % sizeof(Insn) != 0)
        return Error{"bytecode of " + std::to_string(bytes.size()) +
                         " bytes is not a whole number of 8-byte instructions",
                     {}};
    std::vector<Insn> insns(bytes.size() / sizeof(Insn));
    std::memcpy(insns.data(), bytes.data(), bytes.size());
    return insns;
}

} // namespace ebpf::cli
