#include "jit/listing.hpp"

#include "vm/isa/disasm.hpp"

#include <capstone/capstone.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace ebpf {
namespace {

// The host's architecture for Capstone, where the JIT has a code generator.
bool host_arch(cs_arch& arch, cs_mode& mode) {
#if defined(__x86_64__)
    arch = CS_ARCH_X86;
    mode = CS_MODE_64;
    return true;
#else
    (void)arch;
    (void)mode;
    return false;
#endif
}

class Disassembler {
  public:
    Disassembler() {
        cs_arch arch;
        cs_mode mode;
        if (host_arch(arch, mode) && cs_open(arch, mode, &handle_) == CS_ERR_OK) open_ = true;
    }
    ~Disassembler() {
        if (open_) cs_close(&handle_);
    }
    Disassembler(const Disassembler&) = delete;
    Disassembler& operator=(const Disassembler&) = delete;

    bool ok() const { return open_; }

    // Appends code[begin, end) one machine instruction a line, addressed by offset in code.
    void append(std::string& out, std::span<const uint8_t> code, size_t begin, size_t end) const {
        cs_insn* insns = nullptr;
        const size_t n = cs_disasm(handle_, code.data() + begin, end - begin, begin, 0, &insns);
        size_t done = begin;
        for (size_t k = 0; k < n; ++k) {
            line(out, insns[k].address, {insns[k].bytes, insns[k].size},
                 std::string(insns[k].mnemonic) + " " + insns[k].op_str);
            done = insns[k].address + insns[k].size;
        }
        cs_free(insns, n);
        // Bytes Capstone cannot decode (none are expected): shown raw so nothing goes missing.
        if (done < end) line(out, done, code.subspan(done, end - done), "(undecoded)");
    }

  private:
    static void line(std::string& out, uint64_t at, std::span<const uint8_t> bytes,
                     const std::string& text) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "    0x%04llx:  ", static_cast<unsigned long long>(at));
        out += buf;
        std::string hex;
        for (uint8_t b : bytes) {
            std::snprintf(buf, sizeof buf, "%02x ", b);
            hex += buf;
        }
        hex.resize(std::max<size_t>(hex.size(), 31), ' ');
        out += hex + text + "\n";
    }

    csh handle_ = 0;
    bool open_ = false;
};

} // namespace

Result<std::string> jit_listing(const Program& prog, const JitProgram& jitted) {
    const Disassembler dis;
    if (!dis.ok()) return Error{"Capstone cannot disassemble this host's code", std::nullopt};
    DisasmOptions opts;
    opts.helper_name = [&](int32_t id) {
        const Helper* h = prog.helpers().find(id);
        return h ? h->name : kernel_helper_name(id);
    };
    const Insns insns = prog.insns();
    const auto offsets = jitted.insn_offsets();
    const auto layout = jitted.layout();
    const auto code = jitted.code();
    std::string out;
    for (size_t k = 0, expected = 0; k < layout.size(); ++k) {
        const uint32_t i = layout[k];
        if (i != expected)
            out += "; out of line: a block that leaves a loop (jit/loop_exits.hpp)\n";
        expected = i + (insns[i].opcode == BPF_LDDW ? 2 : 1);
        char head[32];
        std::snprintf(head, sizeof head, "%u: (%02x) ", i, insns[i].opcode);
        out += head + disasm_insn(insns, i, opts) + "\n";
        const uint32_t end = k + 1 < layout.size() ? offsets[layout[k + 1]] : offsets[insns.size()];
        dis.append(out, code, offsets[i], end);
    }
    out += "; out of line: entry points and early exits\n";
    dis.append(out, code, offsets[insns.size()], jitted.data_offset());
    if (jitted.data_offset() < code.size()) out += "; jump tables\n";
    for (size_t at = jitted.data_offset(); at + 8 <= code.size(); at += 8) {
        uint64_t entry;
        std::memcpy(&entry, code.data() + at, sizeof entry);
        char line[64];
        std::snprintf(line, sizeof line, "    0x%04zx:  .quad 0x%llx\n", at,
                      static_cast<unsigned long long>(entry));
        out += line;
    }
    return out;
}

} // namespace ebpf
