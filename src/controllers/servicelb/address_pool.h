#pragma once
// AddressPool: the IPv4 addresses the service load balancer hands to LoadBalancer Services
// (--service-lb-pool: comma-separated CIDRs, single addresses or first-last ranges, e.g.
// "192.0.2.0/28,198.51.100.7,203.0.113.10-203.0.113.20"). Each address belongs to at most one
// Service; a CIDR's network and broadcast addresses are left out (except /31 and /32).
//
// Thread-safety: none; the controller guards it with its mutex.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace berth::controllers::servicelb {

class AddressPool {
 public:
  // BadRequest naming the entry that is not a CIDR, address or range.
  static core::Result<AddressPool> parse(const std::string& spec);

  bool empty() const { return ranges_.empty(); }
  bool contains(uint32_t ip) const;
  // The holder of `ip`, or "" when free.
  std::string holder(uint32_t ip) const;
  // Takes `ip` for `owner`; false when it is outside the pool or someone else holds it.
  bool take(uint32_t ip, const std::string& owner);
  // The lowest free address, taken for `owner`; nullopt when the pool is exhausted.
  std::optional<uint32_t> takeAny(const std::string& owner);
  void release(uint32_t ip, const std::string& owner);
  // The address `owner` holds.
  std::optional<uint32_t> heldBy(const std::string& owner) const;

 private:
  std::vector<std::pair<uint32_t, uint32_t>> ranges_;  // inclusive, sorted
  std::map<uint32_t, std::string> taken_;
  std::map<std::string, uint32_t> byOwner_;
};

}  // namespace berth::controllers::servicelb
