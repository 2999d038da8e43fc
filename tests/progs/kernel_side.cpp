#include "tests/progs/kernel_side.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <unistd.h>

#include <map>

namespace oracle {
namespace {

using ebpf::MapType;

// libbpf's messages of the current load, for the report when the kernel refuses an object.
std::string libbpf_log;

int capture_print(enum libbpf_print_level level, const char* fmt, va_list args) {
    if (level == LIBBPF_DEBUG) return 0;
    char line[1024];
    vsnprintf(line, sizeof line, fmt, args);
    libbpf_log += line;
    return 0;
}

std::string errno_name(int err) {
    const char* name = strerrorname_np(err);
    return name ? name : "errno " + std::to_string(err);
}

// The verifier's log of a refused object's programs, its last lines: the object loaded again at
// log level 1 (the statistics level the oracle loads with logs no errors).
std::string refusal_log(const std::string& path) {
    bpf_object* obj = bpf_object__open_file(path.c_str(), nullptr);
    if (!obj) return "";
    std::map<std::string, std::string> logs;
    bpf_program* p;
    bpf_object__for_each_program(p, obj) {
        std::string& log = logs[bpf_program__name(p)];
        log.assign(1 << 24, '\0');
        bpf_program__set_log_level(p, 1);
        bpf_program__set_log_buf(p, log.data(), log.size());
    }
    bpf_object__load(obj);
    bpf_object__close(obj);
    std::string tails;
    for (auto& [name, log] : logs) {
        log.resize(std::strlen(log.c_str()));
        size_t start = log.size();
        for (int lines = 0; start > 0 && lines < 8; lines += log[start - 1] == '\n')
            --start;
        if (!log.empty()) tails += "\n" + name + ": ..." + log.substr(start);
    }
    return tails;
}

long syscall_result(int ret) {
    return ret < 0 ? -errno : 0;
}

class KernelMap final : public MapView {
  public:
    explicit KernelMap(bpf_map* map) : map_(map), fd_(bpf_map__fd(map)) {}

    MapType type() const override { return static_cast<MapType>(bpf_map__type(map_)); }
    uint32_t key_size() const override { return bpf_map__key_size(map_); }
    uint32_t value_size() const override { return bpf_map__value_size(map_); }
    uint32_t max_entries() const override { return bpf_map__max_entries(map_); }
    uint32_t ncpus() const override { return static_cast<uint32_t>(libbpf_num_possible_cpus()); }

    long next_key(const void* key, void* next) override {
        return syscall_result(bpf_map_get_next_key(fd_, key, next));
    }
    long lookup(const void* key, void* value) override {
        return syscall_result(bpf_map_lookup_elem(fd_, key, value));
    }
    long pop(void* value) override {
        return syscall_result(bpf_map_lookup_and_delete_elem(fd_, nullptr, value));
    }
    long push(const void* value) override {
        return syscall_result(bpf_map_update_elem(fd_, nullptr, value, BPF_ANY));
    }

    std::vector<Record> consume() override {
        if (ring_) ring_buffer__consume(ring_);
        if (perf_) perf_buffer__consume(perf_);
        return std::move(records_);
    }

    int fd() const { return fd_; }
    void set_ring(ring_buffer* ring) { ring_ = ring; }
    void set_perf(perf_buffer* perf) { perf_ = perf; }

    static int on_ring_record(void* self, void* data, size_t size) {
        auto* p = static_cast<const uint8_t*>(data);
        static_cast<KernelMap*>(self)->records_.push_back({0, Bytes(p, p + size)});
        return 0;
    }
    static void on_perf_record(void* self, int cpu, void* data, __u32 size) {
        auto* p = static_cast<const uint8_t*>(data);
        static_cast<KernelMap*>(self)->records_.push_back(
            {static_cast<uint32_t>(cpu), Bytes(p, p + size)});
    }
    static void on_perf_lost(void* self, int cpu, __u64 count) {
        static_cast<KernelMap*>(self)->records_.push_back(
            {static_cast<uint32_t>(cpu), pkt::text("lost " + std::to_string(count))});
    }

  private:
    bpf_map* map_;
    int fd_;
    ring_buffer* ring_ = nullptr;
    perf_buffer* perf_ = nullptr;
    std::vector<Record> records_;
};

} // namespace

std::unique_ptr<KernelObject> KernelObject::load(const std::string& path, std::string* error) {
    libbpf_log.clear();
    libbpf_set_print(capture_print);
    std::unique_ptr<KernelObject> ko(new KernelObject);
    ko->obj_ = bpf_object__open_file(path.c_str(), nullptr);
    if (!ko->obj_) {
        *error = "bpf_object__open_file: " + libbpf_log;
        return nullptr;
    }
    // The verifier's statistics for each program (log level 4: BPF_LOG_STATS).
    bpf_program* p;
    bpf_object__for_each_program(p, ko->obj_) {
        std::string& log = ko->stats_[bpf_program__name(p)];
        log.assign(4096, '\0');
        bpf_program__set_log_level(p, 4);
        bpf_program__set_log_buf(p, log.data(), log.size());
    }
    if (bpf_object__load(ko->obj_) != 0) {
        *error = "bpf_object__load: " + libbpf_log + refusal_log(path);
        return nullptr;
    }
    bpf_map* m;
    bpf_object__for_each_map(m, ko->obj_) {
        ko->maps_[bpf_map__name(m)] = std::make_unique<KernelMap>(m);
    }
    if (!ko->open_consumers(error)) return nullptr;
    return ko;
}

std::optional<uint64_t> KernelObject::insns_processed(const std::string& program) const {
    const auto it = stats_.find(program);
    if (it == stats_.end()) return std::nullopt;
    unsigned long long n = 0;
    const size_t at = it->second.find("processed ");
    if (at == std::string::npos || std::sscanf(it->second.c_str() + at, "processed %llu", &n) != 1)
        return std::nullopt;
    return n;
}

bool KernelObject::open_consumers(std::string* error) {
    for (auto& [name, view] : maps_) {
        auto& km = static_cast<KernelMap&>(*view);
        if (km.type() == MapType::ringbuf) {
            ring_buffer* rb = ring_buffer__new(km.fd(), KernelMap::on_ring_record, &km, nullptr);
            if (!rb) {
                *error = "ring_buffer__new(" + name + "): " + strerror(errno);
                return false;
            }
            rings_.push_back(rb);
            km.set_ring(rb);
        } else if (km.type() == MapType::perf_event_array) {
            // Opens a perf event on each CPU and stores it in the map, as a tool would.
            perf_buffer* pb = perf_buffer__new(km.fd(), 8, KernelMap::on_perf_record,
                                               KernelMap::on_perf_lost, &km, nullptr);
            if (!pb) {
                *error = "perf_buffer__new(" + name + "): " + strerror(errno);
                return false;
            }
            perfs_.push_back(pb);
            km.set_perf(pb);
        }
    }
    return true;
}

KernelObject::~KernelObject() {
    for (auto* rb : rings_)
        ring_buffer__free(rb);
    for (auto* pb : perfs_)
        perf_buffer__free(pb);
    bpf_object__close(obj_);
}

int KernelObject::program_type(const std::string& program) const {
    bpf_program* p = bpf_object__find_program_by_name(obj_, program.c_str());
    return p ? static_cast<int>(bpf_program__type(p)) : -1;
}

std::string KernelObject::setup(const MapSetup& s) {
    auto it = maps_.find(s.map);
    if (it == maps_.end()) return "no map " + s.map;
    auto& km = static_cast<KernelMap&>(*it->second);
    if (bpf_map_update_elem(km.fd(), s.key.data(), s.value.data(), BPF_ANY) != 0)
        return "update of " + s.map + ": " + strerror(errno);
    return "";
}

Outcome KernelObject::run(const std::string& program, const Input& input, uint32_t cpu) {
    Outcome out;
    bpf_program* p = bpf_object__find_program_by_name(obj_, program.c_str());
    if (!p) {
        out.error = "no program " + program;
        return out;
    }
    const bool raw_tp = bpf_program__type(p) == BPF_PROG_TYPE_RAW_TRACEPOINT;
    Bytes data_out(input.data.empty() ? 0 : 64 * 1024);
    Bytes ctx_out(input.ctx && !input.data.empty() ? 1024 : 0);
    LIBBPF_OPTS(bpf_test_run_opts, opts);
    if (!input.data.empty()) {
        opts.data_in = input.data.data();
        opts.data_size_in = static_cast<__u32>(input.data.size());
        opts.data_out = data_out.data();
        opts.data_size_out = static_cast<__u32>(data_out.size());
    }
    if (input.ctx) {
        opts.ctx_in = input.ctx->data();
        opts.ctx_size_in = static_cast<__u32>(input.ctx->size());
    }
    if (!ctx_out.empty()) {
        opts.ctx_out = ctx_out.data();
        opts.ctx_size_out = static_cast<__u32>(ctx_out.size());
    }
    if (raw_tp) {
        opts.flags = BPF_F_TEST_RUN_ON_CPU;
        opts.cpu = cpu;
    }
    if (bpf_prog_test_run_opts(bpf_program__fd(p), &opts) != 0) {
        out.error = errno_name(errno);
    } else {
        out.r0 = opts.retval;
        data_out.resize(input.data.empty() ? 0 : opts.data_size_out);
        out.packet = std::move(data_out);
        if (!ctx_out.empty()) {
            ctx_out.resize(opts.ctx_size_out);
            out.ctx = std::move(ctx_out);
        }
    }
    out.maps = dump();
    return out;
}

std::map<std::string, Dump> KernelObject::dump() {
    std::map<std::string, Dump> dumps;
    for (auto& [name, view] : maps_)
        dumps[name] = dump_map(*view);
    return dumps;
}

bool kernel_available(std::string* why) {
    const bpf_insn prog[] = {
        {BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0},
        {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
    };
    for (bpf_prog_type type : {BPF_PROG_TYPE_SCHED_CLS, BPF_PROG_TYPE_KPROBE}) {
        const int fd = bpf_prog_load(type, "probe", "GPL", prog, 2, nullptr);
        if (fd < 0) {
            const int err = errno;
            *why = std::string("bpf(BPF_PROG_LOAD) failed: ") + strerror(err) +
                   (err == EPERM || err == EACCES
                        ? " (the kernel oracle needs root: CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN)"
                        : "");
            return false;
        }
        close(fd);
    }
    return true;
}

} // namespace oracle
