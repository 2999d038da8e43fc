// The two loops the interpreter and JIT benchmarks time: a tight ALU/branch loop (7 insns an
// iteration) and a load/store-heavy loop over a 4 KiB buffer (12 insns, 4 memory accesses).
#pragma once

namespace bench {

inline constexpr const char* alu_loop = R"(
    r0 = 0
    r1 = 100000
loop:
    r0 += r1
    r0 ^= 90
    r2 = r0
    r2 >>= 3
    r0 += r2
    r1 -= 1
    if r1 != 0x0 goto loop
    exit
)";

inline constexpr const char* mem_loop = R"(
    r6 = r1
    r0 = 0
    r7 = 0
    r8 = 100000
loop:
    r2 = r6
    r2 += r7
    r3 = *(u64 *)(r2 +0)
    r3 += r8
    *(u64 *)(r2 +0) = r3
    r4 = *(u32 *)(r2 +8)
    r0 += r4
    *(u32 *)(r10 -8) = w0
    r7 += 16
    r7 &= 4080
    r8 -= 1
    if r8 != 0x0 goto loop
    exit
)";

} // namespace bench
