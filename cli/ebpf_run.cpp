// ebpf-run: load an eBPF program, verify it, run it, say what happened. The tool lives in
// cli/run/ (session.cpp walks through it); --help is its manual.
#include "cli/run/session.hpp"

int main(int argc, char** argv) {
    return ebpf::cli::run::ebpf_run(argc, argv);
}
