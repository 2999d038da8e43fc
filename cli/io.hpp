// Input helpers shared by the command-line tools: hex text, files, raw bytecode.
#pragma once

#include "vm/isa/insn.hpp"
#include "vm/isa/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace ebpf::cli {

// Hex digits in pairs; whitespace between pairs is ignored, and so is a leading "0x".
Result<std::vector<uint8_t>> parse_hex(std::string_view text);
std::string to_hex(const uint8_t* data, size_t size);

Result<std::vector<uint8_t>> read_file(const std::string& path);

// Raw little-endian instructions, 8 bytes a slot.
Result<std::vector<Insn>> insns_from_bytes(const std::vector<uint8_t>& bytes);

} // namespace ebpf::cli
