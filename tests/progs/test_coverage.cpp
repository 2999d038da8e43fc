// What the oracle's cases cover, checked without the kernel: at least 25 programs with 2 inputs
// or more each, every program type, map kind and helper family of the issue, and a known
// differences list that names real programs.
#include "helpers/kernel_ids.hpp"
#include "tests/progs/cases.hpp"
#include "tests/progs/known_differences.hpp"
#include "vm/loader/object.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <set>

namespace {

using namespace oracle;
using ebpf::KernelHelper;
using ebpf::MapType;
using ebpf::ProgType;

const std::string progs_dir = EBPF_ORACLE_PROGS_DIR;

// The maps and the helpers the programs of the cases' objects use.
struct Used {
    std::set<MapType> maps;
    std::set<int32_t> helpers;
};

Used used_by(const std::set<std::string>& objects) {
    Used used;
    for (const auto& name : objects) {
        std::ifstream in(progs_dir + "/" + name, std::ios::binary);
        const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in),
                                         std::istreambuf_iterator<char>()};
        auto obj = ebpf::load_elf(bytes, name);
        INFO(name);
        REQUIRE(obj);
        for (const auto& m : obj->maps)
            used.maps.insert(m.def.type);
        for (const auto& p : obj->programs)
            for (const auto& insn : p.insns)
                if (insn.opcode == (ebpf::BPF_JMP | ebpf::BPF_CALL) && insn.src == 0)
                    used.helpers.insert(insn.imm);
    }
    return used;
}

} // namespace

TEST_CASE("the oracle's cases cover programs, types, map kinds and helpers", "[progs]") {
    std::set<std::string> objects, programs;
    std::set<ProgType> types;
    for (const Case& c : all_cases()) {
        INFO(c.program);
        CHECK(c.inputs.size() >= 2);
        CHECK(programs.insert(c.program).second);
        objects.insert(c.object);
        types.insert(c.type);
    }
    CHECK(objects.size() >= 25);
    for (ProgType t :
         {ProgType::xdp, ProgType::sched_cls, ProgType::socket_filter, ProgType::cgroup_skb,
          ProgType::kprobe, ProgType::tracepoint, ProgType::raw_tracepoint, ProgType::perf_event})
        CHECK(types.count(t) == 1);

    const Used used = used_by(objects);
    for (MapType m :
         {MapType::array, MapType::percpu_array, MapType::hash, MapType::percpu_hash,
          MapType::lru_hash, MapType::lru_percpu_hash, MapType::lpm_trie, MapType::prog_array,
          MapType::array_of_maps, MapType::hash_of_maps, MapType::queue, MapType::stack,
          MapType::ringbuf, MapType::perf_event_array}) {
        INFO("map kind " << ebpf::map_type_name(m));
        CHECK(used.maps.count(m) == 1);
    }
    using H = KernelHelper;
    for (H h : {H::map_lookup_elem,
                H::map_update_elem,
                H::map_delete_elem,
                H::map_push_elem,
                H::map_pop_elem,
                H::map_peek_elem,
                H::for_each_map_elem,
                H::loop,
                H::tail_call,
                H::probe_read,
                H::probe_read_str,
                H::probe_read_kernel,
                H::probe_read_kernel_str,
                H::probe_read_user,
                H::probe_read_user_str,
                H::ktime_get_ns,
                H::ktime_get_boot_ns,
                H::ktime_get_coarse_ns,
                H::jiffies64,
                H::get_prandom_u32,
                H::get_smp_processor_id,
                H::get_numa_node_id,
                H::get_current_pid_tgid,
                H::get_current_uid_gid,
                H::get_current_comm,
                H::trace_printk,
                H::snprintf,
                H::perf_event_output,
                H::ringbuf_output,
                H::ringbuf_reserve,
                H::ringbuf_submit,
                H::ringbuf_discard,
                H::ringbuf_query,
                H::csum_diff,
                H::l3_csum_replace,
                H::l4_csum_replace,
                H::skb_load_bytes,
                H::skb_store_bytes,
                H::skb_pull_data,
                H::skb_change_tail,
                H::xdp_adjust_head,
                H::xdp_adjust_tail,
                H::xdp_adjust_meta,
                H::redirect,
                H::redirect_map,
                H::spin_lock,
                H::spin_unlock,
                H::skb_adjust_room,
                H::skb_change_head,
                H::skb_load_bytes_relative,
                H::csum_level,
                H::skb_ecn_set_ce,
                H::skb_get_tunnel_key,
                H::skb_set_tunnel_key,
                H::redirect_neigh,
                H::redirect_peer,
                H::xdp_get_buff_len,
                H::xdp_load_bytes,
                H::xdp_store_bytes}) {
        INFO("helper #" << static_cast<int32_t>(h));
        CHECK(used.helpers.count(static_cast<int32_t>(h)) == 1);
    }

    const KnownDifferences known = read_known_differences(EBPF_PROGS_KNOWN_DIFFERENCES);
    CHECK(known.errors.empty());
    for (const auto& k : known.entries) {
        INFO("known_differences.txt line " << k.line);
        CHECK(programs.count(k.program) == 1);
    }
}
