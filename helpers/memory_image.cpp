#include "helpers/memory_image.hpp"

#include "helpers/helper_errno.hpp"

#include <cstring>

namespace ebpf::helpers {
namespace {

constexpr uint64_t page_size = 4096;
constexpr uint64_t vsyscall_addr = 0xffffffffff600000;

// copy_from_kernel_nofault_allowed on x86-64 with 48-bit virtual addresses.
bool kernel_read_allowed(uint64_t addr) {
    if (addr < task_size + page_size) return false;
    if ((addr & ~(page_size - 1)) == vsyscall_addr) return false;
    return (addr >> 47) == 0x1ffff; // canonical: bits 63-47 all set
}

// Copies [src, src + size) from the image, across adjacent pieces; false at the first byte no
// piece holds.
bool copy_from_image(std::span<const MemoryImage> image, void* dst, uint64_t src, uint64_t size) {
    auto* out = static_cast<uint8_t*>(dst);
    while (size) {
        const MemoryImage* piece = nullptr;
        for (const MemoryImage& m : image)
            if (src >= m.addr && src - m.addr < m.bytes.size()) piece = &m;
        if (!piece) return false;
        const uint64_t off = src - piece->addr;
        const uint64_t n = std::min<uint64_t>(size, piece->bytes.size() - off);
        std::memcpy(out, piece->bytes.data() + off, n);
        out += n, src += n, size -= n;
    }
    return true;
}

// One byte of kernel memory: 0, -ERANGE or -EFAULT.
long kernel_byte(const RunState& state, uint64_t addr, char* out) {
    if (state.accessible(addr, 1, false)) {
        *out = *reinterpret_cast<const char*>(addr);
        return 0;
    }
    if (!kernel_read_allowed(addr)) return -herr::erange;
    return copy_from_image(state.kernel_memory, out, addr, 1) ? 0 : -herr::efault;
}

long user_byte(const RunState& state, uint64_t addr, char* out) {
    if (addr >= task_size) return -herr::efault;
    return copy_from_image(state.user_memory, out, addr, 1) ? 0 : -herr::efault;
}

// The loop both strncpy_from_*_nofault share.
template <typename ReadByte>
long strncpy_nofault(char* dst, uint64_t src, uint64_t count, ReadByte read_byte) {
    if (count == 0) return 0;
    uint64_t n = 0;
    do {
        if (long err = read_byte(src + n, dst + n)) return err;
        ++n;
    } while (dst[n - 1] && n < count);
    dst[n - 1] = 0;
    return static_cast<long>(n);
}

} // namespace

long copy_from_kernel(const RunState& state, void* dst, uint64_t src, uint64_t size) {
    if (size && state.accessible(src, size, false)) {
        std::memcpy(dst, reinterpret_cast<const void*>(src), size);
        return 0;
    }
    if (!kernel_read_allowed(src)) return -herr::erange;
    return copy_from_image(state.kernel_memory, dst, src, size) ? 0 : -herr::efault;
}

long copy_from_user(const RunState& state, void* dst, uint64_t src, uint64_t size) {
    // access_ok: the whole range below TASK_SIZE
    if (src > task_size || size > task_size - src) return -herr::efault;
    return copy_from_image(state.user_memory, dst, src, size) ? 0 : -herr::efault;
}

long strncpy_from_kernel(const RunState& state, char* dst, uint64_t src, uint64_t count) {
    if (count && !state.accessible(src, 1, false) && !kernel_read_allowed(src))
        return -herr::erange;
    return strncpy_nofault(dst, src, count,
                           [&](uint64_t a, char* out) { return kernel_byte(state, a, out); });
}

long strncpy_from_user(const RunState& state, char* dst, uint64_t src, uint64_t count) {
    return strncpy_nofault(dst, src, count,
                           [&](uint64_t a, char* out) { return user_byte(state, a, out); });
}

} // namespace ebpf::helpers
