#pragma once
// CidrSet: the /N blocks of one cluster CIDR (either family) handed to nodes as their podCIDRs,
// as upstream's pkg/controller/nodeipam/ipam/cidrset: allocation goes round-robin from the block
// after the last one given (so a block freed by a deleted node is not handed out again at once),
// occupy() marks blocks nodes already hold, release() frees one. A dual-stack cluster has one set
// per family.
//
// Thread-safety: none; the node IPAM controller guards it with its mutex.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/ip_cidr.h"
#include "core/result.h"

namespace berth::controllers::nodeipam {

class CidrSet {
 public:
  // BadRequest when the mask is not longer than the cluster prefix, or gives over 2^16 blocks
  // (upstream's limit for IPv6, "the node CIDR size is too big"; Berth keeps it for IPv4 too).
  static core::Result<CidrSet> create(const core::IpCidr& cluster, int nodeMaskSize);

  // The next free block; nullopt when the range is full (upstream: "CIDR allocation failed;
  // there are no remaining CIDRs left to allocate in the accepted range").
  std::optional<core::IpCidr> allocate();
  // Marks `cidr` taken. BadRequest when it is not one of this set's blocks (another size or
  // family, or outside the cluster CIDR); already taken is fine (idempotent).
  core::Status occupy(const core::IpCidr& cidr);
  void release(const core::IpCidr& cidr);
  bool isTaken(const core::IpCidr& cidr) const;
  size_t allocated() const { return allocated_; }
  size_t capacity() const { return used_.size(); }
  const core::IpCidr& cluster() const { return cluster_; }

 private:
  CidrSet(core::IpCidr cluster, int maskSize);
  std::optional<size_t> indexOf(const core::IpCidr& cidr) const;

  core::IpCidr cluster_;
  int maskSize_;
  std::vector<bool> used_;
  size_t next_ = 0;
  size_t allocated_ = 0;
};

}  // namespace berth::controllers::nodeipam
