#pragma once
// CidrSet: the /N blocks of a cluster CIDR handed to nodes as their podCIDR, as upstream's
// pkg/controller/nodeipam/ipam/cidrset: allocation goes round-robin from the block after the
// last one given (so a block freed by a deleted node is not handed out again at once), occupy()
// marks blocks nodes already hold, release() frees one.
//
// Thread-safety: none; the node IPAM controller guards it with its mutex.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/ipv4_cidr.h"
#include "core/result.h"

namespace berth::controllers::nodeipam {

class CidrSet {
 public:
  // BadRequest when the mask is not longer than the cluster prefix, or gives over 2^16 blocks
  // (upstream's limit: "mask size ... is too big" for more than 16 bits of difference).
  static core::Result<CidrSet> create(const core::Ipv4Cidr& cluster, int nodeMaskSize);

  // The next free block; nullopt when the range is full (upstream: "CIDR allocation failed;
  // there are no remaining CIDRs left to allocate in the accepted range").
  std::optional<core::Ipv4Cidr> allocate();
  // Marks `cidr` taken. BadRequest when it is not one of this set's blocks (another size, or
  // outside the cluster CIDR); already taken is fine (idempotent).
  core::Status occupy(const core::Ipv4Cidr& cidr);
  void release(const core::Ipv4Cidr& cidr);
  bool isTaken(const core::Ipv4Cidr& cidr) const;
  size_t allocated() const { return allocated_; }
  size_t capacity() const { return used_.size(); }

 private:
  CidrSet(core::Ipv4Cidr cluster, int maskSize);
  std::optional<size_t> indexOf(const core::Ipv4Cidr& cidr) const;

  core::Ipv4Cidr cluster_;
  int maskSize_;
  std::vector<bool> used_;
  size_t next_ = 0;
  size_t allocated_ = 0;
};

}  // namespace berth::controllers::nodeipam
