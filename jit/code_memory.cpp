#include "jit/code_memory.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace ebpf::jit {

Result<CodeMemory> CodeMemory::allocate(size_t size) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t mapped = (size + page - 1) / page * page;
    void* p = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return Error{std::string("cannot map code memory: ") + std::strerror(errno), std::nullopt};
    return CodeMemory(static_cast<uint8_t*>(p), size, mapped);
}

CodeMemory::CodeMemory(CodeMemory&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)), size_(std::exchange(other.size_, 0)),
      mapped_(std::exchange(other.mapped_, 0)) {}

CodeMemory& CodeMemory::operator=(CodeMemory&& other) noexcept {
    if (this != &other) {
        release();
        base_ = std::exchange(other.base_, nullptr);
        size_ = std::exchange(other.size_, 0);
        mapped_ = std::exchange(other.mapped_, 0);
    }
    return *this;
}

CodeMemory::~CodeMemory() {
    release();
}

void CodeMemory::release() {
    if (base_) munmap(base_, mapped_);
    base_ = nullptr;
}

Status CodeMemory::make_executable() {
    // A no-op on x86-64; arm64 must drop stale instruction-cache lines for the new code.
    __builtin___clear_cache(reinterpret_cast<char*>(base_), reinterpret_cast<char*>(base_ + size_));
    if (mprotect(base_, mapped_, PROT_READ | PROT_EXEC) != 0)
        return Error{std::string("cannot make code memory executable: ") + std::strerror(errno),
                     std::nullopt};
    return std::nullopt;
}

} // namespace ebpf::jit
