// What the program type allows: context fields (its is_valid_access) and packet writes
// (may_access_direct_pkt_data).
#include "verifier/env.hpp"
#include "vm/progtypes/prog_type_info.hpp"

#include <algorithm>

namespace ebpf::verifier {

int Env::check_ctx_access(int off, int size, bool write, bool sign_ext, RegType& loaded,
                          uint32_t& loaded_flags) {
    const ProgTypeInfo* info = prog_type_info(opts_.prog_type);
    const CtxAccess access =
        info
            ? info->is_valid_access(off, size, write ? BpfAccess::write : BpfAccess::read, sign_ext)
            : CtxAccess{};
    if (!access.ok) return reject(-EACCES_, "invalid bpf_context access off=%d size=%d", off, size);
    max_ctx_offset_ = std::max<uint32_t>(max_ctx_offset_, static_cast<uint32_t>(off + size));
    loaded_flags = 0;
    switch (access.reg_type) {
    case CtxRegType::scalar: loaded = RegType::scalar; break;
    case CtxRegType::packet: loaded = RegType::ptr_to_packet; break;
    case CtxRegType::packet_meta: loaded = RegType::ptr_to_packet_meta; break;
    case CtxRegType::packet_end: loaded = RegType::ptr_to_packet_end; break;
    case CtxRegType::sock_common_or_null:
        loaded = RegType::ptr_to_sock_common;
        loaded_flags = PTR_MAYBE_NULL;
        break;
    }
    return 0;
}

bool Env::packet_writable() const {
    const ProgTypeInfo* info = prog_type_info(opts_.prog_type);
    return info && info->packet_access == PacketAccess::read_write;
}

} // namespace ebpf::verifier
