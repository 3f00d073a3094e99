#pragma once
// IPv4 addresses and CIDR blocks as the node IPAM controller and simulated nodes use them
// (cluster CIDR 10.244.0.0/16 split into a /24 per node, pod IPs from a node's podCIDR).
//
// Thread-safety: value types and stateless functions.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace berth::core {

struct Ipv4Cidr {
  uint32_t base = 0;  // host byte order, host bits zero
  int prefix = 0;     // 0..32

  uint64_t size() const { return uint64_t{1} << (32 - prefix); }
  bool contains(uint32_t ip) const {
    return prefix == 0 || (ip >> (32 - prefix)) == (base >> (32 - prefix));
  }
  std::string str() const;
};

// "a.b.c.d" → host byte order; BadRequest when it is not a dotted IPv4 address.
Result<uint32_t> parseIpv4(std::string_view text);
std::string formatIpv4(uint32_t ip);
// "a.b.c.d/n"; BadRequest when malformed or when host bits are set (Go's net.ParseCIDR accepts
// those, but Kubernetes validation of podCIDR and --cluster-cidr rejects them).
Result<Ipv4Cidr> parseIpv4Cidr(std::string_view text);

}  // namespace berth::core
