#pragma once
// IP addresses and CIDR blocks of either family, for what is dual-stack: the cluster CIDR pair of
// the node IPAM controller (10.244.0.0/16,fd00:10:244::/56) and the nodes' podCIDRs cut from it.
// core/ipv4_cidr.h stays the IPv4-only type the single-stack callers use.
//
// Thread-safety: value types and stateless functions.
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace berth::core {

using Uint128 = unsigned __int128;

struct IpCidr {
  Uint128 base = 0;  // the network address as a number; IPv4 in the low 32 bits; host bits zero
  int prefix = 0;    // 0..32 or 0..128
  bool ipv6 = false;

  int bits() const { return ipv6 ? 128 : 32; }
  const char* family() const { return ipv6 ? "IPv6" : "IPv4"; }
  // Whether `ip` (same family, as a number) lies in this block.
  bool contains(Uint128 ip) const;
  std::string str() const;
};

// "10.244.0.0/16" or "fd00:10:244::/56"; BadRequest ("invalid CIDR address: ...") when
// malformed, an IPv4-mapped IPv6 address, or with host bits set.
Result<IpCidr> parseIpCidr(std::string_view text);
// An address of `ipv6`'s family as text (RFC 5952 for IPv6, as Go prints it).
std::string formatIp(Uint128 ip, bool ipv6);

// A comma-separated list of one or two CIDRs, as kube-controller-manager's --cluster-cidr:
// two must be one of each family ("dual-stack"); upstream's messages for more than two or two of
// one family. `flag` names the flag in the messages.
Result<std::vector<IpCidr>> parseDualStackCidrs(std::string_view list, const std::string& flag);

}  // namespace berth::core
