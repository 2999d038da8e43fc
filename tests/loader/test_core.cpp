// CO-RE relocations and externs, checked against libbpf itself: libbpf's bpf_object__load
// relocates every program (CO-RE, externs) before the kernel sees any, and keeps the relocated
// instructions whether or not the kernel then accepts them, so bpf_program__insns() is the
// oracle for the same object and the same target BTF.
#include "tests/loader/loader_test.hpp"

#include "vm/loader/btf.hpp"
#include "vm/loader/btf_match.hpp"
#include "vm/loader/core_relo.hpp"
#include "vm/loader/elf.hpp"
#include "vm/loader/externs.hpp"

#include <bpf/libbpf.h>

#include <cstring>
#include <filesystem>
#include <memory>

using namespace ebpf;
using namespace ebpf::loader_test;

namespace {

int quiet(enum libbpf_print_level, const char*, va_list) {
    return 0;
}

struct ObjectCloser {
    void operator()(bpf_object* obj) const { bpf_object__close(obj); }
};
using BpfObject = std::unique_ptr<bpf_object, ObjectCloser>;

// Opens and loads with libbpf; the load result does not matter (see above).
BpfObject libbpf_load(const std::string& path, const char* btf_path, const char* kconfig) {
    libbpf_set_print(quiet);
    LIBBPF_OPTS(bpf_object_open_opts, opts, .kconfig = kconfig, .btf_custom_path = btf_path);
    BpfObject obj(bpf_object__open_file(path.c_str(), &opts));
    INFO("libbpf opening " << path);
    REQUIRE(obj);
    bpf_object__load(obj.get());
    return obj;
}

// Every instruction equal, except that libbpf's map references hold file descriptors where
// ours hold map indices (the offset into a map value must agree).
void compare_insns(const ProgramSpec& ours, bpf_program* theirs) {
    INFO("program " << ours.name);
    REQUIRE(ours.insns.size() == bpf_program__insn_cnt(theirs));
    const bpf_insn* insns = bpf_program__insns(theirs);
    for (size_t k = 0; k < ours.insns.size(); k++) {
        INFO("insn " << k);
        const Insn& a = ours.insns[k];
        const bpf_insn& b = insns[k];
        CHECK(a.opcode == b.code);
        CHECK(a.dst == b.dst_reg);
        CHECK(a.off == b.off);
        const bool map_ref = a.opcode == BPF_LDDW &&
                             (a.src == BPF_PSEUDO_MAP_IDX_VALUE || a.src == BPF_PSEUDO_MAP_IDX);
        if (map_ref) {
            CHECK(b.src_reg ==
                  (a.src == BPF_PSEUDO_MAP_IDX ? BPF_PSEUDO_MAP_FD : BPF_PSEUDO_MAP_VALUE));
            CHECK(ours.insns[k + 1].imm == insns[k + 1].imm);
            k++;
            continue;
        }
        CHECK(a.src == b.src_reg);
        CHECK(a.imm == b.imm);
    }
}

std::shared_ptr<const btf::Btf> target_from(const std::string& name) {
    auto btf = parse_target_btf(object_bytes(name));
    INFO((btf ? "" : btf.error().to_string()));
    REQUIRE(btf);
    return *btf;
}

Object load_with(const std::string& name, const LoadOptions& options) {
    const auto bytes = object_bytes(name);
    auto obj = load_elf(bytes, object_path(name), options);
    INFO((obj ? std::string() : obj.error().to_string()));
    REQUIRE(obj);
    return std::move(*obj);
}

bool poisoned_at(const ProgramSpec& prog, uint32_t insn) {
    for (const auto& p : prog.poisoned)
        if (p.insn == insn) return true;
    return false;
}

} // namespace

TEST_CASE("CO-RE: every relocation kind against a drifted target, as libbpf relocates it",
          "[loader][core][libbpf]") {
    LoadOptions options;
    options.target_btf = target_from("core_target");
    options.host_defaults = false;
    const Object ours = load_with("core_reads", options);
    const ProgramSpec& prog = program(ours, "core_reads");
    BpfObject theirs =
        libbpf_load(object_path("core_reads"), object_path("core_target").c_str(), nullptr);
    compare_insns(prog, bpf_object__find_program_by_name(theirs.get(), "core_reads"));

    // A few values spelled out: pid moved into an anonymous union at 16, CS_SLEEPING is 20;
    // poisoned: the absent field's read, the old flavor's read, the signed `nice` that grew.
    CHECK(prog.insns[0].imm == 16);
    bool saw_enum = false, saw_poison = false;
    for (size_t i = 0; i < prog.insns.size(); i++) {
        const Insn& insn = prog.insns[i];
        saw_enum |= insn.opcode == BPF_LDDW && insn.imm == 20;
        if (insn.opcode == (BPF_JMP | BPF_CALL) && insn.imm == loader::POISON_CORE_RELO) {
            saw_poison = true;
            CHECK(poisoned_at(prog, static_cast<uint32_t>(i)));
        }
    }
    CHECK(saw_enum);
    CHECK(saw_poison);
    CHECK(prog.poisoned.size() == 3);
    for (const auto& p : prog.poisoned)
        CHECK_THAT(p.reason, Catch::Contains("CO-RE"));
}

TEST_CASE("CO-RE: against its own BTF a program keeps its compiled values", "[loader][core]") {
    LoadOptions options;
    options.host_defaults = false;
    const Object obj = load_with("core_reads", options);
    const ProgramSpec& prog = program(obj, "core_reads");
    CHECK(prog.poisoned.empty());
    // What libbpf makes of the object relocated against itself. That is not always the
    // compiled bytes: libbpf recomputes bitfield loads (4 bytes where clang wrote 8).
    BpfObject theirs =
        libbpf_load(object_path("core_reads"), object_path("core_reads").c_str(), nullptr);
    compare_insns(prog, bpf_object__find_program_by_name(theirs.get(), "core_reads"));
    const auto bytes = object_bytes("core_reads");
    auto elf = elf::File::parse(bytes);
    REQUIRE(elf);
    const elf::Section* sec = elf->find("raw_tracepoint/core");
    REQUIRE(sec);
    REQUIRE(prog.insns.size() * sizeof(Insn) == sec->data.size());
    size_t differ = 0;
    for (size_t i = 0; i < prog.insns.size(); i++)
        differ += std::memcmp(&prog.insns[i], sec->data.data() + i * sizeof(Insn), 8) != 0;
    CHECK(differ == 2); // the two bitfield load sizes
}

TEST_CASE("CO-RE: libbpf-tools style reads relocate against the running kernel like libbpf",
          "[loader][core][libbpf][kernel]") {
    if (!std::filesystem::exists("/sys/kernel/btf/vmlinux")) {
        WARN("no /sys/kernel/btf/vmlinux: skipped");
        return;
    }
    const Object ours = load("core_vmlinux");
    BpfObject theirs = libbpf_load(object_path("core_vmlinux"), nullptr, nullptr);
    compare_insns(program(ours, "core_task"),
                  bpf_object__find_program_by_name(theirs.get(), "core_task"));
}

TEST_CASE("CO-RE: TYPE_MATCHES follows libbpf's structural rules", "[loader][core]") {
    // clang 14 cannot emit bpf_core_type_matches(); the relation is checked on the test types.
    const auto local = target_from("core_reads");
    const auto target = target_from("core_target");
    auto id = [](const btf::Btf& b, std::string_view name, uint32_t kind) {
        for (uint32_t i = 1; i < b.type_count(); i++)
            if (b.type(i).kind == kind && b.name(b.type(i)) == name) return i;
        FAIL("no type " << name);
        return 0u;
    };
    core::MatchBudget budget;
    // Local core_mm's one member exists in the target with the same type: a match.
    auto mm = core::types_match(*local, id(*local, "core_mm", btf::BTF_KIND_STRUCT), *target,
                                id(*target, "core_mm", btf::BTF_KIND_STRUCT), budget);
    REQUIRE(mm);
    CHECK(*mm);
    // Local core_task has `missing` and a short `nice`: no match, though the types are compatible.
    const uint32_t lt = id(*local, "core_task", btf::BTF_KIND_STRUCT);
    const uint32_t tt = id(*target, "core_task", btf::BTF_KIND_STRUCT);
    auto task = core::types_match(*local, lt, *target, tt, budget);
    REQUIRE(task);
    CHECK_FALSE(*task);
    auto compat = core::types_are_compat(*local, lt, *target, tt, budget);
    REQUIRE(compat);
    CHECK(*compat);
    // Enums match by enumerator names, whatever their values.
    auto state = core::types_match(*local, id(*local, "core_state", btf::BTF_KIND_ENUM), *target,
                                   id(*target, "core_state", btf::BTF_KIND_ENUM), budget);
    REQUIRE(state);
    CHECK_FALSE(*state); // CS_LOCAL_ONLY has no counterpart
    CHECK(core::essential_name("task_struct___pre514") == "task_struct");
    CHECK(core::essential_name("a___") == "a___");
    CHECK(core::essential_name("____x") == "____x");
}

TEST_CASE("externs: kconfig values, layout and map as libbpf makes them",
          "[loader][externs][libbpf]") {
    const char* text = "CONFIG_TEST_BOOL=y\nCONFIG_TEST_TRISTATE=m\n# CONFIG_X is not set\n"
                       "CONFIG_TEST_CHAR=n\nCONFIG_TEST_ULONG=0x123456789\nCONFIG_TEST_INT=-5\n"
                       "CONFIG_TEST_USHORT=65535\nCONFIG_TEST_STR=\"abcdefghij\"\n";
    auto kconfig = parse_kconfig(text);
    REQUIRE(kconfig);
    LoadOptions options;
    options.kconfig = *kconfig;
    // libbpf asks the kernel, which has bpf_get_attach_cookie; this VM says 0 unless told.
    options.kconfig["LINUX_HAS_BPF_COOKIE"] = "y";
    const Object ours = load_with("externs", options);
    BpfObject theirs = libbpf_load(object_path("externs"), nullptr, text);
    compare_insns(program(ours, "read_externs"),
                  bpf_object__find_program_by_name(theirs.get(), "read_externs"));

    const MapSpec& spec = map(ours, "externs.kconfig");
    bpf_map* m = bpf_object__find_map_by_name(theirs.get(), ".kconfig");
    REQUIRE(m);
    CHECK(spec.def.value_size == bpf_map__value_size(m));
    CHECK(spec.def.map_flags == bpf_map__map_flags(m));
    CHECK(spec.btf_value_type_id == bpf_map__btf_value_type_id(m));
    size_t size = 0;
    const void* values = bpf_map__initial_value(m, &size);
    REQUIRE(values);
    REQUIRE(size >= spec.initial_value.size());
    CHECK(std::memcmp(values, spec.initial_value.data(), spec.initial_value.size()) == 0);
}

TEST_CASE("externs: strong ones left unresolved are errors naming them", "[loader][externs]") {
    LoadOptions options;
    options.host_defaults = false;
    const auto bytes = object_bytes("externs");
    auto obj = load_elf(bytes, "externs.o", options);
    REQUIRE_FALSE(obj);
    CHECK_THAT(obj.error().to_string(),
               Catch::Contains("extern 'CONFIG_TEST_ULONG' (strong): not resolved"));

    options.kconfig = {{"CONFIG_TEST_BOOL", "m"}};
    obj = load_elf(bytes, "externs.o", options);
    REQUIRE_FALSE(obj);
    CHECK_THAT(obj.error().to_string(),
               Catch::Contains("'CONFIG_TEST_BOOL': value 'm' implies tristate or char type"));

    const auto kfunc = object_bytes("extern_kfunc");
    obj = load_elf(kfunc, "extern_kfunc.o", options);
    REQUIRE_FALSE(obj);
    CHECK_THAT(obj.error().to_string(),
               Catch::Contains("kfunc 'bpf_test_strong_kfunc' is not supported"));
}

TEST_CASE("externs: weak ksyms resolve to nothing, weak kfunc calls are poisoned",
          "[loader][externs]") {
    LoadOptions options;
    options.host_defaults = false;
    const Object obj = load_with("extern_ksyms", options);
    const ProgramSpec& prog = program(obj, "weak_ksyms");
    size_t lddw = 0, poisoned = 0;
    for (size_t i = 0; i < prog.insns.size(); i++) {
        const Insn& insn = prog.insns[i];
        if (insn.opcode == BPF_LDDW) {
            CHECK(insn.src == 0);
            CHECK(insn.imm == 0);
            CHECK(prog.insns[i + 1].imm == 0);
            lddw++;
            i++;
        } else if (insn.opcode == (BPF_JMP | BPF_CALL) && insn.src == 0 &&
                   insn.imm >= loader::POISON_CALL_KFUNC_BASE) {
            CHECK(insn.imm == loader::POISON_CALL_KFUNC_BASE); // bpf_test_kfunc sorts first
            CHECK(poisoned_at(prog, static_cast<uint32_t>(i)));
            poisoned++;
        }
    }
    CHECK(lddw == 2);
    CHECK(poisoned == 1);
}

TEST_CASE("externs: kconfig text parsing", "[loader][externs]") {
    auto ok = parse_kconfig("# comment\nCONFIG_A=y\r\nCONFIG_A=n\nCONFIG_B=\"x y\"\nOTHER=1");
    REQUIRE(ok);
    CHECK(ok->size() == 2);
    CHECK(ok->at("CONFIG_A") == "y"); // the first definition wins
    CHECK(ok->at("CONFIG_B") == "\"x y\"");
    auto bad = parse_kconfig("CONFIG_A\n");
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error().message, Catch::Contains("no separator"));
    bad = parse_kconfig("CONFIG_A=\n");
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error().message, Catch::Contains("no value"));
}
