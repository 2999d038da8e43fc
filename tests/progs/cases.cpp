#include "tests/progs/cases.hpp"

namespace oracle {

const std::vector<Case>& all_cases() {
    static const std::vector<Case> cases = [] {
        std::vector<Case> all = xdp_cases();
        for (auto& group : {skb_cases(), tracing_cases()})
            all.insert(all.end(), group.begin(), group.end());
        return all;
    }();
    return cases;
}

} // namespace oracle
