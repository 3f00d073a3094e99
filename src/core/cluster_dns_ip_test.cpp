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
