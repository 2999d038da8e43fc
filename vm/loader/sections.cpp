#include "vm/loader/sections.hpp"

#include "vm/loader/object.hpp"

#include <array>
#include <string_view>

namespace ebpf {
namespace loader {
namespace {

bool has_prefix(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

// libbpf's ignore_elf_section: string tables, the address-significance table, an empty .text,
// DWARF, and the relocations of DWARF and BTF.
bool ignored(const elf::Section& sec) {
    if (sec.type == elf::SHT_STRTAB || sec.type == elf::SHT_LLVM_ADDRSIG) return true;
    if (sec.type == elf::SHT_PROGBITS && sec.size == 0 && sec.name == ".text") return true;
    if (has_prefix(sec.name, ".debug_")) return true;
    if (has_prefix(sec.name, ".rel")) {
        const std::string_view target = sec.name.substr(4);
        return has_prefix(target, ".debug_") || target == ".BTF" || target == ".BTF.ext";
    }
    return false;
}

} // namespace

Result<Layout> classify_sections(const elf::File& elf) {
    Layout layout;
    layout.types.assign(elf.sections().size(), SecType::unused);
    for (const auto& sec : elf.sections()) {
        if (sec.index == 0 || ignored(sec)) continue;
        SecType& type = layout.types[sec.index];
        if (sec.name == "license") {
            layout.license = &sec;
        } else if (sec.name == "version") {
            layout.version = &sec;
        } else if (sec.name == "maps") {
            layout.legacy_maps_shndx = sec.index;
        } else if (sec.name == ".maps") {
            layout.maps_shndx = sec.index;
        } else if (sec.name == ".BTF" || sec.name == ".BTF.ext") {
            if (sec.type != elf::SHT_PROGBITS)
                return Error{"elf: " + elf::describe(sec) + " is not SHT_PROGBITS", std::nullopt};
            (sec.name == ".BTF" ? layout.btf : layout.btf_ext) = &sec;
        } else if (sec.type == elf::SHT_PROGBITS && sec.size > 0) {
            if (sec.executable()) {
                type = SecType::program;
                if (sec.name == ".text") layout.text_shndx = sec.index;
            } else if (sec.name == ".data" || has_prefix(sec.name, ".data.")) {
                type = SecType::data;
            } else if (sec.name == ".rodata" || has_prefix(sec.name, ".rodata.")) {
                type = SecType::rodata;
            }
        } else if (sec.type == elf::SHT_REL) {
            const elf::Section* target = elf.section(sec.info);
            if (sec.entsize != 16 || !target)
                return Error{"elf: " + elf::describe(sec) + ": bad entry size " +
                                 std::to_string(sec.entsize) + " or target section #" +
                                 std::to_string(sec.info),
                             std::nullopt};
            if (target->executable() || sec.name == ".rel.maps") type = SecType::relo;
        } else if (sec.type == elf::SHT_NOBITS &&
                   (sec.name == ".bss" || has_prefix(sec.name, ".bss."))) {
            type = SecType::bss;
        }
    }
    return layout;
}

} // namespace loader

namespace {

struct SecDef {
    std::string_view sec; // "x/": prefix; "x+": "x" or "x/..."; otherwise exact
    ProgType type;
};

// libbpf's section_defs, in its order (the first match wins).
constexpr std::array section_defs = {
    SecDef{"socket", ProgType::socket_filter},
    SecDef{"sk_reuseport/migrate", ProgType::sk_reuseport},
    SecDef{"sk_reuseport", ProgType::sk_reuseport},
    SecDef{"kprobe+", ProgType::kprobe},
    SecDef{"uprobe+", ProgType::kprobe},
    SecDef{"uprobe.s+", ProgType::kprobe},
    SecDef{"kretprobe+", ProgType::kprobe},
    SecDef{"uretprobe+", ProgType::kprobe},
    SecDef{"uretprobe.s+", ProgType::kprobe},
    SecDef{"kprobe.multi+", ProgType::kprobe},
    SecDef{"kretprobe.multi+", ProgType::kprobe},
    SecDef{"kprobe.session+", ProgType::kprobe},
    SecDef{"uprobe.multi+", ProgType::kprobe},
    SecDef{"uretprobe.multi+", ProgType::kprobe},
    SecDef{"uprobe.session+", ProgType::kprobe},
    SecDef{"uprobe.multi.s+", ProgType::kprobe},
    SecDef{"uretprobe.multi.s+", ProgType::kprobe},
    SecDef{"uprobe.session.s+", ProgType::kprobe},
    SecDef{"ksyscall+", ProgType::kprobe},
    SecDef{"kretsyscall+", ProgType::kprobe},
    SecDef{"usdt+", ProgType::kprobe},
    SecDef{"usdt.s+", ProgType::kprobe},
    SecDef{"tc/ingress", ProgType::sched_cls},
    SecDef{"tc/egress", ProgType::sched_cls},
    SecDef{"tcx/ingress", ProgType::sched_cls},
    SecDef{"tcx/egress", ProgType::sched_cls},
    SecDef{"tc", ProgType::sched_cls},
    SecDef{"classifier", ProgType::sched_cls},
    SecDef{"action", ProgType::sched_act},
    SecDef{"netkit/primary", ProgType::sched_cls},
    SecDef{"netkit/peer", ProgType::sched_cls},
    SecDef{"tracepoint+", ProgType::tracepoint},
    SecDef{"tp+", ProgType::tracepoint},
    SecDef{"raw_tracepoint+", ProgType::raw_tracepoint},
    SecDef{"raw_tp+", ProgType::raw_tracepoint},
    SecDef{"raw_tracepoint.w+", ProgType::raw_tracepoint_writable},
    SecDef{"raw_tp.w+", ProgType::raw_tracepoint_writable},
    SecDef{"tp_btf+", ProgType::tracing},
    SecDef{"fentry+", ProgType::tracing},
    SecDef{"fmod_ret+", ProgType::tracing},
    SecDef{"fexit+", ProgType::tracing},
    SecDef{"fentry.s+", ProgType::tracing},
    SecDef{"fmod_ret.s+", ProgType::tracing},
    SecDef{"fexit.s+", ProgType::tracing},
    SecDef{"freplace+", ProgType::ext},
    SecDef{"lsm+", ProgType::lsm},
    SecDef{"lsm.s+", ProgType::lsm},
    SecDef{"lsm_cgroup+", ProgType::lsm},
    SecDef{"iter+", ProgType::tracing},
    SecDef{"iter.s+", ProgType::tracing},
    SecDef{"syscall", ProgType::syscall},
    SecDef{"xdp.frags/devmap", ProgType::xdp},
    SecDef{"xdp/devmap", ProgType::xdp},
    SecDef{"xdp.frags/cpumap", ProgType::xdp},
    SecDef{"xdp/cpumap", ProgType::xdp},
    SecDef{"xdp.frags", ProgType::xdp},
    SecDef{"xdp", ProgType::xdp},
    SecDef{"perf_event", ProgType::perf_event},
    SecDef{"lwt_in", ProgType::lwt_in},
    SecDef{"lwt_out", ProgType::lwt_out},
    SecDef{"lwt_xmit", ProgType::lwt_xmit},
    SecDef{"lwt_seg6local", ProgType::lwt_seg6local},
    SecDef{"sockops", ProgType::sock_ops},
    SecDef{"sk_skb/stream_parser", ProgType::sk_skb},
    SecDef{"sk_skb/stream_verdict", ProgType::sk_skb},
    SecDef{"sk_skb/verdict", ProgType::sk_skb},
    SecDef{"sk_skb", ProgType::sk_skb},
    SecDef{"sk_msg", ProgType::sk_msg},
    SecDef{"lirc_mode2", ProgType::lirc_mode2},
    SecDef{"flow_dissector", ProgType::flow_dissector},
    SecDef{"cgroup_skb/ingress", ProgType::cgroup_skb},
    SecDef{"cgroup_skb/egress", ProgType::cgroup_skb},
    SecDef{"cgroup/skb", ProgType::cgroup_skb},
    SecDef{"cgroup/sock_create", ProgType::cgroup_sock},
    SecDef{"cgroup/sock_release", ProgType::cgroup_sock},
    SecDef{"cgroup/sock", ProgType::cgroup_sock},
    SecDef{"cgroup/post_bind4", ProgType::cgroup_sock},
    SecDef{"cgroup/post_bind6", ProgType::cgroup_sock},
    SecDef{"cgroup/bind4", ProgType::cgroup_sock_addr},
    SecDef{"cgroup/bind6", ProgType::cgroup_sock_addr},
    SecDef{"cgroup/connect4", ProgType::cgroup_sock_addr},
    SecDef{"cgroup/connect6", ProgType::cgroup_sock_addr},
    SecDef{"cgroup/connect_unix", ProgType::cgroup_sock_addr},
    SecDef{"cgroup/sendmsg4", ProgType::cgroup_sock_addr},
    SecDef{"cgroup/sendmsg6", ProgType::cgroup_sock_addr},
    SecDef{"cgroup/sendmsg_unix", ProgType::cgroup_sock_addr},
    SecDef{"cgroup/recvmsg4", ProgType::cgroup_sock_addr},
    SecDef{"cgroup/recvmsg6", ProgType::cgroup_sock_addr},
    SecDef{"cgroup/recvmsg_unix", ProgType::cgroup_sock_addr},
    SecDef{"cgroup/getpeername4", ProgType::cgroup_sock_addr},
    SecDef{"cgroup/getpeername6", ProgType::cgroup_sock_addr},
    SecDef{"cgroup/getpeername_unix", ProgType::cgroup_sock_addr},
    SecDef{"cgroup/getsockname4", ProgType::cgroup_sock_addr},
    SecDef{"cgroup/getsockname6", ProgType::cgroup_sock_addr},
    SecDef{"cgroup/getsockname_unix", ProgType::cgroup_sock_addr},
    SecDef{"cgroup/sysctl", ProgType::cgroup_sysctl},
    SecDef{"cgroup/getsockopt", ProgType::cgroup_sockopt},
    SecDef{"cgroup/setsockopt", ProgType::cgroup_sockopt},
    SecDef{"cgroup/dev", ProgType::cgroup_device},
    SecDef{"struct_ops+", ProgType::struct_ops},
    SecDef{"struct_ops.s+", ProgType::struct_ops},
    SecDef{"sk_lookup", ProgType::sk_lookup},
    SecDef{"netfilter", ProgType::netfilter},
};

// libbpf's sec_def_matches.
bool matches(std::string_view def, std::string_view name) {
    if (def.back() == '/') return loader::has_prefix(name, def);
    if (def.back() == '+') {
        def.remove_suffix(1);
        return loader::has_prefix(name, def) &&
               (name.size() == def.size() || name[def.size()] == '/');
    }
    return name == def;
}

} // namespace

std::optional<ProgType> prog_type_from_section(const std::string& section) {
    for (const auto& def : section_defs)
        if (matches(def.sec, section)) return def.type;
    return std::nullopt;
}

} // namespace ebpf
