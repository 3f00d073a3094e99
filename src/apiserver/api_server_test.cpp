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

TEST(ResolveServiceNetwork, Ipv6OnlyTakesDnsFromTheIpv6Range) {
  ApiServerConfig c;
  c.serviceClusterIpRange = "fd00:10:96::/108";
  c.bindAddress = "::1";
  auto n = resolveServiceNetwork(c);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(n->clusterDns, "fd00:10:96::a");
  EXPECT_EQ(n->ranges.firstIp(), "fd00:10:96::1");
  EXPECT_FALSE(n->ranges.hasIpv4);
}

// Upstream's validatePublicIPServiceClusterIPRangeIPFamilies: the `kubernetes` Service's one
// endpoint (the advertise address) must be of its ClusterIP's (the primary range's) family.
TEST(ResolveServiceNetwork, TheAdvertiseAddressMustBeOfThePrimaryFamily) {
  ApiServerConfig v6First;
  v6First.serviceClusterIpRange = "fd00:10:96::/108,10.96.0.0/12";
  v6First.bindAddress = "127.0.0.1";
  auto bad = resolveServiceNetwork(v6First);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), 400);
  EXPECT_EQ(bad.status().message(),
            "--service-cluster-ip-range fd00:10:96::/108,10.96.0.0/12 and --bind-address "
            "127.0.0.1 do not fit: service IP family \"fd00:10:96::/108\" must match public "
            "address family \"127.0.0.1\" (give --advertise-address an address of the primary "
            "range's family)");
  v6First.advertiseAddress = "fd00:78::1";
  EXPECT_TRUE(resolveServiceNetwork(v6First).ok());
  EXPECT_EQ(advertiseAddressOf(v6First), "fd00:78::1");

  ApiServerConfig v6Only;
  v6Only.serviceClusterIpRange = "fd00:10:96::/108";
  v6Only.advertiseAddress = "192.168.1.1";
  auto badAdvertise = resolveServiceNetwork(v6Only);
  ASSERT_FALSE(badAdvertise.ok());
  EXPECT_NE(badAdvertise.status().message().find("and --advertise-address 192.168.1.1 do not fit"),
            std::string::npos)
      << badAdvertise.status().message();

  ApiServerConfig v4;
  v4.bindAddress = "::";
  EXPECT_FALSE(resolveServiceNetwork(v4).ok()) << "an IPv4 range with an IPv6 bind address";
  v4.bindAddress = "0.0.0.0";
  EXPECT_TRUE(resolveServiceNetwork(v4).ok());
  v4.advertiseAddress = "api.example";
  auto notIp = resolveServiceNetwork(v4);
  ASSERT_FALSE(notIp.ok());
  EXPECT_EQ(notIp.status().message(), "--advertise-address api.example: not an IP address");
}

}  // namespace
}  // namespace berth::apiserver
