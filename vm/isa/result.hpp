// Result<T>: a value or an error that names where it happened. Nothing on the load and
// execution paths throws; every stage returns one of these.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace ebpf {

struct Error {
    std::string message;
    std::optional<size_t> insn; // instruction index, when the error is about one

    std::string to_string() const {
        return insn ? "insn " + std::to_string(*insn) + ": " + message : message;
    }
};

inline Error error_at(size_t insn, std::string message) {
    return Error{std::move(message), insn};
}

template <typename T> class Result {
  public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error error) : v_(std::move(error)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() { return std::get<0>(v_); }
    const T& value() const { return std::get<0>(v_); }
    T& operator*() { return value(); }
    const T& operator*() const { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    const Error& error() const { return std::get<1>(v_); }

  private:
    std::variant<T, Error> v_;
};

// For stages that produce nothing but may fail.
using Status = std::optional<Error>;

} // namespace ebpf
