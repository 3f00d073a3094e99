#pragma once
// What the node IPAM controller cuts podCIDRs from: --cluster-cidr (one CIDR, or an IPv4,IPv6
// pair in either order: the first is the primary family) and the node mask size per CIDR, read
// from the flags as kube-controller-manager does (setNodeCIDRMaskSizes): --node-cidr-mask-size
// for a single-stack cluster, --node-cidr-mask-size-ipv4/-ipv6 (defaults /24 and /64) for
// either, the old flag refused with a dual-stack cluster CIDR.
//
// Thread-safety: stateless functions.
#include <map>
#include <string>
#include <vector>

#include "core/ip_cidr.h"
#include "core/result.h"

namespace berth::controllers::nodeipam {

struct NodeCidrConfig {
  std::vector<core::IpCidr> clusterCidrs;  // one per family, primary first
  std::vector<int> maskSizes;              // the node mask of each, same order
};

// From the controller flags "cluster-cidr", "node-cidr-mask-size", "node-cidr-mask-size-ipv4",
// "node-cidr-mask-size-ipv6" (absent = upstream's defaults; cluster-cidr 10.244.0.0/16).
// BadRequest with upstream's message when they do not fit together.
core::Result<NodeCidrConfig> nodeCidrConfig(const std::map<std::string, std::string>& flags);

}  // namespace berth::controllers::nodeipam
