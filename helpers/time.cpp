// Clock helpers: bpf_ktime_get_ns (CLOCK_MONOTONIC), bpf_ktime_get_boot_ns (CLOCK_BOOTTIME, which
// counts suspend), bpf_ktime_get_coarse_ns (CLOCK_MONOTONIC_COARSE), bpf_ktime_get_tai_ns
// (CLOCK_TAI: the wall clock plus the TAI offset the host's kernel keeps), bpf_jiffies64.
#include "helpers/kernel_helpers.hpp"

#include <chrono>
#include <ctime>

namespace ebpf::helpers {
namespace {

uint64_t clock_ns([[maybe_unused]] int posix_clock) {
#if defined(__linux__)
    timespec ts{};
    clock_gettime(posix_clock, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
#else
    const auto now = std::chrono::steady_clock::now().time_since_epoch();
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
#endif
}

#if defined(__linux__)
constexpr int monotonic = CLOCK_MONOTONIC, boottime = CLOCK_BOOTTIME,
              coarse = CLOCK_MONOTONIC_COARSE;
#else
constexpr int monotonic = 0, boottime = 0, coarse = 0;
#endif

// TAI is UTC plus the leap seconds so far: 37 since 2017 (where the host has no CLOCK_TAI; on
// Linux the kernel adds the offset NTP gave it, 0 when none did).
constexpr uint64_t tai_minus_utc_ns = 37'000'000'000;

uint64_t tai_ns() {
#if defined(__linux__)
    return clock_ns(CLOCK_TAI);
#else
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    return static_cast<uint64_t>(
               std::chrono::duration_cast<std::chrono::nanoseconds>(now).count()) +
           tai_minus_utc_ns;
#endif
}

// The tick count: Debian's CONFIG_HZ, and the kernel's INITIAL_JIFFIES (five minutes before the
// 32-bit counter wraps) at boot.
constexpr uint64_t hz = 250;
constexpr uint64_t initial_jiffies = uint64_t{static_cast<uint32_t>(-300 * static_cast<int>(hz))};

} // namespace

uint64_t ktime_get_ns(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunState*) {
    return clock_ns(monotonic);
}

uint64_t ktime_get_boot_ns(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunState*) {
    return clock_ns(boottime);
}

uint64_t ktime_get_coarse_ns(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunState*) {
    return clock_ns(coarse);
}

uint64_t ktime_get_tai_ns(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunState*) {
    return tai_ns();
}

uint64_t jiffies64(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, RunState*) {
    return initial_jiffies + clock_ns(boottime) / (1'000'000'000 / hz);
}

} // namespace ebpf::helpers
