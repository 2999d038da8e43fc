#include "vm/loader/host.hpp"

#include "vm/loader/object.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <mutex>
#include <vector>

#if __has_include(<sys/utsname.h>)
#include <sys/utsname.h>
#define EBPF_HAVE_UNAME 1
#endif
#ifdef EBPF_HAVE_ZLIB
#include <zlib.h>
#endif

namespace ebpf::loader::host {
namespace {

std::optional<std::vector<uint8_t>> read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in),
                               std::istreambuf_iterator<char>()};
    if (in.bad()) return std::nullopt;
    return bytes;
}

#ifdef EBPF_HAVE_UNAME
// uname's release and system name, only on Linux.
std::optional<std::string> linux_release() {
    utsname u{};
    if (uname(&u) != 0 || std::string(u.sysname) != "Linux") return std::nullopt;
    return std::string(u.release);
}
#else
std::optional<std::string> linux_release() {
    return std::nullopt;
}
#endif

} // namespace

std::shared_ptr<const btf::Btf> kernel_btf() {
    static std::once_flag once;
    static std::shared_ptr<const btf::Btf> btf;
    std::call_once(once, [] {
        const auto bytes = read_bytes("/sys/kernel/btf/vmlinux");
        if (!bytes) return;
        if (auto parsed = parse_target_btf(*bytes)) btf = *parsed;
    });
    return btf;
}

std::optional<std::string> kernel_config() {
    if (const auto release = linux_release())
        if (auto text = read_config_file("/boot/config-" + *release)) return *text;
    if (auto text = read_config_file("/proc/config.gz")) return *text;
    return std::nullopt;
}

std::optional<uint32_t> kernel_version() {
    const auto release = linux_release();
    unsigned major = 0, minor = 0, patch = 0;
    if (!release || std::sscanf(release->c_str(), "%u.%u.%u", &major, &minor, &patch) != 3)
        return std::nullopt;
    return (major << 16) + (minor << 8) + std::min(patch, 255u);
}

Result<std::string> read_config_file(const std::string& path) {
    auto bytes = read_bytes(path);
    if (!bytes) return Error{"cannot read " + path, std::nullopt};
    const bool gzip = bytes->size() >= 2 && (*bytes)[0] == 0x1f && (*bytes)[1] == 0x8b;
    if (!gzip) return std::string(bytes->begin(), bytes->end());
#ifdef EBPF_HAVE_ZLIB
    // gzopen reads /proc files, whose size stat() reports as 0, as a stream.
    gzFile file = gzopen(path.c_str(), "rb");
    if (!file) return Error{"cannot open " + path, std::nullopt};
    std::string text;
    char buf[16384];
    int n;
    while ((n = gzread(file, buf, sizeof buf)) > 0)
        text.append(buf, static_cast<size_t>(n));
    const bool ok = n == 0;
    gzclose(file);
    if (!ok) return Error{path + ": corrupt gzip data", std::nullopt};
    return text;
#else
    return Error{path + " is gzip-compressed and this build has no zlib", std::nullopt};
#endif
}

} // namespace ebpf::loader::host
