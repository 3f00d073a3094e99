#include "controllers/nodeipam/node_cidr_config.h"

#include <charconv>

#include "controllers/nodeipam/cidr_set.h"

namespace berth::controllers::nodeipam {

using core::Status;

namespace {

constexpr int kDefaultMaskIpv4 = 24, kDefaultMaskIpv6 = 64;

// 0 when absent (upstream's "not configured").
core::Result<int> maskFlag(const std::map<std::string, std::string>& flags,
                           const std::string& name) {
  auto it = flags.find(name);
  if (it == flags.end() || it->second.empty()) return 0;
  int v = 0;
  const std::string& s = it->second;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 1 || v > 128)
    return Status::badRequest("--" + name + ": invalid mask size \"" + s + "\"");
  return v;
}

}  // namespace

core::Result<NodeCidrConfig> nodeCidrConfig(const std::map<std::string, std::string>& flags) {
  NodeCidrConfig out;
  auto it = flags.find("cluster-cidr");
  auto cidrs = core::parseDualStackCidrs(it == flags.end() ? "10.244.0.0/16" : it->second,
                                         "--cluster-cidr");
  if (!cidrs.ok()) return cidrs.status();
  out.clusterCidrs = std::move(*cidrs);
  auto mask = maskFlag(flags, "node-cidr-mask-size");
  auto mask4 = maskFlag(flags, "node-cidr-mask-size-ipv4");
  auto mask6 = maskFlag(flags, "node-cidr-mask-size-ipv6");
  for (const auto* m : {&mask, &mask4, &mask6})
    if (!m->ok()) return m->status();
  int v4 = *mask4 ? *mask4 : kDefaultMaskIpv4, v6 = *mask6 ? *mask6 : kDefaultMaskIpv6;
  // Upstream's setNodeCIDRMaskSizes, case by case and in its words.
  if (out.clusterCidrs.size() > 1) {
    if (*mask)
      return Status::badRequest(
          "usage of --node-cidr-mask-size is not allowed with a dual-stack cluster CIDR, please "
          "use --node-cidr-mask-size-ipv4 and --node-cidr-mask-size-ipv6 instead");
  } else if (*mask) {
    if (*mask4 || *mask6)
      return Status::badRequest(
          "usage of --node-cidr-mask-size-ipv4 and --node-cidr-mask-size-ipv6 is not allowed if "
          "--node-cidr-mask-size is set. For dual-stack clusters please unset it and use IPFamily "
          "specific flags");
    v4 = v6 = *mask;
  } else if (out.clusterCidrs[0].ipv6 && *mask4) {
    return Status::badRequest(
        "usage of --node-cidr-mask-size-ipv4 is not allowed for a single-stack IPv6 cluster "
        "CIDR, please use --node-cidr-mask-size-ipv6 instead");
  } else if (!out.clusterCidrs[0].ipv6 && *mask6) {
    return Status::badRequest(
        "usage of --node-cidr-mask-size-ipv6 is not allowed for a single-stack IPv4 cluster "
        "CIDR, please use --node-cidr-mask-size-ipv4 instead");
  }
  for (const auto& c : out.clusterCidrs) {
    out.maskSizes.push_back(c.ipv6 ? v6 : v4);
    // The sets themselves check that the masks fit their CIDR; fail here, at flag time.
    if (auto set = CidrSet::create(c, out.maskSizes.back()); !set.ok()) return set.status();
  }
  return out;
}

}  // namespace berth::controllers::nodeipam
