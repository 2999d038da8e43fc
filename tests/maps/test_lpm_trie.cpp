// BPF_MAP_TYPE_LPM_TRIE.
#include "tests/maps/map_test_support.hpp"

#include <algorithm>
#include <random>

using namespace ebpf;
using test::load;
using test::map_def;

namespace {

struct Key4 {
    uint32_t prefixlen;
    uint8_t data[4];
};

Key4 ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint32_t prefixlen) {
    return Key4{prefixlen, {a, b, c, d}};
}

std::shared_ptr<Map> trie(uint32_t max_entries, uint32_t data_size = 4) {
    return test::make_map(
        map_def(MapType::lpm_trie, 4 + data_size, 4, max_entries, BPF_F_NO_PREALLOC));
}

long lookup_value(Map& map, const Key4& key) {
    void* v = map.lookup(&key, 0);
    return v ? static_cast<long>(load<uint32_t>(v)) : -1L;
}

int bit(const uint8_t* data, uint32_t i) {
    return (data[i / 8] >> (7 - i % 8)) & 1;
}

// The kernel's post order: a prefix after the longer ones it covers, the 0 side first.
bool post_order_before(const Key4& a, const Key4& b) {
    const uint32_t common = std::min(a.prefixlen, b.prefixlen);
    for (uint32_t i = 0; i < common; ++i)
        if (bit(a.data, i) != bit(b.data, i)) return bit(a.data, i) < bit(b.data, i);
    return a.prefixlen > b.prefixlen;
}

std::vector<Key4> walk(Map& map) {
    std::vector<Key4> keys;
    Key4 key, next;
    const void* prev = nullptr;
    while (map.get_next_key(prev, &next) == 0) {
        keys.push_back(next);
        REQUIRE(keys.size() < 10000);
        key = next;
        prev = &key;
    }
    return keys;
}

std::string show(const Key4& k) {
    return std::to_string(k.data[0]) + "." + std::to_string(k.data[1]) + "." +
           std::to_string(k.data[2]) + "." + std::to_string(k.data[3]) + "/" +
           std::to_string(k.prefixlen);
}

bool same(const Key4& a, const Key4& b) {
    return a.prefixlen == b.prefixlen && std::memcmp(a.data, b.data, 4) == 0;
}

} // namespace

TEST_CASE("lpm trie: longest prefix wins on lookup", "[maps][lpm]") {
    auto map = trie(8);
    const std::pair<Key4, uint32_t> entries[] = {
        {ip(192, 168, 0, 0, 16), 1}, {ip(192, 168, 0, 0, 24), 2}, {ip(192, 168, 128, 0, 24), 3},
        {ip(192, 168, 1, 0, 24), 5}, {ip(10, 0, 0, 0, 8), 10},    {ip(0, 0, 0, 0, 0), 99},
    };
    for (const auto& [key, value] : entries)
        REQUIRE(map->update(&key, &value, BPF_ANY, 0) == 0);
    CHECK(lookup_value(*map, ip(192, 168, 0, 77, 32)) == 2);
    CHECK(lookup_value(*map, ip(192, 168, 1, 1, 32)) == 5);
    CHECK(lookup_value(*map, ip(192, 168, 2, 1, 32)) == 1);
    CHECK(lookup_value(*map, ip(192, 168, 128, 9, 32)) == 3);
    CHECK(lookup_value(*map, ip(192, 168, 129, 9, 32)) == 1);
    CHECK(lookup_value(*map, ip(10, 20, 30, 40, 32)) == 10);
    CHECK(lookup_value(*map, ip(11, 0, 0, 0, 32)) == 99);
    // the key's own prefixlen bounds the match
    CHECK(lookup_value(*map, ip(192, 168, 1, 1, 23)) == 1);
    CHECK(lookup_value(*map, ip(192, 168, 1, 1, 8)) == 99);
    CHECK(map->lookup(&entries[0].first, 0) != nullptr);
    const Key4 too_long = ip(192, 168, 1, 1, 33);
    CHECK(map->lookup(&too_long, 0) == nullptr);
    uint32_t out;
    CHECK(map->sys_lookup(&too_long, &out) == -kerr::enoent);
    const Key4 host = ip(192, 168, 1, 1, 32);
    CHECK(map->sys_lookup(&host, &out) == 0);
    CHECK(out == 5);
}

TEST_CASE("lpm trie: exact match on update and delete, with the kernel's errors", "[maps][lpm]") {
    auto map = trie(2);
    const Key4 a = ip(10, 1, 0, 0, 16), b = ip(10, 1, 0, 0, 24), c = ip(10, 2, 0, 0, 16);
    uint32_t value = 1;
    CHECK(map->update(&a, &value, BPF_EXIST, 0) == -kerr::enoent);
    CHECK(map->update(&a, &value, BPF_NOEXIST, 0) == 0);
    CHECK(map->update(&a, &value, BPF_NOEXIST, 0) == -kerr::eexist);
    CHECK(map->update(&a, &value, 3, 0) == -kerr::einval);
    CHECK(map->update(&a, &value, BPF_F_LOCK, 0) == -kerr::einval);
    CHECK(map->sys_update(&a, &value, BPF_F_LOCK) == -kerr::einval);
    const Key4 bad = ip(10, 1, 0, 0, 33);
    CHECK(map->update(&bad, &value, BPF_ANY, 0) == -kerr::einval);
    CHECK(map->erase(&bad) == -kerr::einval);
    value = 2;
    CHECK(map->update(&b, &value, BPF_ANY, 0) == 0);
    CHECK(map->update(&c, &value, BPF_ANY, 0) == -kerr::enospc); // full
    value = 3;
    CHECK(map->update(&a, &value, BPF_EXIST, 0) == 0); // replacing needs no room
    CHECK(lookup_value(*map, ip(10, 1, 7, 7, 32)) == 3);
    CHECK(map->erase(&c) == -kerr::enoent);
    CHECK(map->sys_delete(&b) == 0);
    CHECK(map->sys_delete(&b) == -kerr::enoent);
    CHECK(lookup_value(*map, ip(10, 1, 0, 7, 32)) == 3);
    CHECK(map->update(&c, &value, BPF_ANY, 0) == 0);
    uint32_t out;
    CHECK(map->sys_lookup_and_delete(&a, &out) == -kerr::enotsupp);
}

TEST_CASE("lpm trie: direct_lookup answers as lookup", "[maps][lpm]") {
    auto map = trie(8);
    const Key4 route = ip(192, 168, 0, 0, 16);
    const uint32_t value = 7;
    REQUIRE(map->update(&route, &value, BPF_ANY, 0) == 0);
    const Map::DirectLookup direct = map->direct_lookup();
    REQUIRE(direct);
    for (const Key4& key : {ip(192, 168, 3, 4, 32), ip(192, 169, 0, 0, 32), ip(192, 0, 0, 0, 8)})
        CHECK(direct(map.get(), &key) == map->lookup(&key, 0));
    const Key4 inside = ip(192, 168, 3, 4, 32);
    CHECK(direct(map.get(), &inside) != nullptr);
}

TEST_CASE("lpm trie: intermediate nodes are neither entries nor found", "[maps][lpm]") {
    auto map = trie(3);
    const Key4 left = ip(192, 168, 0, 0, 24), right = ip(192, 168, 1, 0, 24);
    const Key4 join = ip(192, 168, 0, 0, 23); // the intermediate node's prefix
    uint32_t value = 1;
    REQUIRE(map->update(&left, &value, BPF_ANY, 0) == 0);
    REQUIRE(map->update(&right, &value, BPF_ANY, 0) == 0);
    CHECK(lookup_value(*map, ip(192, 168, 2, 0, 32)) == -1);
    CHECK(map->erase(&join) == -kerr::enoent);
    CHECK(map->update(&join, &value, BPF_EXIST, 0) == -kerr::enoent);
    value = 23;
    CHECK(map->update(&join, &value, BPF_NOEXIST, 0) == 0); // the intermediate turns real
    CHECK(lookup_value(*map, ip(192, 168, 1, 200, 23)) == 23);
    const Key4 fourth = ip(172, 16, 0, 0, 12);
    CHECK(map->update(&fourth, &value, BPF_ANY, 0) == -kerr::enospc);
    CHECK(map->erase(&join) == 0); // back to intermediate: two children
    CHECK(map->update(&fourth, &value, BPF_ANY, 0) == 0);
    CHECK(map->erase(&left) == 0); // takes the intermediate parent along
    CHECK(lookup_value(*map, ip(192, 168, 1, 3, 32)) == 1);
    CHECK(lookup_value(*map, ip(192, 168, 0, 3, 32)) == -1);
    CHECK(walk(*map).size() == 2);
}

TEST_CASE("lpm trie: get_next_key walks in the kernel's post order", "[maps][lpm]") {
    auto map = trie(8);
    Key4 next;
    CHECK(map->get_next_key(nullptr, &next) == -kerr::enoent);
    // the example of kernel/bpf/lpm_trie.c
    const Key4 keys[] = {ip(192, 168, 0, 0, 16), ip(192, 168, 0, 0, 24), ip(192, 168, 128, 0, 24),
                         ip(192, 168, 1, 0, 24)};
    uint32_t value = 0;
    for (const auto& key : keys)
        REQUIRE(map->update(&key, &value, BPF_ANY, 0) == 0);
    const auto order = walk(*map);
    REQUIRE(order.size() == 4);
    CHECK(same(order[0], ip(192, 168, 0, 0, 24)));
    CHECK(same(order[1], ip(192, 168, 1, 0, 24)));
    CHECK(same(order[2], ip(192, 168, 128, 0, 24)));
    CHECK(same(order[3], ip(192, 168, 0, 0, 16)));
    const Key4 missing = ip(1, 2, 3, 4, 32);
    CHECK(map->get_next_key(&missing, &next) == 0);
    CHECK(same(next, order[0]));
    const Key4 too_long = ip(1, 2, 3, 4, 40);
    CHECK(map->get_next_key(&too_long, &next) == 0);
    CHECK(same(next, order[0]));
    CHECK(map->get_next_key(&order[3], &next) == -kerr::enoent);
}

// Random prefixes against a list that knows the answers: lookups, the walk, and deletes.
TEST_CASE("lpm trie: random updates, lookups and deletes agree with a model", "[maps][lpm]") {
    std::mt19937 rng(12345);
    auto map = trie(200);
    std::vector<std::pair<Key4, uint32_t>> model;
    auto canonical = [](Key4 k) { // keys equal up to their prefix are one entry
        for (uint32_t i = k.prefixlen; i < 32; ++i)
            k.data[i / 8] &= ~(1u << (7 - i % 8));
        return k;
    };
    auto model_find = [&](const Key4& k) {
        return std::find_if(model.begin(), model.end(), [&](auto& e) { return same(e.first, k); });
    };
    auto model_lookup = [&](const Key4& k) {
        long best = -1;
        uint32_t best_len = 0;
        for (const auto& [e, v] : model) {
            if (e.prefixlen > k.prefixlen || (best >= 0 && e.prefixlen < best_len)) continue;
            bool match = true;
            for (uint32_t i = 0; i < e.prefixlen && match; ++i)
                match = bit(e.data, i) == bit(k.data, i);
            if (match) {
                best = v;
                best_len = e.prefixlen;
            }
        }
        return best;
    };
    for (int round = 0; round < 3000; ++round) {
        const uint32_t r = rng();
        // few distinct top bits, so prefixes nest and share paths
        Key4 key = canonical(
            Key4{r % 33,
                 {static_cast<uint8_t>(0xc0 | (rng() & 3)), static_cast<uint8_t>(rng() & 0x81),
                  static_cast<uint8_t>(rng()), static_cast<uint8_t>(rng())}});
        const uint32_t value = rng();
        if (rng() % 3 == 0) {
            const auto it = model_find(key);
            CHECK(map->erase(&key) == (it == model.end() ? -kerr::enoent : 0));
            if (it != model.end()) model.erase(it);
        } else {
            const auto it = model_find(key);
            const long expected = it != model.end() ? 0 : model.size() == 200 ? -kerr::enospc : 0;
            REQUIRE(map->update(&key, &value, BPF_ANY, 0) == expected);
            if (it != model.end())
                it->second = value;
            else if (expected == 0)
                model.emplace_back(key, value);
        }
        Key4 probe{32,
                   {static_cast<uint8_t>(0xc0 | (rng() & 3)), static_cast<uint8_t>(rng() & 0x81),
                    static_cast<uint8_t>(rng()), static_cast<uint8_t>(rng())}};
        probe.prefixlen = rng() % 33;
        REQUIRE(lookup_value(*map, probe) == model_lookup(probe));
    }
    std::vector<Key4> expected;
    for (const auto& e : model)
        expected.push_back(e.first);
    std::sort(expected.begin(), expected.end(), post_order_before);
    const auto order = walk(*map);
    REQUIRE(order.size() == expected.size());
    for (size_t i = 0; i < order.size(); ++i) {
        INFO(i << ": " << show(order[i]) << " where " << show(expected[i]) << " was expected");
        CHECK(same(order[i], expected[i]));
    }
    for (const auto& e : model)
        CHECK(map->erase(&e.first) == 0);
    Key4 next;
    CHECK(map->get_next_key(nullptr, &next) == -kerr::enoent);
    // all nodes and values came back: the trie fills to max_entries again
    for (uint32_t i = 0; i < 200; ++i) {
        const Key4 key = ip(10, static_cast<uint8_t>(i), 0, 0, 24);
        CHECK(map->update(&key, &i, BPF_NOEXIST, 0) == 0);
    }
}

TEST_CASE("lpm trie: wide keys and owns", "[maps][lpm][checked]") {
    struct Key16 {
        uint32_t prefixlen;
        uint8_t data[16];
    };
    auto map = trie(4, 16);
    Key16 net{48, {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34}};
    uint32_t value = 6;
    CHECK(map->update(&net, &value, BPF_ANY, 0) == 0);
    Key16 host{128, {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
    void* v = map->lookup(&host, 0);
    REQUIRE(v);
    CHECK(load<uint32_t>(v) == 6);
    CHECK(map->owns(reinterpret_cast<uint64_t>(v), 4, true));
    CHECK_FALSE(map->owns(reinterpret_cast<uint64_t>(v), 5, true));
    host.data[5] = 0x35;
    CHECK(map->lookup(&host, 0) == nullptr);
    host.prefixlen = 129;
    CHECK(map->update(&host, &value, BPF_ANY, 0) == -kerr::einval);
}

// Lookups take no lock: while writers add and delete routes outside 10.0.0.0/8, every lookup
// inside it still finds that route, and every value found is the map's memory.
TEST_CASE("lpm trie: lookups during updates and deletes", "[maps][lpm][threads]") {
    auto map = trie(256);
    const Key4 stable = ip(10, 0, 0, 0, 8);
    const uint32_t stable_value = 1000;
    REQUIRE(map->update(&stable, &stable_value, BPF_ANY, 0) == 0);
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> bad{0}, updates{0}, reads{0};

    auto writer = [&](uint32_t seed) {
        uint32_t x = seed;
        while (!stop) {
            x = x * 1664525 + 1013904223;
            const auto first = static_cast<uint8_t>(11 + (x >> 8) % 200); // never 10
            const Key4 key = ip(first, static_cast<uint8_t>(x >> 16), 0, 0, 8 + (x >> 24) % 9);
            const uint32_t value = x;
            if ((x >> 4) % 2)
                map->update(&key, &value, BPF_ANY, 0);
            else
                map->erase(&key);
            ++updates;
        }
    };
    auto reader = [&](uint32_t seed) {
        uint32_t x = seed;
        while (!stop) {
            x = x * 1664525 + 1013904223;
            const Key4 inside =
                ip(10, static_cast<uint8_t>(x), static_cast<uint8_t>(x >> 8), 1, 32);
            if (lookup_value(*map, inside) != stable_value) ++bad;
            const Key4 any = ip(static_cast<uint8_t>(x >> 8), static_cast<uint8_t>(x >> 16),
                                static_cast<uint8_t>(x >> 24), 1, 32);
            if (void* p = map->lookup(&any, 0);
                p && !map->owns(reinterpret_cast<uint64_t>(p), 4, false))
                ++bad;
            ++reads;
        }
    };
    test::race(stop, 300, writer, reader);
    INFO(updates << " updates, " << reads << " reads");
    CHECK(updates > 1000);
    CHECK(reads > 1000);
    CHECK(bad == 0);
    for (const Key4& key : walk(*map))
        if (!same(key, stable)) CHECK(map->erase(&key) == 0);
    CHECK(walk(*map).size() == 1);
}
