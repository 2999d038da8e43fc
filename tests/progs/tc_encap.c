/* tc tunnel gateway: what the UDP destination port asks for, done with the helpers tunnels use.
 *   port 1: IP-in-IP encapsulation (bpf_skb_adjust_room in MAC mode, an outer IPv4 header written
 *           with bpf_skb_store_bytes), then a second encapsulation and a tail change, refused;
 *   port 2: 8 bytes of room after the IP header (NET mode), then taken out again;
 *   port 3: an outer MAC header pushed with bpf_skb_change_head, then cut out of the packet again
 *           with bpf_skb_adjust_room in MAC mode;
 *   port 4: bpf_skb_adjust_room and bpf_skb_change_head with bad arguments;
 *   port 5: the checksum level (bpf_csum_level) stepped and queried;
 *   port 6: tunnel metadata set and read back (bpf_skb_set_tunnel_key, _get_tunnel_key);
 *   port 7: bpf_redirect_peer; port 8: bpf_redirect_neigh with a nexthop; 9: with bad flags.
 * Every packet is marked ECN CE where it is ECN-capable (bpf_skb_ecn_set_ce), and its MAC and
 * network headers are read with bpf_skb_load_bytes_relative. Each result lands in `results`. */
#include "progs.h"

#define NRESULTS 48
/* BPF_F_ADJ_ROOM_DECAP_L3_IPV4: Linux 6.3's, newer than the UAPI headers here */
#define ADJ_ROOM_DECAP_L3_IPV4 (1ull << 7)

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, NRESULTS);
    __type(key, __u32);
    __type(value, __s64);
} results SEC(".maps");

static __always_inline void put(__u32 slot, __s64 value)
{
    bpf_map_update_elem(&results, &slot, &value, BPF_ANY);
}

static __always_inline int udp_dport(struct __sk_buff *skb)
{
    struct frame f = {};

    if (parse_frame((void *)(long)skb->data, (void *)(long)skb->data_end, &f) < 0 ||
        f.l4_proto != IPPROTO_UDP)
        return -1;
    return f.dport;
}

static __always_inline int ipip_encap(struct __sk_buff *skb)
{
    struct iphdr outer;

    if (bpf_skb_load_bytes(skb, ETH_HLEN, &outer, sizeof(outer)))
        return -1;
    put(0, bpf_skb_adjust_room(skb, sizeof(outer), BPF_ADJ_ROOM_MAC,
                               BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_FIXED_GSO));
    outer.protocol = IPPROTO_IPIP;
    outer.tot_len = bpf_htons(bpf_ntohs(outer.tot_len) + sizeof(outer));
    outer.saddr = bpf_htonl(0xc0a80001);
    outer.check = 0;
    put(1, bpf_skb_store_bytes(skb, ETH_HLEN, &outer, sizeof(outer), 0));
    put(2, skb->len);
    put(3, skb->protocol);
    put(4, bpf_skb_adjust_room(skb, sizeof(outer), BPF_ADJ_ROOM_MAC,
                               BPF_F_ADJ_ROOM_ENCAP_L3_IPV4));
    put(5, bpf_skb_change_tail(skb, skb->len + 4, 0));
    return 0;
}

static __always_inline void net_room(struct __sk_buff *skb)
{
    __u64 marker = 0x1122334455667788ull;
    __u32 l4 = ETH_HLEN + (skb->protocol == bpf_htons(ETH_P_IPV6) ? 40 : 20);

    put(6, bpf_skb_adjust_room(skb, 8, BPF_ADJ_ROOM_NET, 0));
    put(7, bpf_skb_store_bytes(skb, l4, &marker, sizeof(marker), 0));
    put(8, skb->len);
    put(9, bpf_skb_adjust_room(skb, -8, BPF_ADJ_ROOM_NET, 0));
    put(10, skb->len);
}

static __always_inline void outer_mac(struct __sk_buff *skb)
{
    __u8 mac[ETH_HLEN];

    put(11, bpf_skb_change_head(skb, ETH_HLEN, 0));
    put(12, skb->len);
    /* The MAC header is the new room now: it reads as zeros. */
    put(13, bpf_skb_load_bytes_relative(skb, 0, mac, sizeof(mac), BPF_HDR_START_MAC));
    put(14, mac[0] | mac[13]);
    put(15, bpf_skb_adjust_room(skb, -ETH_HLEN, BPF_ADJ_ROOM_MAC, 0));
    put(16, skb->len);
}

static __always_inline void bad_room(struct __sk_buff *skb)
{
    put(17, bpf_skb_adjust_room(skb, 4, BPF_ADJ_ROOM_MAC, 1ull << 9));
    put(18, bpf_skb_adjust_room(skb, 0x1000, BPF_ADJ_ROOM_MAC, 0));
    put(19, bpf_skb_adjust_room(skb, 4, 2, 0));
    put(20, bpf_skb_adjust_room(skb, 4, BPF_ADJ_ROOM_MAC, ADJ_ROOM_DECAP_L3_IPV4));
    put(21, bpf_skb_adjust_room(skb, -(int)skb->len, BPF_ADJ_ROOM_MAC, 0));
    put(22, bpf_skb_adjust_room(skb, -4, BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_ENCAP_L3_IPV4));
    put(23, bpf_skb_adjust_room(skb, 8, BPF_ADJ_ROOM_MAC,
                                BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L3_IPV6));
    put(24, bpf_skb_adjust_room(skb, 8, BPF_ADJ_ROOM_MAC,
                                BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L2(16)));
    put(25, bpf_skb_change_head(skb, 4, 1));
    put(26, bpf_skb_change_head(skb, 0x10000, 0));
}

static __always_inline void csum_levels(struct __sk_buff *skb)
{
    put(27, bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY));
    bpf_csum_level(skb, BPF_CSUM_LEVEL_INC);
    put(28, bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY));
    bpf_csum_level(skb, BPF_CSUM_LEVEL_INC);
    bpf_csum_level(skb, BPF_CSUM_LEVEL_INC);
    bpf_csum_level(skb, BPF_CSUM_LEVEL_INC);
    bpf_csum_level(skb, BPF_CSUM_LEVEL_INC);
    put(29, bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY));
    bpf_csum_level(skb, BPF_CSUM_LEVEL_DEC);
    put(30, bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY));
    put(31, bpf_csum_level(skb, 7));
    /* adjust_room resets the level unless told not to */
    bpf_skb_adjust_room(skb, 4, BPF_ADJ_ROOM_NET, BPF_F_ADJ_ROOM_NO_CSUM_RESET);
    put(32, bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY));
    bpf_skb_adjust_room(skb, -4, BPF_ADJ_ROOM_NET, 0);
    put(33, bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY));
}

static __always_inline void tunnel_keys(struct __sk_buff *skb)
{
    struct bpf_tunnel_key key = {};
    __u8 old[offsetof(struct bpf_tunnel_key, tunnel_label)];

    put(34, bpf_skb_get_tunnel_key(skb, &key, sizeof(key), 0));
    key.tunnel_id = 0xabcdef;
    key.remote_ipv4 = 0x0a000063;
    key.local_ipv4 = 0x0a000001;
    key.tunnel_tos = 0x10;
    key.tunnel_ttl = 7;
    put(35, bpf_skb_set_tunnel_key(skb, &key, sizeof(key), 1ull << 7));
    key.tunnel_label = 5;
    put(36, bpf_skb_set_tunnel_key(skb, &key, sizeof(key), 0));
    key.tunnel_label = 0;
    put(37, bpf_skb_set_tunnel_key(skb, &key, sizeof(key), BPF_F_DONT_FRAGMENT));
    __builtin_memset(&key, 0, sizeof(key));
    put(38, bpf_skb_get_tunnel_key(skb, &key, sizeof(key), BPF_F_TUNINFO_FLAGS));
    put(39, key.tunnel_id);
    put(40, ((__s64)key.remote_ipv4 << 32) | key.local_ipv4);
    put(41, key.tunnel_tos << 24 | key.tunnel_ttl << 16 | key.tunnel_flags);
    put(42, bpf_skb_get_tunnel_key(skb, &key, sizeof(key), BPF_F_TUNINFO_IPV6));
    put(43, bpf_skb_get_tunnel_key(skb, (void *)old, sizeof(old), 0));
    put(44, old[0] | old[4] << 8);
}

SEC("tc")
int tc_encap(struct __sk_buff *skb)
{
    __u8 mac[ETH_HLEN], net[20];
    struct bpf_redir_neigh nh = {.nh_family = 2, .ipv4_nh = 0x0100000a};
    int port;

    put(45, bpf_skb_ecn_set_ce(skb));
    put(46, bpf_skb_load_bytes_relative(skb, 0, mac, sizeof(mac), BPF_HDR_START_MAC) |
                bpf_skb_load_bytes_relative(skb, 0, net, sizeof(net), BPF_HDR_START_NET) << 8 |
                bpf_skb_load_bytes_relative(skb, 0, net, sizeof(net), 2) << 16 |
                (__s64)bpf_skb_load_bytes_relative(skb, 0xfff0, net, sizeof(net),
                                                   BPF_HDR_START_NET) << 32);
    put(47, mac[12] << 8 | net[1]);
    port = udp_dport(skb);
    switch (port) {
    case 1: return ipip_encap(skb) ? TC_ACT_SHOT : TC_ACT_OK;
    case 2: net_room(skb); break;
    case 3: outer_mac(skb); break;
    case 4: bad_room(skb); break;
    case 5: csum_levels(skb); break;
    case 6: tunnel_keys(skb); break;
    case 7: return bpf_redirect_peer(5, 0);
    case 8: return bpf_redirect_neigh(6, &nh, sizeof(nh), 0);
    case 9: return bpf_redirect_neigh(6, 0, 0, 1);
    }
    return TC_ACT_OK;
}
