// resolveServiceNetwork: the one check of the Service network that `berth server` runs on its
// flags before it opens the store and ApiServer::start runs again.
#include "apiserver/api_server.h"

#include <gtest/gtest.h>

namespace berth::apiserver {
namespace {

TEST(ResolveServiceNetwork, DefaultsGiveTheTenthAddressForDns) {
  ApiServerConfig c;
  auto n = resolveServiceNetwork(c);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(n->clusterDns, "10.96.0.10");
  EXPECT_EQ(n->ranges.firstIp(), "10.96.0.1");
  EXPECT_EQ(n->ranges.portMin, 30000);
  EXPECT_FALSE(n->ranges.dualStack());
}

TEST(ResolveServiceNetwork, DualStackTakesDnsFromTheIpv4Range) {
  ApiServerConfig c;
  c.serviceClusterIpRange = "10.43.0.0/16,fd00:10:43::/112";
  c.clusterDns = "10.43.0.53";
  auto n = resolveServiceNetwork(c);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(n->clusterDns, "10.43.0.53");
  EXPECT_TRUE(n->ranges.dualStack());
}

TEST(ResolveServiceNetwork, ErrorsNameTheFlag) {
  ApiServerConfig badRange;
  badRange.serviceClusterIpRange = "bogus";
  auto r = resolveServiceNetwork(badRange);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), 400);
  EXPECT_NE(r.status().message().find("--service-cluster-ip-range"), std::string::npos);

  ApiServerConfig badPorts;
  badPorts.serviceNodePortRange = "5-1";
  auto p = resolveServiceNetwork(badPorts);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("--service-node-port-range"), std::string::npos);

  ApiServerConfig badDns;
  badDns.clusterDns = "1.2.3.4";
  auto d = resolveServiceNetwork(badDns);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("--cluster-dns 1.2.3.4 is not inside"), std::string::npos);
}

}  // namespace
}  // namespace berth::apiserver
