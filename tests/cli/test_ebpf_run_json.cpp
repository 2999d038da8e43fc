// ebpf-run --json against the schema README.md documents, and --map-init in each of its forms.
#include "tests/cli/run_support.hpp"

#include <catch2/catch.hpp>

using namespace ebpf::test;
using nlohmann::json;

namespace {

const std::string maps_prog = prog("run_maps.o");
const std::string packet = example("packets/http_syn.bin");

bool is_hex(const json& j) {
    if (!j.is_string()) return false;
    const std::string s = j.get<std::string>();
    return s.size() % 2 == 0 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

bool is_hex_list(const json& j) {
    if (!j.is_array()) return false;
    for (const auto& item : j)
        if (!is_hex(item)) return false;
    return true;
}

// A map's contents: {"type", "entries"}, {"type", "records"}, {"type", "elements"} or {"type"}.
void check_map(const std::string& name, const json& m) {
    INFO("map " << name << ": " << m.dump());
    REQUIRE(m.is_object());
    REQUIRE(m.contains("type"));
    CHECK(m["type"].is_string());
    if (m["type"] == "ringbuf") {
        CHECK(m.size() == 2);
        CHECK(is_hex_list(m["records"]));
    } else if (m["type"] == "queue" || m["type"] == "stack") {
        CHECK(m.size() == 2);
        CHECK(is_hex_list(m["elements"]));
    } else if (m.contains("entries")) {
        CHECK(m.size() == 2);
        std::string previous;
        for (const auto& e : m["entries"]) {
            REQUIRE(e.size() == 2);
            CHECK(is_hex(e["key"]));
            CHECK(e["key"].get<std::string>() > previous); // sorted by key hex
            previous = e["key"].get<std::string>();
            const bool one_form = (e.contains("value") && is_hex(e["value"])) ||
                                  (e.contains("values") && is_hex_list(e["values"])) ||
                                  (e.contains("prog") && e["prog"].is_string()) ||
                                  (e.contains("inner") && e["inner"].is_string());
            CHECK(one_form);
        }
    } else {
        CHECK(m.size() == 1);
    }
}

// The schema: every key there, of its type, and the option-specific keys only with their options.
void check_schema(const json& j, bool ran) {
    INFO(j.dump(2));
    REQUIRE(j.is_object());
    for (const char* key : {"program", "section", "type", "engine", "verifier", "r0", "packet_out",
                            "redirect", "maps", "output", "time_ns_per_run"})
        CHECK(j.contains(key));
    for (const auto& [key, value] : j.items()) {
        const bool known = key == "program" || key == "section" || key == "type" ||
                           key == "engine" || key == "verifier" || key == "r0" ||
                           key == "packet_out" || key == "redirect" || key == "maps" ||
                           key == "output" || key == "time_ns_per_run" || key == "repeat" ||
                           key == "pcap";
        CHECK(known);
    }
    CHECK(j["program"].is_string());
    CHECK((j["section"].is_string() || j["section"].is_null()));
    CHECK((j["type"].is_string() || j["type"].is_null()));
    CHECK((j["engine"] == "interp" || j["engine"] == "jit"));
    CHECK((j["redirect"].is_null() || j["redirect"].is_object()));
    if (!j["verifier"].is_null()) {
        const json& v = j["verifier"];
        CHECK((v["verdict"] == "accept" || v["verdict"] == "reject"));
        CHECK(v["message"].is_string());
        CHECK(v["insns_processed"].is_number_unsigned());
    }
    CHECK((ran ? j["r0"].is_number_unsigned() : j["r0"].is_null()));
    CHECK((j["packet_out"].is_null() || is_hex(j["packet_out"])));
    REQUIRE(j["maps"].is_object());
    for (const auto& [name, m] : j["maps"].items())
        check_map(name, m);
    REQUIRE(j["output"].is_object());
    CHECK(j["output"].size() == 2);
    CHECK(j["output"]["trace_printk"].is_array());
    CHECK(is_hex_list(j["output"]["perf_event"]));
    CHECK((ran ? j["time_ns_per_run"].is_number() : j["time_ns_per_run"].is_null()));
}

json run_json(const std::string& args, int expected_exit = 0) {
    const auto o = ebpf_run(args + " --json");
    INFO(args << "\n" << o.err);
    REQUIRE(o.exit_code == expected_exit);
    return json::parse(o.out);
}

} // namespace

TEST_CASE("ebpf-run --json: a run with every kind of output") {
    const json j = run_json(maps_prog + " -p touch_maps --cpus 2 --ctx " + packet);
    check_schema(j, true);
    CHECK(j["program"] == "touch_maps");
    CHECK(j["section"] == "xdp");
    CHECK(j["type"] == "xdp");
    CHECK(j["engine"] == "jit");
    CHECK(j["verifier"]["verdict"] == "accept");
    CHECK(j["verifier"]["message"] == "");
    CHECK(j["r0"] == 7);
    CHECK(j["packet_out"] == to_hex(slurp(packet)));
    CHECK(j["output"]["trace_printk"] == json::array({"touch_maps: counter 0"}));
    CHECK(j["output"]["perf_event"] == json::array({"0807060504030201"}));
    // Only the maps the run changed.
    const json& maps = j["maps"];
    CHECK(maps.size() == 6);
    CHECK(maps["array"]["entries"][1] == json{{"key", "01000000"}, {"value", "0500000000000000"}});
    CHECK(maps["array"]["entries"].size() == 4); // arrays list every index
    CHECK(maps["hash"]["entries"] ==
          json::array({{{"key", "01000000"}, {"value", "0807060504030201"}}}));
    CHECK(maps["queue"] == json{{"type", "queue"}, {"elements", {"cdab0000"}}});
    CHECK(maps["ringbuf"] == json{{"type", "ringbuf"}, {"records", {"cdab0000"}}});
    CHECK(maps["percpu"]["entries"][0]["values"] == json::array({"01000000", "00000000"}));
    CHECK(maps["run_maps.bss"]["entries"][0]["value"] == "0100000000000000");
    CHECK(maps.contains("percpu_hash") == false);
}

TEST_CASE("ebpf-run --json --dump-maps shows every map, slots by name") {
    const json j = run_json(maps_prog + " -p tail_caller --dump-maps --ctx " + packet);
    check_schema(j, true);
    CHECK(j["r0"] == 3);
    const json& maps = j["maps"];
    CHECK(maps.size() == 18);
    CHECK(maps["jumps"]["entries"] ==
          json::array({{{"key", "01000000"}, {"prog", "tail_target"}}}));
    CHECK(maps["outer"]["entries"] == json::array({{{"key", "00000000"}, {"inner", "inner_a"}}}));
    CHECK(maps["perf"] == json{{"type", "perf_event_array"}});
    CHECK(maps["run_maps.rodata"]["entries"][0]["value"] == "07000000");
    CHECK(maps["run_maps.data"]["entries"][0]["value"] == "44332211");
    CHECK(maps.contains(".rodata.str1.1"));
}

TEST_CASE("ebpf-run --json for raw bytecode, --verify-only and a rejected program") {
    const json raw = run_json(example("fnv1a.bin") + " --mem " + example("hello.txt"));
    check_schema(raw, true);
    CHECK(raw["program"] == "fnv1a.bin");
    CHECK(raw["section"].is_null());
    CHECK(raw["type"].is_null());
    CHECK(raw["verifier"].is_null());
    CHECK(raw["engine"] == "interp");

    const json verify = run_json(maps_prog + " -p touch_maps --verify-only");
    check_schema(verify, false);
    CHECK(verify["verifier"]["verdict"] == "accept");
    CHECK(verify["verifier"]["insns_processed"] > 0);

    const json rejected = run_json(prog("run_unsafe.o") + " --verify-only", 1);
    check_schema(rejected, false);
    CHECK(rejected["verifier"]["verdict"] == "reject");
    CHECK(rejected["verifier"]["message"] != "");

    const json logged = run_json(maps_prog + " -p touch_maps --verify-only --log-level 1");
    CHECK_THAT(logged["verifier"]["log"].get<std::string>(), Catch::Contains("processed"));

    const json no_verify = run_json(maps_prog + " -p touch_maps --no-verify --ctx " + packet);
    check_schema(no_verify, true);
    CHECK(no_verify["verifier"].is_null());
    CHECK(no_verify["engine"] == "interp");
}

TEST_CASE("ebpf-run --list --json") {
    const json j = run_json(maps_prog + " --list");
    REQUIRE(j["programs"].size() == 3);
    CHECK(j["programs"][1]["name"] == "touch_maps");
    CHECK(j["programs"][1]["verifier"]["verdict"] == "accept");
    CHECK(j["maps"].size() == 18);
    CHECK(j["maps"][0]["name"] == "inner_a");
}

TEST_CASE("ebpf-run --map-init preloads every form") {
    const std::string init = scratch("init.json", R"({
        "array": [{"key": "02000000", "value": "2a00000000000000"}],
        "percpu": [{"key": "01000000", "value": "05000000"},
                   {"key": "00000000", "values": ["01000000", "02000000"]}],
        "hash": [{"key": "09000000", "value": "0900000000000000"}],
        "percpu_hash": [{"key": "03000000", "values": ["0100000000000000", "0200000000000000"]}],
        "trie": [{"key": "180000000a000000", "value": "01000000"}],
        "queue": [{"value": "01000000"}, {"value": "02000000"}],
        "stack": [{"value": "01000000"}, {"value": "02000000"}],
        "outer": [{"key": "01000000", "inner": "inner_b"}],
        "outer_hash": [{"key": "07000000", "inner": "inner_a"}],
        "jumps": [{"key": "00000000", "prog": "touch_maps"}],
        ".bss": [{"key": "00000000", "value": "6400000000000000"}],
        ".data": [{"key": "00000000", "value": "01020304"}]
    })");
    const json j = run_json(maps_prog + " -p tail_target --dump-maps --cpus 2 --map-init " + init +
                            " --ctx " + packet);
    check_schema(j, true);
    const json& m = j["maps"];
    CHECK(m["array"]["entries"][2]["value"] == "2a00000000000000");
    CHECK(m["percpu"]["entries"][0]["values"] == json::array({"01000000", "02000000"}));
    CHECK(m["percpu"]["entries"][1]["values"] == json::array({"05000000", "05000000"}));
    CHECK(m["hash"]["entries"][0] == json{{"key", "09000000"}, {"value", "0900000000000000"}});
    CHECK(m["percpu_hash"]["entries"][0]["values"][1] == "0200000000000000");
    CHECK(m["trie"]["entries"][0]["key"] == "180000000a000000");
    CHECK(m["queue"]["elements"] == json::array({"01000000", "02000000"})); // oldest first
    CHECK(m["stack"]["elements"] == json::array({"02000000", "01000000"})); // newest first
    CHECK(m["outer"]["entries"][1] == json{{"key", "01000000"}, {"inner", "inner_b"}});
    CHECK(m["outer_hash"]["entries"][0] == json{{"key", "07000000"}, {"inner", "inner_a"}});
    CHECK(m["jumps"]["entries"][0] == json{{"key", "00000000"}, {"prog", "touch_maps"}});
    CHECK(m["jumps"]["entries"][1] == json{{"key", "01000000"}, {"prog", "tail_target"}});
    CHECK(m["run_maps.bss"]["entries"][0]["value"] == "6400000000000000");
    CHECK(m["run_maps.data"]["entries"][0]["value"] == "01020304");
}

TEST_CASE("ebpf-run --map-init sets .rodata before the verifier reads it") {
    const std::string init =
        scratch("rodata.json", R"({".rodata": [{"key": "00000000", "value": "2a000000"}]})");
    const json j = run_json(maps_prog + " -p touch_maps --map-init " + init + " --ctx " + packet);
    CHECK(j["r0"] == 42);
    // The libbpf name works as well as the section's.
    const std::string by_name = scratch(
        "rodata_name.json", R"({"run_maps.rodata": [{"key": "00000000", "value": "03000000"}]})");
    CHECK(run_json(maps_prog + " -p touch_maps --map-init " + by_name + " --ctx " + packet)["r0"] ==
          3);
}

TEST_CASE("ebpf-run --map-init errors name the map and the entry") {
    const auto bad = [&](const std::string& name, const std::string& text,
                         const std::string& message) {
        const auto o = ebpf_run(maps_prog + " -p touch_maps --cpus 2 --ctx " + packet +
                                " --map-init " + scratch(name, text));
        INFO(text << "\n" << o.err);
        CHECK(o.exit_code == 2);
        CHECK(one_line_error(o));
        CHECK_THAT(o.err, Catch::Contains(message));
    };
    bad("syntax.json", "{\"array\": [", "not valid JSON");
    bad("shape.json", "[1, 2]", "expected {\"MAP\": [entries]}");
    bad("entries.json", R"({"array": {}})", "expected an array of entries");
    bad("entry.json", R"({"array": [1]})", "entry 0 is not an object");
    bad("nomap.json", R"({"nope": []})", "the object has no map 'nope'");
    bad("hex.json", R"({"array": [{"key": "0g000000", "value": "00"}]})", "bad hex");
    bad("keysize.json", R"({"array": [{"key": "00", "value": "0000000000000000"}]})",
        "map 'array': entry 0: key is 1 bytes, the map's are 4");
    bad("valsize.json", R"({"hash": [{"key": "00000000", "value": "00"}]})",
        "value is 1 bytes, the map's are 8");
    bad("range.json", R"({"array": [{"key": "09000000", "value": "0000000000000000"}]})",
        "the map refused it (E2BIG)");
    bad("values.json", R"({"percpu": [{"key": "00000000", "values": ["00000000"]}]})",
        "values must list one value per CPU (2, see --cpus)");
    bad("notpercpu.json", R"({"array": [{"key": "00000000", "values": []}]})",
        "only per-CPU maps take values");
    bad("push.json", R"({"array": [{"value": "00"}]})", "only queues and stacks");
    bad("prog.json", R"({"array": [{"key": "00000000", "prog": "touch_maps"}]})",
        "only prog arrays take a program");
    bad("noprog.json", R"({"jumps": [{"key": "00000000", "prog": "nope"}]})", "no program 'nope'");
    bad("inner.json", R"({"outer": [{"key": "00000000", "inner": "hash"}]})",
        "the map refused it (EINVAL)");
    bad("slot.json", R"({"jumps": [{"key": "00000000", "value": "00000000"}]})",
        "this map's slots take \"inner\" or \"prog\"");
    bad("extra.json", R"({"array": [{"key": "00000000", "value": "00", "x": 1}]})",
        "an entry has a key and one of");
    bad("missing.json", "", "not valid JSON");
    const auto nofile = ebpf_run(maps_prog + " --ctx " + packet + " --map-init /nonexistent.json");
    CHECK(nofile.exit_code == 2);
    CHECK(one_line_error(nofile));
}

TEST_CASE("ebpf-run shows where bpf_redirect_map sent the packet") {
    const std::string redirect_prog = prog("run_redirect.o");
    const json miss = run_json(redirect_prog + " --ctx " + packet);
    CHECK(miss["r0"] == 2); // XDP_PASS: port 1 has no device
    CHECK(miss["redirect"].is_null());
    const std::string init =
        scratch("ports.json", R"({"ports": [{"key": "01000000", "value": "07000000"}]})");
    const json hit = run_json(redirect_prog + " --ctx " + packet + " --map-init " + init);
    CHECK(hit["r0"] == 4); // XDP_REDIRECT
    CHECK(hit["redirect"] ==
          json{{"map", "ports"}, {"map_type", "devmap"}, {"key", 1}, {"flags", 0}});
    const Outcome human = ebpf_run(redirect_prog + " --ctx " + packet + " --map-init " + init);
    CHECK(human.out.find("redirect  devmap ports key 1\n") != std::string::npos);
}
