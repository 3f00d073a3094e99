#include "core/cluster_dns_ip.h"

#include <gtest/gtest.h>

namespace berth::core {

TEST(ClusterDnsIp, DefaultsToTheTenthAddressOfTheRange) {
  EXPECT_EQ(*clusterDnsIp("10.96.0.0/12", ""), std::string(kDefaultClusterDns));
  EXPECT_EQ(*clusterDnsIp("10.43.0.0/16", ""), "10.43.0.10");  // k3s's default range
  EXPECT_EQ(*clusterDnsIp("172.20.4.0/28", ""), "172.20.4.10");
  auto tiny = clusterDnsIp("172.20.4.0/29", "");
  ASSERT_FALSE(tiny.ok());
  EXPECT_EQ(tiny.status().code(), 400);
  EXPECT_NE(tiny.status().message().find("no 10th address"), std::string::npos);
}

TEST(ClusterDnsIp, TakesTheTenthAddressOfAnIpv6PrimaryRange) {
  EXPECT_EQ(*clusterDnsIp("fd00:10:96::/108", ""), "fd00:10:96::a");
  EXPECT_EQ(*clusterDnsIp("fd00:10:96::/108", "fd00:10:96::53"), "fd00:10:96::53");
  // IPv6 has no broadcast address: the range's last address is a ClusterIP.
  EXPECT_EQ(*clusterDnsIp("fd00:10:96::/112", "fd00:10:96::ffff"), "fd00:10:96::ffff");
  EXPECT_FALSE(clusterDnsIp("fd00:10:96::/108", "fd00:10:96::1").ok());
  EXPECT_FALSE(clusterDnsIp("fd00:10:96::/108", "fd00:10:97::a").ok());
  auto v4 = clusterDnsIp("fd00:10:96::/108", "10.96.0.10");
  ASSERT_FALSE(v4.ok());
  EXPECT_NE(v4.status().message().find("invalid IPv6 address \"10.96.0.10\""), std::string::npos)
      << v4.status().message();
}

TEST(ClusterDnsIp, TakesARequestedAddressInsideTheRange) {
  EXPECT_EQ(*clusterDnsIp("10.43.0.0/16", "10.43.255.53"), "10.43.255.53");
  EXPECT_EQ(*clusterDnsIp("10.96.0.0/12", "10.100.0.2"), "10.100.0.2");
}

TEST(ClusterDnsIp, RefusesAddressesThatCannotBeTheDnsServicesClusterIp) {
  struct Case {
    const char *range, *ip, *message;
  } cases[] = {
      {"10.43.0.0/16", "10.96.0.10",
       "--cluster-dns 10.96.0.10 is not inside the service range 10.43.0.0/16"},
      {"10.43.0.0/16", "10.43.0.0", "is the network address of the service range"},
      {"10.43.0.0/16", "10.43.255.255", "is the broadcast address"},
      {"10.43.0.0/16", "10.43.0.1", "which the `kubernetes` Service holds"},
      {"10.43.0.0/16", "dns.local", "--cluster-dns: invalid IPv4 address \"dns.local\""},
      {"10.43.0.0/16", "fd00::10", "invalid IPv4 address"},
      {"10.43.0.1/16", "10.43.0.10", "service range: invalid CIDR address"},
      {"banana", "", "service range: invalid CIDR address: banana"},
  };
  for (const auto& c : cases) {
    auto r = clusterDnsIp(c.range, c.ip);
    ASSERT_FALSE(r.ok()) << c.range << " " << c.ip;
    EXPECT_EQ(r.status().code(), 400);
    EXPECT_NE(r.status().message().find(c.message), std::string::npos) << r.status().message();
  }
}

}  // namespace berth::core
