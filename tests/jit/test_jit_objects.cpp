// Compiled C programs (tests/jit/progs) through LoadedObject, once in the interpreter and once in
// the JIT, each on a fresh copy of the object: the same r0, packet and map contents. Covers the
// real bpf_tail_call, bpf_loop and bpf_for_each_map_elem helpers, map and global-data lddw forms,
// and context rewrites.
#include "jit/jit.hpp"
#include "vm/loaded_object.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

using namespace ebpf;

namespace {

std::vector<uint8_t> object_bytes(const std::string& name) {
    const std::string path = std::string(EBPF_JIT_PROGS_DIR) + "/" + name + ".o";
    std::ifstream in(path, std::ios::binary);
    INFO("reading " << path);
    REQUIRE(in);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Ethernet, IPv4 and UDP headers, then 64 bytes of payload.
std::vector<uint8_t> udp_packet() {
    std::vector<uint8_t> p = {
        0x02, 0,    0,    0,    0, 0x01, 0x02, 0, 0,  0,  0, 0x02, 0x08, 0x00, // eth
        0x45, 0,    0,    92,   0, 1,    0,    0, 64, 17, 0, 0,    10,   0,
        0,    1,    10,   0,    0, 2,             // ip
        0x30, 0x39, 0x00, 0x35, 0, 72,   0,    0, // udp 12345 -> 53
    };
    for (int i = 0; i < 64; ++i)
        p.push_back(static_cast<uint8_t>(i * 7 + 3));
    return p;
}

// Every map's contents (prog arrays aside), as the syscall sees them.
using Contents = std::map<std::string, std::map<std::vector<uint8_t>, std::vector<uint8_t>>>;

Contents contents(const LoadedObject& obj) {
    Contents out;
    for (const auto& map : obj.maps()) {
        if (map->type() == MapType::prog_array) continue;
        auto& entries = out[map->def().name];
        std::vector<uint8_t> key(map->def().key_size), next(key.size());
        std::vector<uint8_t> value(map->def().value_size * map->ncpus() + 8 * map->ncpus());
        for (const void* prev = nullptr; map->get_next_key(prev, next.data()) == 0;) {
            key = next;
            prev = key.data();
            if (map->sys_lookup(key.data(), value.data()) == 0) entries[key] = value;
        }
    }
    return out;
}

struct Outcome {
    Result<RunResult> result{Error{"not run", std::nullopt}};
    std::vector<uint8_t> packet;
    Contents maps;
};

// One run of `program` on a fresh copy of `object`: the interpreter's, or the JIT's. Verified
// programs run through LoadedObject::run (the JIT as RunOptions::engine); with verify off, the
// same fast-mode runs are made directly, for programs the verifier cannot check yet.
Outcome run(const std::string& object, const std::string& program, bool jit, bool verify) {
    const Vm vm;
    const auto bytes = object_bytes(object);
    ObjectOptions oo;
    oo.verify = verify;
    auto obj = LoadedObject::open(bytes, object, vm, oo);
    INFO((obj ? std::string() : obj.error().to_string()));
    REQUIRE(obj.ok());
    const LoadedProgram* p = obj->program(program);
    REQUIRE(p);
    INFO(p->verdict.error);
    REQUIRE(p->program);
    const auto packet = udp_packet();
    TestRunInput input;
    input.data = packet;
    auto ctx = make_test_run_context(p->type, input);
    REQUIRE(ctx.ok());
    JitCache cache;
    const JitProgram* code = nullptr;
    if (jit) {
        auto jitted = cache.get(*p->program);
        REQUIRE(jitted.ok());
        code = *jitted;
    }
    Outcome out;
    if (verify) {
        RunOptions options;
        if (code)
            options.engine = [code](const RunArgs& args, RunState& state) {
                return code->run(args, state);
            };
        out.result = obj->run(*p, **ctx, options);
    } else {
        RunState state;
        REQUIRE_FALSE((*ctx)->attach(state));
        RunArgs args;
        args.r1 = reinterpret_cast<uint64_t>((*ctx)->ctx());
        out.result = code ? code->run(args, state) : interpret(*p->program, args, state);
    }
    out.packet = (*ctx)->data_out();
    out.maps = contents(*obj);
    return out;
}

Outcome same_in_both(const std::string& object, const std::string& program, bool verify) {
    const Outcome expected = run(object, program, false, verify);
    const Outcome got = run(object, program, true, verify);
    INFO(program << ": interpreter "
                 << (expected.result ? std::to_string(expected.result->r0)
                                     : expected.result.error().to_string())
                 << ", JIT "
                 << (got.result ? std::to_string(got.result->r0) : got.result.error().to_string()));
    REQUIRE(expected.result.ok() == got.result.ok());
    if (got.result) CHECK(got.result->r0 == expected.result->r0);
    CHECK(got.packet == expected.packet);
    CHECK(got.maps == expected.maps);
    return got;
}

uint64_t global(const Outcome& out, const std::string& map, size_t offset) {
    const auto& value = out.maps.at(map).begin()->second;
    uint64_t v = 0;
    std::memcpy(&v, value.data() + offset, sizeof v);
    return v;
}

} // namespace

TEST_CASE("C programs with tail calls and callbacks run alike in the JIT and the interpreter") {
    // The verifier does not check callbacks yet: these run unverified, in fast mode.
    const Outcome chain = same_in_both("jit_parity", "entry", false);
    CHECK(chain.result->r0 == 3); // XDP_TX from stage2
    const auto bss = std::find_if(chain.maps.begin(), chain.maps.end(),
                                  [](const auto& m) { return m.first.ends_with(".bss"); });
    REQUIRE(bss != chain.maps.end());
    CHECK(global(chain, bss->first, 0) == 123); // entry, stage1, stage2
    CHECK(global(chain, bss->first, 8) == 64);  // bpf_loop's iterations
    same_in_both("jit_parity", "stage1", false);

    for (bool verify : {false, true}) {
        const Outcome limit = same_in_both("jit_parity", "again", verify);
        CHECK(limit.result->r0 == 2); // XDP_PASS after 1 + 33 runs
        same_in_both("jit_parity", "stage2", verify);
    }
}
