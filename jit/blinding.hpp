// Keys for constant blinding (JitOptions::blind_constants): a back end asks for a fresh key per
// instruction, emits imm ^ key and key, and XORs them together in a scratch register at run time.
#pragma once

#include <cstdint>
#include <random>

namespace ebpf::jit {

class BlindingKeys {
  public:
    // The same seed gives the same keys: a code generator's passes must agree.
    explicit BlindingKeys(uint64_t seed) : engine_(seed) {}

    // Never zero: a zero key would leave the immediate in the code as it is.
    uint32_t next32() {
        uint32_t key;
        do
            key = static_cast<uint32_t>(engine_());
        while (key == 0);
        return key;
    }
    uint64_t next64() {
        uint64_t key;
        do
            key = engine_();
        while (static_cast<uint32_t>(key) == 0 || (key >> 32) == 0); // lddw blinds each half
        return key;
    }

    static uint64_t random_seed() {
        std::random_device device;
        return (static_cast<uint64_t>(device()) << 32) | device();
    }

  private:
    std::mt19937_64 engine_;
};

} // namespace ebpf::jit
