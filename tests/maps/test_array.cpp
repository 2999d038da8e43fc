// BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY.
#include "maps/spin_lock.hpp"
#include "tests/maps/map_test_support.hpp"

#include <atomic>
#include <thread>

using namespace ebpf;
using test::load;
using test::map_def;

TEST_CASE("array: values start zeroed and update in place", "[maps][array]") {
    auto map = test::make_map(map_def(MapType::array, 4, 12, 4));
    uint32_t key = 2;
    auto* value = static_cast<uint8_t*>(map->lookup(&key, 0));
    REQUIRE(value);
    for (int i = 0; i < 12; ++i)
        CHECK(value[i] == 0);
    const uint8_t fresh[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    CHECK(map->update(&key, fresh, BPF_ANY, 0) == 0);
    CHECK(std::memcmp(value, fresh, 12) == 0);
    CHECK(map->lookup(&key, 0) == value);
    uint8_t out[12] = {};
    CHECK(map->sys_lookup(&key, out) == 0);
    CHECK(std::memcmp(out, fresh, 12) == 0);
    CHECK(map->update(&key, fresh, BPF_EXIST, 0) == 0);
    key = 4;
    CHECK(map->lookup(&key, 0) == nullptr);
    CHECK(map->sys_lookup(&key, out) == -kerr::enoent);
}

TEST_CASE("array: the kernel's update and delete errors", "[maps][array]") {
    auto map = test::make_map(map_def(MapType::array, 4, 4, 2));
    uint32_t key = 0, value = 7;
    CHECK(map->update(&key, &value, BPF_NOEXIST, 0) == -kerr::eexist);
    CHECK(map->update(&key, &value, 3, 0) == -kerr::einval);
    CHECK(map->update(&key, &value, BPF_F_LOCK, 0) == -kerr::einval); // no bpf_spin_lock
    CHECK(map->sys_update(&key, &value, BPF_F_LOCK) == -kerr::einval);
    key = 2;
    CHECK(map->update(&key, &value, BPF_ANY, 0) == -kerr::e2big);
    CHECK(map->sys_update(&key, &value, BPF_ANY) == -kerr::e2big);
    CHECK(map->update(&key, &value, BPF_NOEXIST, 0) == -kerr::e2big); // range before flags
    key = 1;
    CHECK(map->erase(&key) == -kerr::einval);
    CHECK(map->sys_delete(&key) == -kerr::einval);
    CHECK(map->sys_lookup_and_delete(&key, &value) == -kerr::enotsupp);
}

TEST_CASE("array: get_next_key walks the indices", "[maps][array]") {
    auto map = test::make_map(map_def(MapType::array, 4, 4, 3));
    uint32_t next = 99;
    CHECK(map->get_next_key(nullptr, &next) == 0);
    CHECK(next == 0);
    uint32_t key = 0;
    CHECK(map->get_next_key(&key, &next) == 0);
    CHECK(next == 1);
    key = 1;
    CHECK(map->get_next_key(&key, &next) == 0);
    CHECK(next == 2);
    key = 2;
    CHECK(map->get_next_key(&key, &next) == -kerr::enoent);
    key = 77; // out of range starts over
    CHECK(map->get_next_key(&key, &next) == 0);
    CHECK(next == 0);
}

TEST_CASE("percpu array: each CPU its copy, the syscall all of them", "[maps][array][percpu]") {
    const uint32_t ncpus = 3;
    auto map = test::make_map(map_def(MapType::percpu_array, 4, 4, 2), ncpus);
    REQUIRE(map->percpu_value_stride() == 8);
    uint32_t key = 1;
    for (uint32_t cpu = 0; cpu < ncpus; ++cpu) {
        const uint32_t value = 100 + cpu;
        CHECK(map->update(&key, &value, BPF_ANY, cpu) == 0);
    }
    CHECK(map->lookup(&key, ncpus) == nullptr);
    uint32_t value = 1;
    CHECK(map->update(&key, &value, BPF_ANY, ncpus) == -kerr::einval);
    for (uint32_t cpu = 0; cpu < ncpus; ++cpu)
        CHECK(load<uint32_t>(map->lookup(&key, cpu)) == 100 + cpu);
    CHECK(map->lookup(&key, 0) != map->lookup(&key, 1));

    uint64_t all[ncpus];
    CHECK(map->sys_lookup(&key, all) == 0);
    for (uint32_t cpu = 0; cpu < ncpus; ++cpu)
        CHECK(all[cpu] == 100 + cpu);

    // the syscall copies round_up(value_size, 8) bytes a CPU, padding included, as the kernel
    const uint64_t in[ncpus] = {0x1111111122222222, 0x3333333344444444, 0x5555555566666666};
    CHECK(map->sys_update(&key, in, BPF_ANY) == 0);
    CHECK(load<uint32_t>(map->lookup(&key, 2)) == 0x66666666);
    uint64_t out[ncpus] = {};
    CHECK(map->sys_lookup(&key, out) == 0);
    CHECK(std::memcmp(in, out, sizeof(in)) == 0);

    CHECK(map->sys_update(&key, in, BPF_NOEXIST) == -kerr::eexist);
    CHECK(map->sys_update(&key, in, BPF_F_LOCK) == -kerr::einval);
    CHECK(map->sys_update(&key, in, 3) == -kerr::einval);
    key = 2;
    CHECK(map->sys_update(&key, in, BPF_ANY) == -kerr::e2big);
    CHECK(map->direct_value(0) == nullptr);
}

TEST_CASE("array: BPF_F_RDONLY and BPF_F_WRONLY restrict the syscall only", "[maps][array]") {
    uint32_t key = 0, value = 5, next;
    auto ro = test::make_map(map_def(MapType::array, 4, 4, 2, BPF_F_RDONLY));
    CHECK(ro->sys_update(&key, &value, BPF_ANY) == -kerr::eperm);
    CHECK(ro->sys_delete(&key) == -kerr::eperm);
    CHECK(ro->sys_lookup(&key, &value) == 0);
    CHECK(ro->get_next_key(nullptr, &next) == 0);
    CHECK(ro->update(&key, &value, BPF_ANY, 0) == 0);

    auto wo = test::make_map(map_def(MapType::array, 4, 4, 2, BPF_F_WRONLY));
    CHECK(wo->sys_lookup(&key, &value) == -kerr::eperm);
    CHECK(wo->get_next_key(nullptr, &next) == -kerr::eperm);
    CHECK(wo->sys_update(&key, &value, BPF_ANY) == 0);
    CHECK(wo->lookup(&key, 0) != nullptr);
}

TEST_CASE("array: BPF_F_LOCK copies all but the bpf_spin_lock, under it", "[maps][array][lock]") {
    auto def = map_def(MapType::array, 4, 16, 1);
    def.spin_lock_off = 4;
    auto map = test::make_map(def);
    uint32_t key = 0;
    auto* value = static_cast<uint8_t*>(map->lookup(&key, 0));
    uint8_t in[16];
    std::memset(in, 0xab, sizeof(in));
    CHECK(map->sys_update(&key, in, BPF_ANY) == 0);
    CHECK(load<uint32_t>(value + 4) == 0); // the lock word is not copied
    CHECK(value[0] == 0xab);
    CHECK(value[15] == 0xab);

    // A program holds the lock: the BPF_F_LOCK update waits for it.
    acquire_bpf_spin_lock(value + 4);
    std::atomic<bool> done{false};
    std::memset(in, 0xcd, sizeof(in));
    std::thread writer([&] {
        CHECK(map->sys_update(&key, in, BPF_F_LOCK) == 0);
        done = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK_FALSE(done);
    CHECK(value[0] == 0xab);
    release_bpf_spin_lock(value + 4);
    writer.join();
    CHECK(done);
    CHECK(value[0] == 0xcd);
    CHECK(load<uint32_t>(value + 4) == 0);

    // The syscall hands the lock out as zero even while it is held.
    acquire_bpf_spin_lock(value + 4);
    uint8_t out[16];
    CHECK(map->sys_lookup(&key, out) == 0);
    CHECK(load<uint32_t>(out + 4) == 0);
    CHECK(out[8] == 0xcd);
    release_bpf_spin_lock(value + 4);
    CHECK(map->update(&key, in, BPF_F_LOCK | BPF_EXIST, 0) == 0);
    CHECK(map->update(&key, in, BPF_F_LOCK | BPF_NOEXIST, 0) == -kerr::eexist);
}

TEST_CASE("array: direct_value for single-element arrays", "[maps][array]") {
    auto global = test::make_map(map_def(MapType::array, 4, 24, 1));
    uint32_t key = 0;
    auto* value = static_cast<uint8_t*>(global->lookup(&key, 0));
    CHECK(global->direct_value(0) == value);
    CHECK(global->direct_value(23) == value + 23);
    CHECK(global->direct_value(24) == nullptr);
    auto two = test::make_map(map_def(MapType::array, 4, 24, 2));
    CHECK(two->direct_value(0) == nullptr);
}

TEST_CASE("array: owns covers one value at a time", "[maps][array][checked]") {
    auto map = test::make_map(map_def(MapType::array, 4, 12, 3));
    uint32_t key = 1;
    const auto v1 = reinterpret_cast<uint64_t>(map->lookup(&key, 0));
    CHECK(map->owns(v1, 12, true));
    CHECK(map->owns(v1 + 4, 8, false));
    CHECK_FALSE(map->owns(v1 + 4, 9, false));  // into the padding
    CHECK_FALSE(map->owns(v1 + 12, 4, false)); // the padding itself
    CHECK_FALSE(map->owns(v1 + 8, 12, false)); // across two values
    CHECK(map->owns(v1 + 16, 4, false));       // the next value
    key = 2;
    const auto v2 = reinterpret_cast<uint64_t>(map->lookup(&key, 0));
    CHECK(map->owns(v2, 12, false));
    CHECK_FALSE(map->owns(v2 + 16, 1, false)); // past the last
    CHECK_FALSE(map->owns(v1 - 24, 4, false)); // before the first
    CHECK_FALSE(map->owns(v1, 0xffffffffffffffffULL, false));

    auto ro = test::make_map(map_def(MapType::array, 4, 8, 1, BPF_F_RDONLY_PROG));
    const auto r = reinterpret_cast<uint64_t>(ro->direct_value(0));
    CHECK(ro->owns(r, 8, false));
    CHECK_FALSE(ro->owns(r, 8, true));
    auto wo = test::make_map(map_def(MapType::array, 4, 8, 1, BPF_F_WRONLY_PROG));
    const auto w = reinterpret_cast<uint64_t>(wo->direct_value(0));
    CHECK(wo->owns(w, 8, true));
    CHECK_FALSE(wo->owns(w, 8, false));

    auto pc = test::make_map(map_def(MapType::percpu_array, 4, 4, 2), 2);
    key = 1;
    const auto c1 = reinterpret_cast<uint64_t>(pc->lookup(&key, 1));
    CHECK(pc->owns(c1, 4, true));
    CHECK_FALSE(pc->owns(c1, 8, true));
}

TEST_CASE("array: concurrent updates of one element never tear", "[maps][array][threads]") {
    auto map = test::make_map(map_def(MapType::array, 4, 64, 2));
    std::atomic<bool> stop{false};
    std::atomic<int> torn{0};
    auto writer = [&](uint8_t fill) {
        uint8_t value[64];
        std::memset(value, fill, sizeof(value));
        uint32_t key = 1;
        while (!stop)
            map->sys_update(&key, value, BPF_ANY);
    };
    std::thread a(writer, 0x11), b(writer, 0x22);
    uint32_t key = 1;
    for (int i = 0; i < 20000; ++i) {
        uint8_t out[64];
        REQUIRE(map->sys_lookup(&key, out) == 0);
        for (int j = 1; j < 64; ++j)
            if (out[j] != out[0]) ++torn;
    }
    stop = true;
    a.join();
    b.join();
    CHECK(torn == 0);
}
