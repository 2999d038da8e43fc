#include "tests/progs/known_differences.hpp"

#include <fstream>

namespace oracle {
namespace {

std::string trim(const std::string& s) {
    const size_t b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return "";
    return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

} // namespace

KnownDifferences read_known_differences(const std::string& path) {
    KnownDifferences list;
    std::ifstream in(path);
    if (!in) {
        list.errors.push_back("cannot read " + path);
        return list;
    }
    std::string text;
    for (int line = 1; std::getline(in, text); ++line) {
        text = trim(text);
        if (text.empty() || text[0] == '#') continue;
        std::vector<std::string> fields;
        size_t start = 0;
        // The reason is the rest of the line: it may contain '|'.
        for (int i = 0; i < 3; ++i) {
            const size_t bar = text.find('|', start);
            if (bar == std::string::npos) break;
            fields.push_back(trim(text.substr(start, bar - start)));
            start = bar + 1;
        }
        fields.push_back(trim(text.substr(start)));
        if (fields.size() != 4 || fields[0].empty() || fields[1].empty() || fields[2].empty() ||
            fields[3].empty()) {
            list.errors.push_back(path + ":" + std::to_string(line) +
                                  ": expected \"program | input | aspect | why\"");
            continue;
        }
        list.entries.push_back({fields[0], fields[1], fields[2], fields[3], line});
    }
    return list;
}

} // namespace oracle
