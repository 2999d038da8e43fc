#include "helpers/registry.hpp"

#include "helpers/kernel_ids.hpp"

#include <array>

namespace ebpf {

void HelperRegistry::add(int32_t id, std::string name, HelperFn fn) {
    helpers_[id] = Helper{id, std::move(name), fn};
}

const Helper* HelperRegistry::find(int32_t id) const {
    auto it = helpers_.find(id);
    return it == helpers_.end() ? nullptr : &it->second;
}

std::string kernel_helper_name(int32_t id) {
    static constexpr std::array names{
#define EBPF_X_NAME(name, id) #name,
        EBPF_KERNEL_HELPERS(EBPF_X_NAME)
#undef EBPF_X_NAME
    };
    if (id <= 0 || static_cast<size_t>(id) >= names.size()) return "";
    return std::string("bpf_") + names[static_cast<size_t>(id)];
}

} // namespace ebpf
