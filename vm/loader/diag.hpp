// How the loader's errors are spelled: a message with no instruction, names in quotes.
#pragma once

#include "vm/isa/result.hpp"

#include <string>
#include <string_view>

namespace ebpf::loader {

inline Error fail(std::string message) {
    return Error{std::move(message), std::nullopt};
}

inline std::string quote(std::string_view s) {
    return "'" + std::string(s) + "'";
}

} // namespace ebpf::loader
