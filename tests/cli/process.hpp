// Running the real binaries from tests: a shell command line, its output and exit code.
#pragma once

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace ebpf::test {

struct Outcome {
    int exit_code = -1;
    std::string out;
    std::string err;
};

inline std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs `command` through the shell with stdin from `input` (a string); captures stdout/stderr.
inline Outcome run_command(const std::string& command, const std::string& input = "") {
    const auto dir = std::filesystem::temp_directory_path();
    const auto tag =
        std::to_string(reinterpret_cast<uintptr_t>(&input)) + "_" + std::to_string(::getpid());
    const auto in_path = dir / ("ebpf_test_in_" + tag);
    const auto err_path = dir / ("ebpf_test_err_" + tag);
    std::ofstream(in_path, std::ios::binary) << input;
    const std::string full = command + " <" + in_path.string() + " 2>" + err_path.string();
    Outcome o;
    if (FILE* p = ::popen(full.c_str(), "r")) {
        char buf[4096];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
            o.out.append(buf, n);
        const int status = ::pclose(p);
        o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    o.err = slurp(err_path);
    std::filesystem::remove(in_path);
    std::filesystem::remove(err_path);
    return o;
}

} // namespace ebpf::test
