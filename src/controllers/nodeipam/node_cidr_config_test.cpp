#include "controllers/nodeipam/node_cidr_config.h"

#include <gtest/gtest.h>

namespace berth::controllers::nodeipam {
namespace {

using Flags = std::map<std::string, std::string>;

std::string masks(const Flags& flags) {
  auto c = nodeCidrConfig(flags);
  if (!c.ok()) return c.status().message();
  std::string out;
  for (size_t i = 0; i < c->clusterCidrs.size(); ++i)
    out += (i ? "," : "") + c->clusterCidrs[i].str() + ":" + std::to_string(c->maskSizes[i]);
  return out;
}

TEST(NodeCidrConfig, DefaultsPerFamilyInClusterCidrOrder) {
  EXPECT_EQ(masks({}), "10.244.0.0/16:24");
  EXPECT_EQ(masks({{"cluster-cidr", "10.244.0.0/16,fd00:10:244::/56"}}),
            "10.244.0.0/16:24,fd00:10:244::/56:64");
  EXPECT_EQ(masks({{"cluster-cidr", "fd00::/48,10.244.0.0/16"}}), "fd00::/48:64,10.244.0.0/16:24");
  EXPECT_EQ(masks({{"cluster-cidr", "10.244.0.0/16,fd00::/48"},
                   {"node-cidr-mask-size-ipv4", "26"},
                   {"node-cidr-mask-size-ipv6", "60"}}),
            "10.244.0.0/16:26,fd00::/48:60");
  EXPECT_EQ(masks({{"cluster-cidr", "fd00::/48"}}), "fd00::/48:64");
  EXPECT_EQ(masks({{"cluster-cidr", "fd00::/56"}, {"node-cidr-mask-size", "64"}}), "fd00::/56:64");
  EXPECT_EQ(masks({{"cluster-cidr", "10.250.0.0/22"}, {"node-cidr-mask-size", "24"}}),
            "10.250.0.0/22:24");
}

TEST(NodeCidrConfig, UpstreamMessagesForFlagsThatDoNotFit) {
  EXPECT_EQ(masks({{"cluster-cidr", "10.244.0.0/16,fd00::/48"}, {"node-cidr-mask-size", "24"}}),
            "usage of --node-cidr-mask-size is not allowed with a dual-stack cluster CIDR, please "
            "use --node-cidr-mask-size-ipv4 and --node-cidr-mask-size-ipv6 instead");
  EXPECT_EQ(masks({{"node-cidr-mask-size", "24"}, {"node-cidr-mask-size-ipv4", "25"}}),
            "usage of --node-cidr-mask-size-ipv4 and --node-cidr-mask-size-ipv6 is not allowed if "
            "--node-cidr-mask-size is set. For dual-stack clusters please unset it and use "
            "IPFamily specific flags");
  EXPECT_EQ(masks({{"cluster-cidr", "fd00::/48"}, {"node-cidr-mask-size-ipv4", "24"}}),
            "usage of --node-cidr-mask-size-ipv4 is not allowed for a single-stack IPv6 cluster "
            "CIDR, please use --node-cidr-mask-size-ipv6 instead");
  EXPECT_EQ(masks({{"node-cidr-mask-size-ipv6", "64"}}),
            "usage of --node-cidr-mask-size-ipv6 is not allowed for a single-stack IPv4 cluster "
            "CIDR, please use --node-cidr-mask-size-ipv4 instead");
  EXPECT_EQ(masks({{"cluster-cidr", "fd00::/48,fd01::/48"}}),
            "--cluster-cidr: len of ClusterCIDRs==2 and they are not configured as dual stack (at "
            "least one from each IPFamily");
  // A mask that does not fit its CIDR: the set's own check, at flag time.
  EXPECT_EQ(masks({{"cluster-cidr", "10.244.0.0/16,fd00::/32"}}),
            "mask size 64 for cluster CIDR fd00::/32 is too big (more than 2^16 node CIDRs)");
  EXPECT_EQ(masks({{"node-cidr-mask-size-ipv4", "x"}}),
            "--node-cidr-mask-size-ipv4: invalid mask size \"x\"");
}

}  // namespace
}  // namespace berth::controllers::nodeipam
