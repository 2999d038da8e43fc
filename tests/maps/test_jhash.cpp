// jhash and jhash2 against published vectors. lookup3.c publishes hashlittle() results (the
// kernel's byte-wise jhash()) for strings; hashword() (jhash2) over whole words equals
// hashlittle() over the same bytes on a little-endian host. So the byte-wise hash is written here
// on its own, checked against those vectors, and both of ours are checked against it.
#include "maps/jhash.hpp"

#include <catch2/catch.hpp>

#include <bit>
#include <cstring>
#include <string_view>
#include <vector>

namespace {

uint32_t rot(uint32_t x, int k) {
    return (x << k) | (x >> (32 - k));
}

// lookup3's hashlittle(), one byte at a time.
uint32_t hashlittle(const uint8_t* k, size_t length, uint32_t initval) {
    uint32_t a, b, c;
    a = b = c = 0xdeadbeef + static_cast<uint32_t>(length) + initval;
    auto word = [&](size_t at, size_t n) {
        uint32_t w = 0;
        for (size_t i = 0; i < n && i < 4; ++i)
            w |= uint32_t{k[at + i]} << (8 * i);
        return w;
    };
    while (length > 12) {
        a += word(0, 4), b += word(4, 4), c += word(8, 4);
        a -= c, a ^= rot(c, 4), c += b;
        b -= a, b ^= rot(a, 6), a += c;
        c -= b, c ^= rot(b, 8), b += a;
        a -= c, a ^= rot(c, 16), c += b;
        b -= a, b ^= rot(a, 19), a += c;
        c -= b, c ^= rot(b, 4), b += a;
        length -= 12, k += 12;
    }
    if (length == 0) return c;
    a += word(0, length);
    if (length > 4) b += word(4, length - 4);
    if (length > 8) c += word(8, length - 8);
    c ^= b, c -= rot(b, 14);
    a ^= c, a -= rot(c, 11);
    b ^= a, b -= rot(a, 25);
    c ^= b, c -= rot(b, 16);
    a ^= c, a -= rot(c, 4);
    b ^= a, b -= rot(a, 14);
    c ^= b, c -= rot(b, 24);
    return c;
}

uint32_t hashlittle(std::string_view s, uint32_t initval) {
    return hashlittle(reinterpret_cast<const uint8_t*>(s.data()), s.size(), initval);
}

} // namespace

TEST_CASE("jhash: the byte-wise reference matches lookup3's published vectors", "[maps][jhash]") {
    CHECK(hashlittle("", 0) == 0xdeadbeef);
    CHECK(hashlittle("Four score and seven years ago", 0) == 0x17770551);
    CHECK(hashlittle("Four score and seven years ago", 1) == 0xcd628161);
}

TEST_CASE("jhash2 equals the byte-wise hash over the same words", "[maps][jhash]") {
    if (std::endian::native != std::endian::little) return; // the equality is little-endian's
    CHECK(ebpf::jhash2(nullptr, 0, 0) == 0xdeadbeef);
    std::vector<uint32_t> words;
    uint32_t x = 12345;
    for (uint32_t n = 0; n <= 40; ++n) {
        for (uint32_t initval : {0u, 1u, 0x9e3779b9u}) {
            INFO(n << " words, initval " << initval);
            CHECK(ebpf::jhash2(words.data(), n, initval) ==
                  hashlittle(reinterpret_cast<const uint8_t*>(words.data()), n * 4, initval));
        }
        x = x * 1103515245 + 12345;
        words.push_back(x);
    }
}

TEST_CASE("jhash equals the byte-wise reference at every length", "[maps][jhash]") {
    CHECK(ebpf::jhash("Four score and seven years ago", 30, 0) == 0x17770551);
    CHECK(ebpf::jhash("Four score and seven years ago", 30, 1) == 0xcd628161);
    if (std::endian::native != std::endian::little) return;
    std::vector<uint8_t> bytes;
    for (uint32_t n = 0; n <= 64; ++n) {
        for (uint32_t initval : {0u, 5u, 0xdeadbeefu}) {
            INFO(n << " bytes, initval " << initval);
            CHECK(ebpf::jhash(bytes.data(), n, initval) == hashlittle(bytes.data(), n, initval));
        }
        bytes.push_back(static_cast<uint8_t>(n * 37 + 11));
    }
}
