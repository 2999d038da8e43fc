// Reading the JSON cases of ../shared/conformance.
#pragma once

#include "vm/isa/insn.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ebpf::test {

struct ConformanceCase {
    std::string name;
    std::vector<Insn> insns;
    std::vector<uint8_t> memory;
    std::optional<uint64_t> expected_r0; // empty for the must-reject cases
};

// Every *.json case in a directory, sorted by name.
std::vector<ConformanceCase> load_conformance_dir(const std::filesystem::path& dir);

} // namespace ebpf::test
