#include "tests/conformance/conformance_case.hpp"

#include "cli/io.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace ebpf::test {

std::vector<ConformanceCase> load_conformance_dir(const std::filesystem::path& dir) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir))
        if (entry.path().extension() == ".json") files.push_back(entry.path());
    std::sort(files.begin(), files.end());

    std::vector<ConformanceCase> cases;
    for (const auto& file : files) {
        std::ifstream in(file);
        const auto j = nlohmann::json::parse(in);
        ConformanceCase c;
        c.name = j.at("name").get<std::string>();
        auto program = cli::parse_hex(j.at("program_hex").get<std::string>());
        auto insns =
            program ? cli::insns_from_bytes(*program) : Result<std::vector<Insn>>(program.error());
        if (!insns) throw std::runtime_error(file.string() + ": " + insns.error().to_string());
        c.insns = *insns;
        if (j.contains("memory_hex")) {
            auto mem = cli::parse_hex(j.at("memory_hex").get<std::string>());
            if (!mem) throw std::runtime_error(file.string() + ": " + mem.error().to_string());
            c.memory = *mem;
        }
        if (j.at("expect") == "result")
            c.expected_r0 = std::stoull(j.at("expected_r0").get<std::string>(), nullptr, 16);
        cases.push_back(std::move(c));
    }
    return cases;
}

} // namespace ebpf::test
