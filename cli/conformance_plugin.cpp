// ebpf-conformance-plugin: the bpf_conformance runner's plugin protocol. argv[1] is the input
// memory as hex (absent when the test has none), stdin holds the program as hex; r0 goes to
// stdout in hex, errors to stderr with a non-zero exit. Programs are unverified, so they run in
// the interpreter's checked mode unless --fast is given; --engine jit runs them through the JIT,
// which has no checked mode (like --fast).
#include "cli/io.hpp"
#include "jit/jit.hpp"
#include "vm/vm.hpp"

#include <boost/program_options.hpp>

#include <cstdio>
#include <iostream>
#include <iterator>

namespace po = boost::program_options;

namespace {

// r1 = the memory (0 when empty), r2 = its length, as Vm::run gives them.
ebpf::Result<uint64_t> run_jit(const ebpf::Program& prog, std::vector<uint8_t>& memory) {
    auto jitted = ebpf::jit_compile(prog);
    if (!jitted) return jitted.error();
    ebpf::RunState state;
    ebpf::RunArgs args;
    args.r1 = memory.empty() ? 0 : reinterpret_cast<uint64_t>(memory.data());
    args.r2 = memory.size();
    auto result = jitted->run(args, state);
    if (!result) return result.error();
    return result->r0;
}

} // namespace

int main(int argc, char** argv) {
    std::string memory_hex, engine = "interp";
    po::options_description opts("ebpf-conformance-plugin [MEMORY_HEX] [options] < PROGRAM_HEX");
    opts.add_options()("help,h", "this text")("engine", po::value(&engine)->default_value("interp"),
                                              "interp or jit")(
        "fast", "run in the interpreter's fast mode (no runtime checks) instead of checked mode");
    po::options_description hidden;
    hidden.add_options()("memory", po::value(&memory_hex));
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description pos;
    pos.add("memory", 1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "ebpf-conformance-plugin: " << e.what() << "\n" << opts;
        return 2;
    }
    if (vm.count("help")) {
        std::cout << opts;
        return 0;
    }
    if (engine != "interp" && engine != "jit") {
        std::cerr << "ebpf-conformance-plugin: unknown engine '" << engine << "' (interp or jit)\n";
        return 2;
    }

    std::string program_hex((std::istreambuf_iterator<char>(std::cin)),
                            std::istreambuf_iterator<char>());
    auto memory = ebpf::cli::parse_hex(memory_hex);
    if (!memory) {
        std::cerr << "memory: " << memory.error().to_string() << "\n";
        return 1;
    }
    auto bytes = ebpf::cli::parse_hex(program_hex);
    if (!bytes) {
        std::cerr << "program: " << bytes.error().to_string() << "\n";
        return 1;
    }
    auto insns = ebpf::cli::insns_from_bytes(*bytes);
    if (!insns) {
        std::cerr << "program: " << insns.error().to_string() << "\n";
        return 1;
    }
    ebpf::Vm ebpf_vm;
    auto prog = ebpf_vm.load(*insns);
    if (!prog) {
        std::cerr << prog.error().to_string() << "\n";
        return 1;
    }
    auto r0 = engine == "jit"
                  ? run_jit(*prog, *memory)
                  : ebpf_vm.run(*prog, *memory,
                                vm.count("fast") ? ebpf::Mode::fast : ebpf::Mode::checked);
    if (!r0) {
        std::cerr << r0.error().to_string() << "\n";
        return 1;
    }
    std::printf("%llx\n", static_cast<unsigned long long>(*r0));
    return 0;
}
