// Cross-check with libbpf itself (Linux only; link -lbpf): the same objects opened by
// bpf_object__open_file must give the same programs and maps. libbpf's gen_loader mode performs
// the relocation and subprogram linking without a kernel, using the same BPF_PSEUDO_MAP_IDX and
// BPF_PSEUDO_MAP_IDX_VALUE encoding as the loader, so the linked instructions compare one to one.
#include "tests/loader/loader_test.hpp"

#include <bpf/libbpf.h>

#include <cstring>
#include <memory>

using namespace ebpf;
using namespace ebpf::loader_test;

namespace {

struct ObjectCloser {
    void operator()(bpf_object* obj) const { bpf_object__close(obj); }
};
using BpfObject = std::unique_ptr<bpf_object, ObjectCloser>;

int quiet(enum libbpf_print_level, const char*, va_list) {
    return 0;
}

BpfObject open_with_libbpf(const std::string& path, const char* object_name = nullptr) {
    libbpf_set_print(quiet);
    LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = object_name);
    BpfObject obj(bpf_object__open_file(path.c_str(), &opts));
    INFO("libbpf opening " << path);
    REQUIRE(obj);
    return obj;
}

void compare_maps(bpf_object* theirs, const Object& ours) {
    size_t i = 0;
    bpf_map* m;
    bpf_object__for_each_map(m, theirs) {
        REQUIRE(i < ours.maps.size());
        const MapSpec& spec = ours.maps[i++];
        INFO("map " << bpf_map__name(m));
        CHECK(spec.def.name == bpf_map__name(m));
        CHECK(static_cast<uint32_t>(spec.def.type) == static_cast<uint32_t>(bpf_map__type(m)));
        CHECK(spec.def.key_size == bpf_map__key_size(m));
        CHECK(spec.def.value_size == bpf_map__value_size(m));
        CHECK(spec.def.max_entries == bpf_map__max_entries(m));
        CHECK(spec.def.map_flags == bpf_map__map_flags(m));
        CHECK(spec.map_extra == bpf_map__map_extra(m));
        CHECK(spec.btf_key_type_id == bpf_map__btf_key_type_id(m));
        CHECK(spec.btf_value_type_id == bpf_map__btf_value_type_id(m));
        if (bpf_map* inner = bpf_map__inner_map(m)) {
            REQUIRE(spec.inner);
            CHECK(spec.inner->name == bpf_map__name(inner));
            CHECK(static_cast<uint32_t>(spec.inner->type) ==
                  static_cast<uint32_t>(bpf_map__type(inner)));
            CHECK(spec.inner->key_size == bpf_map__key_size(inner));
            CHECK(spec.inner->value_size == bpf_map__value_size(inner));
            CHECK(spec.inner->max_entries == bpf_map__max_entries(inner));
        } else {
            CHECK_FALSE(spec.inner);
        }
        size_t size = 0;
        if (const void* init = bpf_map__initial_value(m, &size)) {
            REQUIRE(spec.global_data);
            // libbpf's buffer is the mmap()ed map, rounded up to a page.
            REQUIRE(size >= spec.initial_value.size());
            CHECK(std::memcmp(init, spec.initial_value.data(), spec.initial_value.size()) == 0);
        } else {
            CHECK_FALSE(spec.global_data);
        }
    }
    CHECK(i == ours.maps.size());
}

void compare_programs(bpf_object* theirs, const Object& ours) {
    size_t i = 0;
    bpf_program* p;
    bpf_object__for_each_program(p, theirs) {
        REQUIRE(i < ours.programs.size());
        const ProgramSpec& spec = ours.programs[i++];
        INFO("program " << bpf_program__name(p));
        CHECK(spec.name == bpf_program__name(p));
        CHECK(spec.section == bpf_program__section_name(p));
        CHECK(static_cast<uint32_t>(spec.type) == static_cast<uint32_t>(bpf_program__type(p)));
        // Before loading, libbpf counts the function's own instructions.
        CHECK(spec.func_info.size() >= 1);
        const size_t own = spec.func_info.size() > 1 ? spec.func_info[1].insn : spec.insns.size();
        CHECK(own == bpf_program__insn_cnt(p));
    }
    CHECK(i == ours.programs.size());
}

// Relocates and links through libbpf's gen_loader, which needs no kernel; loading itself may
// then fail (unspec programs, prog-array initialisers), but the instructions are final by then.
// Pinning would need a BPF file system, so it is turned off.
void compare_linked(bpf_object* theirs, const Object& ours) {
    LIBBPF_OPTS(gen_loader_opts, gen);
    REQUIRE(bpf_object__gen_loader(theirs, &gen) == 0);
    bpf_map* m;
    bpf_object__for_each_map(m, theirs) REQUIRE(bpf_map__set_pin_path(m, nullptr) == 0);
    bpf_object__load(theirs);
    size_t i = 0;
    bpf_program* p;
    bpf_object__for_each_program(p, theirs) {
        REQUIRE(i < ours.programs.size());
        const ProgramSpec& spec = ours.programs[i++];
        INFO("program " << spec.name);
        REQUIRE(spec.insns.size() == bpf_program__insn_cnt(p));
        const bpf_insn* insns = bpf_program__insns(p);
        for (size_t k = 0; k < spec.insns.size(); k++) {
            INFO("insn " << k);
            CHECK(spec.insns[k].opcode == insns[k].code);
            CHECK(spec.insns[k].dst == insns[k].dst_reg);
            CHECK(spec.insns[k].src == insns[k].src_reg);
            CHECK(spec.insns[k].off == insns[k].off);
            CHECK(spec.insns[k].imm == insns[k].imm);
        }
    }
}

} // namespace

TEST_CASE("libbpf agrees on programs, maps and linked instructions", "[loader][libbpf]") {
    for (const char* name : {"programs", "maps", "map_kinds", "globals", "sections", "text_only"}) {
        INFO(name);
        const Object ours = load(name);
        BpfObject theirs = open_with_libbpf(object_path(name));
        CHECK(ours.name == bpf_object__name(theirs.get()));
        compare_maps(theirs.get(), ours);
        compare_programs(theirs.get(), ours);
        compare_linked(theirs.get(), ours);
    }
}

TEST_CASE("libbpf agrees on global data map names for a long object name", "[loader][libbpf]") {
    const std::string long_name = "a_very_long_object_name";
    const auto bytes = object_bytes("globals");
    auto ours = load_elf(bytes, long_name + ".bpf.o");
    REQUIRE(ours);
    BpfObject theirs = open_with_libbpf(object_path("globals"), long_name.c_str());
    CHECK(ours->name == bpf_object__name(theirs.get()));
    compare_maps(theirs.get(), *ours);
}
