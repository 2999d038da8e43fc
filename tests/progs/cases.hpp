// The oracle's cases: every program of tests/progs with the control-plane state it needs and
// its inputs, grouped by how they run.
#pragma once

#include "tests/progs/oracle.hpp"

#include <vector>

namespace oracle {

std::vector<Case> xdp_cases();
std::vector<Case> skb_cases();     // sched_cls, socket filter, cgroup_skb
std::vector<Case> tracing_cases(); // raw_tracepoint (the kernel test-runs it), kprobe,
                                   // tracepoint, perf_event (expectations)

const std::vector<Case>& all_cases();

} // namespace oracle
