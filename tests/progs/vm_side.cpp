#include "tests/progs/vm_side.hpp"

#include "maps/perf_event_array.hpp"
#include "maps/ringbuf.hpp"

#include <fstream>
#include <iterator>
#include <sys/prctl.h>
#include <unistd.h>

namespace oracle {
namespace {

using ebpf::MapType;

class VmMap final : public MapView {
  public:
    explicit VmMap(ebpf::Map& map) : map_(map) {}

    MapType type() const override { return map_.type(); }
    uint32_t key_size() const override { return map_.def().key_size; }
    uint32_t value_size() const override { return map_.def().value_size; }
    uint32_t max_entries() const override { return map_.def().max_entries; }
    uint32_t ncpus() const override { return map_.ncpus(); }

    long next_key(const void* key, void* next) override { return map_.get_next_key(key, next); }
    long lookup(const void* key, void* value) override { return map_.sys_lookup(key, value); }
    long pop(void* value) override { return map_.sys_lookup_and_delete(nullptr, value); }
    long push(const void* value) override { return map_.sys_update(nullptr, value, 0); }

    std::vector<Record> consume() override {
        std::vector<Record> records;
        if (type() == MapType::ringbuf) {
            for (auto& r : static_cast<ebpf::RingBufMap&>(map_).consume())
                records.push_back({0, std::move(r)});
        } else if (type() == MapType::perf_event_array) {
            auto& perf = static_cast<ebpf::PerfEventArrayMap&>(map_);
            for (uint32_t cpu = 0; cpu < map_.ncpus(); ++cpu) {
                for (auto& r : perf.consume(cpu)) {
                    // perf_buffer hands over the raw sample's size field, which the kernel
                    // rounds up so that the size and the data end 8-byte aligned, the padding
                    // zeroed: deliver the record as a perf_buffer user would get it.
                    r.resize(((r.size() + 4 + 7) & ~size_t{7}) - 4, 0);
                    records.push_back({cpu, std::move(r)});
                }
                if (uint64_t lost = perf.lost(cpu) - lost_reported_[cpu]) {
                    lost_reported_[cpu] += lost;
                    records.push_back({cpu, pkt::text("lost " + std::to_string(lost))});
                }
            }
        }
        return records;
    }

  private:
    ebpf::Map& map_;
    std::map<uint32_t, uint64_t> lost_reported_;
};

// The task the kernel's test run happens in: this thread of this process.
ebpf::TaskIdentity current_task() {
    ebpf::TaskIdentity task;
    task.pid = static_cast<uint32_t>(gettid());
    task.tgid = static_cast<uint32_t>(getpid());
    task.uid = getuid();
    task.gid = getgid();
    prctl(PR_GET_NAME, task.comm.data());
    return task;
}

std::vector<uint8_t> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string file_name(const std::string& path) {
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

} // namespace

std::unique_ptr<VmObject> VmObject::open(const std::string& path, uint32_t ncpus, Engine engine,
                                         std::string* error) {
    std::unique_ptr<VmObject> vo(new VmObject);
    vo->vm_ = std::make_unique<ebpf::Vm>();
    const auto bytes = read_file(path);
    if (bytes.empty()) {
        *error = "cannot read " + path;
        return nullptr;
    }
    ebpf::ObjectOptions options;
    options.ncpus = ncpus;
    auto obj = ebpf::LoadedObject::open(bytes, file_name(path), *vo->vm_, options);
    if (!obj) {
        *error = obj.error().to_string();
        return nullptr;
    }
    vo->obj_.emplace(std::move(*obj));
    std::string refused;
    for (const auto& p : vo->obj_->programs()) {
        if (p.program) continue;
        refused +=
            (refused.empty() ? "" : "; ") + p.name + " refused by the verifier: " + p.verdict.error;
    }
    if (!refused.empty()) {
        *error = refused;
        return nullptr;
    }
    for (const auto& p : vo->obj_->programs()) {
        if (engine != Engine::jit) break;
        auto jitted = ebpf::jit_compile(*p.program);
        if (!jitted) {
            *error = p.name + " does not compile: " + jitted.error().to_string();
            return nullptr;
        }
        vo->jitted_.emplace(p.name, std::move(*jitted));
    }
    const auto& specs = vo->obj_->map_specs();
    for (size_t i = 0; i < specs.size(); ++i)
        if (vo->obj_->maps()[i])
            vo->maps_[specs[i].def.name] = std::make_unique<VmMap>(*vo->obj_->maps()[i]);
    return vo;
}

std::string VmObject::setup(const MapSetup& s) {
    auto map = obj_->map(s.map);
    if (!map) return "no map " + s.map;
    if (long err = map->sys_update(s.key.data(), s.value.data(), ebpf::BPF_ANY))
        return "update of " + s.map + ": " + std::to_string(err);
    return "";
}

Outcome VmObject::run(const std::string& program, const Input& input, uint32_t cpu) {
    Outcome out;
    const ebpf::LoadedProgram* p = obj_->program(program);
    if (!p) {
        out.error = "no program " + program;
        return out;
    }
    ebpf::TestRunInput in;
    in.data = input.data;
    if (input.ctx) in.ctx = std::span<const uint8_t>(*input.ctx);
    // The kernel gives a ctx_out back for the packet types only.
    in.ctx_out = input.ctx.has_value() && !input.data.empty();
    in.max_ctx_offset = p->verdict.max_ctx_offset;
    auto ctx = ebpf::make_test_run_context(p->type, in);
    if (!ctx) {
        const auto name = ebpf::test_run_errno(ctx.error());
        out.error = name.empty() ? ctx.error().to_string() : std::string(name);
    } else {
        // The same input as the kernel's: its CPU, and its task for the helpers that report it.
        const ebpf::TaskIdentity task = current_task();
        ebpf::RunOptions options;
        options.cpu = cpu;
        options.task = &task;
        if (auto jitted = jitted_.find(program); jitted != jitted_.end()) {
            options.engine = [jit = &jitted->second](const ebpf::RunArgs& args,
                                                     ebpf::RunState& state) {
                return jit->run(args, state);
            };
        }
        auto result = obj_->run(*p, **ctx, options);
        if (!result) {
            out.error = "run failed: " + result.error().to_string();
        } else {
            out.r0 = static_cast<uint32_t>(result->r0);
            out.packet = (*ctx)->data_out();
            if (in.ctx_out) out.ctx = (*ctx)->ctx_out();
        }
    }
    out.maps = dump();
    return out;
}

std::optional<uint64_t> VmObject::insns_processed(const std::string& program) const {
    const ebpf::LoadedProgram* p = obj_->program(program);
    if (!p) return std::nullopt;
    return p->verdict.insns_processed;
}

std::map<std::string, Dump> VmObject::dump() {
    std::map<std::string, Dump> dumps;
    for (auto& [name, view] : maps_)
        dumps[name] = dump_map(*view);
    return dumps;
}

} // namespace oracle
