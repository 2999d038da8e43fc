// ebpf-run: load a program, run it, say what happened.
//
// This first version runs raw bytecode (8-byte instructions, as `llvm-objcopy -O binary
// --only-section=.text` writes them) with r1 = the --mem buffer and r2 = its length. There is no
// verifier yet, so every run uses the interpreter's checked mode.
//
// Exit codes: 0 ran, 2 bad usage, 3 the file could not be loaded, 4 a runtime fault or an
// exhausted instruction budget.
#include "cli/io.hpp"
#include "helpers/registry.hpp"
#include "vm/isa/disasm.hpp"
#include "vm/vm.hpp"

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

namespace po = boost::program_options;

namespace {

enum Exit { ran = 0, usage = 2, load_failed = 3, runtime_fault = 4 };

constexpr const char* examples = R"(Examples:
  ebpf-run prog.bin                      run with no memory (r1 = 0, r2 = 0)
  ebpf-run prog.bin --mem input.bin      r1 = a writable copy of input.bin, r2 = its size
  ebpf-run prog.bin --mem input.bin --json
  ebpf-run prog.bin --disasm             print the instructions in the kernel's syntax
)";

int fail(Exit code, const std::string& what) {
    std::cerr << "ebpf-run: " << what << "\n";
    return code;
}

} // namespace

int main(int argc, char** argv) {
    std::string program_path, mem_path;
    uint64_t budget = 0;
    po::options_description opts("Usage: ebpf-run PROGRAM [options]\n\nOptions");
    opts.add_options()("help,h", "show this help")(
        "mem", po::value(&mem_path),
        "FILE: memory for the program (r1 = its address, r2 = its size)")(
        "json",
        "print one JSON object: {\"program\", \"engine\", \"mode\", \"r0\", \"insns_executed\"}")(
        "disasm", "print the program in the kernel verifier's syntax, then run it")(
        "budget", po::value(&budget)->default_value(10'000'000),
        "N: stop with exit code 4 after N instructions");
    po::options_description hidden;
    hidden.add_options()("program", po::value(&program_path));
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description pos;
    pos.add("program", 1);
    po::variables_map args;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), args);
        po::notify(args);
    } catch (const po::error& e) {
        return fail(usage, std::string(e.what()) + " (see ebpf-run --help)");
    }
    if (args.count("help")) {
        std::cout << opts << "\n" << examples;
        return ran;
    }
    if (program_path.empty()) return fail(usage, "no program given (see ebpf-run --help)");

    auto bytes = ebpf::cli::read_file(program_path);
    if (!bytes) return fail(load_failed, bytes.error().to_string());
    auto insns = ebpf::cli::insns_from_bytes(*bytes);
    if (!insns) return fail(load_failed, program_path + ": " + insns.error().to_string());

    std::vector<uint8_t> memory;
    if (!mem_path.empty()) {
        auto mem = ebpf::cli::read_file(mem_path);
        if (!mem) return fail(usage, mem.error().to_string());
        memory = std::move(*mem);
    }

    ebpf::Vm vm;
    if (args.count("disasm")) {
        ebpf::DisasmOptions dopts;
        dopts.helper_name = ebpf::kernel_helper_name;
        std::cout << ebpf::disasm_program(*insns, dopts);
    }
    auto prog = vm.load(*insns);
    if (!prog) return fail(load_failed, program_path + ": " + prog.error().to_string());

    ebpf::RunState state;
    ebpf::RunArgs run_args;
    run_args.mode = ebpf::Mode::checked;
    run_args.insn_budget = budget;
    if (!memory.empty()) {
        run_args.r1 = reinterpret_cast<uint64_t>(memory.data());
        state.allow(memory.data(), memory.size(), true);
    }
    run_args.r2 = memory.size();
    auto result = vm.run(*prog, run_args, state);
    if (!result) return fail(runtime_fault, program_path + ": " + result.error().to_string());

    if (args.count("json")) {
        nlohmann::json out{{"program", program_path},
                           {"engine", "interp"},
                           {"mode", "checked"},
                           {"r0", result->r0},
                           {"insns_executed", result->insns_executed}};
        std::cout << out.dump() << "\n";
    } else {
        std::cout << "r0 = " << result->r0 << " (0x" << std::hex << result->r0 << std::dec << ")\n"
                  << "instructions executed: " << result->insns_executed << "\n";
    }
    return ran;
}
