#include "controllers/nodeipam/cidr_set.h"

namespace berth::controllers::nodeipam {

using core::Status;

core::Result<CidrSet> CidrSet::create(const core::Ipv4Cidr& cluster, int nodeMaskSize) {
  if (nodeMaskSize < cluster.prefix || nodeMaskSize > 32)
    return Status::badRequest("--node-cidr-mask-size " + std::to_string(nodeMaskSize) +
                              " must be between the cluster CIDR's prefix (" +
                              std::to_string(cluster.prefix) + ") and 32");
  if (nodeMaskSize - cluster.prefix > 16)
    return Status::badRequest("mask size " + std::to_string(nodeMaskSize) + " for cluster CIDR " +
                              cluster.str() + " is too big (more than 2^16 node CIDRs)");
  return CidrSet(cluster, nodeMaskSize);
}

CidrSet::CidrSet(core::Ipv4Cidr cluster, int maskSize)
    : cluster_(cluster), maskSize_(maskSize), used_(size_t{1} << (maskSize - cluster.prefix)) {}

std::optional<core::Ipv4Cidr> CidrSet::allocate() {
  for (size_t i = 0; i < used_.size(); ++i) {
    size_t candidate = (next_ + i) % used_.size();
    if (used_[candidate]) continue;
    used_[candidate] = true;
    ++allocated_;
    next_ = (candidate + 1) % used_.size();
    uint32_t step = maskSize_ == 32 ? 1u : (1u << (32 - maskSize_));
    return core::Ipv4Cidr{cluster_.base + static_cast<uint32_t>(candidate) * step, maskSize_};
  }
  return std::nullopt;
}

std::optional<size_t> CidrSet::indexOf(const core::Ipv4Cidr& cidr) const {
  if (cidr.prefix != maskSize_ || !cluster_.contains(cidr.base)) return std::nullopt;
  return (cidr.base - cluster_.base) >> (32 - maskSize_);
}

Status CidrSet::occupy(const core::Ipv4Cidr& cidr) {
  auto i = indexOf(cidr);
  if (!i)
    return Status::badRequest("CIDR " + cidr.str() + " is not a /" + std::to_string(maskSize_) +
                              " block of the cluster CIDR " + cluster_.str());
  if (!used_[*i]) ++allocated_;
  used_[*i] = true;
  return {};
}

void CidrSet::release(const core::Ipv4Cidr& cidr) {
  auto i = indexOf(cidr);
  if (!i || !used_[*i]) return;
  used_[*i] = false;
  --allocated_;
}

bool CidrSet::isTaken(const core::Ipv4Cidr& cidr) const {
  auto i = indexOf(cidr);
  return i && used_[*i];
}

}  // namespace berth::controllers::nodeipam
