// The committed list of differences from the kernel that are understood and waiting for a fix
// (tests/progs/known_differences.txt). One a line: "program | input | aspect | why"; input "*"
// stands for every input (a program that does not load has only that one). The oracle test fails
// on a difference the list lacks and on an entry that no longer differs, so the list only shrinks.
#pragma once

#include "tests/progs/oracle.hpp"

#include <string>
#include <vector>

namespace oracle {

struct KnownDifference {
    std::string program;
    std::string input;
    std::string aspect;
    std::string why;
    int line = 0;

    bool matches(const Difference& d) const {
        return d.program == program && (input == "*" || d.input == input) && d.aspect == aspect;
    }
};

// The list's entries; a line that is not an entry or a comment (#) is an error naming the line.
struct KnownDifferences {
    std::vector<KnownDifference> entries;
    std::vector<std::string> errors;
};

KnownDifferences read_known_differences(const std::string& path);

} // namespace oracle
