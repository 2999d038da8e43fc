// The kernel verifier cases of ../shared/corpus/kernel-verifier (cases.jsonl): reading them and
// building what their fixups ask for (the selftest harness's maps, with their contents).
#pragma once

#include "maps/map.hpp"
#include "verifier/verifier.hpp"
#include "vm/isa/insn.hpp"
#include "vm/isa/result.hpp"
#include "vm/progtypes/prog_type.hpp"
#include "vm/vm.hpp"

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ebpf::cli {

struct KernelExpectation {
    std::string verdict; // "accept" or "reject"
    std::string message; // the error line printed last before the statistics (rejects)
    std::optional<uint64_t> insns_processed;
    std::optional<uint64_t> retval;
    bool retval_stable = true;
};

struct KernelCase {
    std::string id;
    std::string descr;
    std::string prog_type_name;
    std::optional<ProgType> prog_type; // none for types this project does not know
    bool in_scope = false;
    uint32_t test_flags = 0;
    std::vector<Insn> insns;
    std::map<std::string, std::vector<uint32_t>> fixups; // map kind -> lddw indices
    std::vector<uint8_t> data;
    KernelExpectation kernel;
};

// Reads every case; insns_file entries are read (gunzipped) relative to the file's folder.
Result<std::vector<KernelCase>> load_kernel_cases(const std::filesystem::path& jsonl);

// The error line of a kernel log tail: the last line before "verification time".
std::string kernel_error_line(const std::string& log_tail);

// The maps a case's fixups name, created as the selftest harness creates them; the program's
// lddw imm at each fixup index is set to the map's index in `maps` (its "fd" for the verifier).
struct CaseMaps {
    std::vector<std::shared_ptr<Map>> maps;
    std::map<std::string, size_t> index_of_kind;
};
Result<CaseMaps> create_case_maps(KernelCase& c, uint32_t ncpus);

// Runs an accepted case once on its `data`, framed as the kernel's test run frames it, in this
// VM: the verified program's context accesses rewritten, its maps bound, the harness's tail-call
// programs in prog1/prog2. Gives r0; an error when the type cannot be test-run or the run fails.
enum class CaseEngine { interp, jit };
Result<uint64_t> run_case(const KernelCase& c, CaseMaps& maps, Mode mode,
                          const VerifierResult& verdict, CaseEngine engine = CaseEngine::interp);

} // namespace ebpf::cli
