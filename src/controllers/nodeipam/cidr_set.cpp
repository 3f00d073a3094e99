#include "controllers/nodeipam/cidr_set.h"

namespace berth::controllers::nodeipam {

using core::Status;

core::Result<CidrSet> CidrSet::create(const core::IpCidr& cluster, int nodeMaskSize) {
  if (nodeMaskSize < cluster.prefix || nodeMaskSize > cluster.bits())
    return Status::badRequest("node CIDR mask size " + std::to_string(nodeMaskSize) +
                              " must be between the cluster CIDR's prefix (" +
                              std::to_string(cluster.prefix) + ") and " +
                              std::to_string(cluster.bits()) + " for " + cluster.str());
  if (nodeMaskSize - cluster.prefix > 16)
    return Status::badRequest("mask size " + std::to_string(nodeMaskSize) + " for cluster CIDR " +
                              cluster.str() + " is too big (more than 2^16 node CIDRs)");
  return CidrSet(cluster, nodeMaskSize);
}

CidrSet::CidrSet(core::IpCidr cluster, int maskSize)
    : cluster_(cluster), maskSize_(maskSize), used_(size_t{1} << (maskSize - cluster.prefix)) {}

std::optional<core::IpCidr> CidrSet::allocate() {
  for (size_t i = 0; i < used_.size(); ++i) {
    size_t candidate = (next_ + i) % used_.size();
    if (used_[candidate]) continue;
    used_[candidate] = true;
    ++allocated_;
    next_ = (candidate + 1) % used_.size();
    core::IpCidr block = cluster_;
    block.prefix = maskSize_;
    block.base += core::Uint128{candidate} << (cluster_.bits() - maskSize_);
    return block;
  }
  return std::nullopt;
}

std::optional<size_t> CidrSet::indexOf(const core::IpCidr& cidr) const {
  if (cidr.ipv6 != cluster_.ipv6 || cidr.prefix != maskSize_ || !cluster_.contains(cidr.base))
    return std::nullopt;
  return static_cast<size_t>((cidr.base - cluster_.base) >> (cluster_.bits() - maskSize_));
}

Status CidrSet::occupy(const core::IpCidr& cidr) {
  auto i = indexOf(cidr);
  if (!i)
    return Status::badRequest("CIDR " + cidr.str() + " is not a /" + std::to_string(maskSize_) +
                              " block of the cluster CIDR " + cluster_.str());
  if (!used_[*i]) ++allocated_;
  used_[*i] = true;
  return {};
}

void CidrSet::release(const core::IpCidr& cidr) {
  auto i = indexOf(cidr);
  if (!i || !used_[*i]) return;
  used_[*i] = false;
  --allocated_;
}

bool CidrSet::isTaken(const core::IpCidr& cidr) const {
  auto i = indexOf(cidr);
  return i && used_[*i];
}

}  // namespace berth::controllers::nodeipam
