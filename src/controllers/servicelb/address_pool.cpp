#include "controllers/servicelb/address_pool.h"

#include <algorithm>

#include "core/ipv4_cidr.h"

namespace berth::controllers::servicelb {

using core::Status;

core::Result<AddressPool> AddressPool::parse(const std::string& spec) {
  AddressPool pool;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    std::string entry = spec.substr(start, comma == std::string::npos ? std::string::npos
                                                                      : comma - start);
    start = comma == std::string::npos ? spec.size() + 1 : comma + 1;
    entry.erase(0, entry.find_first_not_of(' '));
    entry.erase(entry.find_last_not_of(' ') + 1);
    if (entry.empty()) continue;
    auto bad = [&] {
      return Status::badRequest("--service-lb-pool: " + entry +
                                " is not an IPv4 CIDR, address or first-last range");
    };
    if (entry.find('/') != std::string::npos) {
      auto cidr = core::parseIpv4Cidr(entry);
      if (!cidr.ok()) return bad();
      uint32_t first = cidr->base, last = cidr->base + static_cast<uint32_t>(cidr->size() - 1);
      if (cidr->prefix < 31) {
        ++first;  // not the network address
        --last;   // nor the broadcast address
      }
      pool.ranges_.emplace_back(first, last);
    } else if (auto dash = entry.find('-'); dash != std::string::npos) {
      auto lo = core::parseIpv4(entry.substr(0, dash));
      auto hi = core::parseIpv4(entry.substr(dash + 1));
      if (!lo.ok() || !hi.ok() || *lo > *hi) return bad();
      pool.ranges_.emplace_back(*lo, *hi);
    } else {
      auto ip = core::parseIpv4(entry);
      if (!ip.ok()) return bad();
      pool.ranges_.emplace_back(*ip, *ip);
    }
  }
  std::sort(pool.ranges_.begin(), pool.ranges_.end());
  return pool;
}

bool AddressPool::contains(uint32_t ip) const {
  return std::any_of(ranges_.begin(), ranges_.end(),
                     [ip](const auto& r) { return ip >= r.first && ip <= r.second; });
}

std::string AddressPool::holder(uint32_t ip) const {
  auto it = taken_.find(ip);
  return it == taken_.end() ? "" : it->second;
}

bool AddressPool::take(uint32_t ip, const std::string& owner) {
  if (!contains(ip)) return false;
  auto it = taken_.find(ip);
  if (it != taken_.end()) return it->second == owner;
  if (auto held = heldBy(owner)) release(*held, owner);
  taken_[ip] = owner;
  byOwner_[owner] = ip;
  return true;
}

std::optional<uint32_t> AddressPool::takeAny(const std::string& owner) {
  if (auto held = heldBy(owner)) return held;
  for (const auto& [first, last] : ranges_) {
    // Walk the taken addresses of this range instead of every address in it.
    uint32_t candidate = first;
    for (auto it = taken_.lower_bound(first); it != taken_.end() && it->first <= last; ++it) {
      if (it->first != candidate) break;
      if (candidate == last) break;
      ++candidate;
    }
    if (!taken_.count(candidate) && candidate >= first && candidate <= last) {
      taken_[candidate] = owner;
      byOwner_[owner] = candidate;
      return candidate;
    }
  }
  return std::nullopt;
}

void AddressPool::release(uint32_t ip, const std::string& owner) {
  auto it = taken_.find(ip);
  if (it == taken_.end() || it->second != owner) return;
  taken_.erase(it);
  byOwner_.erase(owner);
}

std::optional<uint32_t> AddressPool::heldBy(const std::string& owner) const {
  auto it = byOwner_.find(owner);
  if (it == byOwner_.end()) return std::nullopt;
  return it->second;
}

}  // namespace berth::controllers::servicelb
