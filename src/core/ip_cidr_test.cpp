#include "core/ip_cidr.h"

#include <gtest/gtest.h>

namespace berth::core {
namespace {

TEST(IpCidr, ParsesBothFamiliesAndPrintsThemAsGoDoes) {
  auto v4 = parseIpCidr("10.244.0.0/16");
  ASSERT_TRUE(v4.ok());
  EXPECT_FALSE(v4->ipv6);
  EXPECT_EQ(v4->str(), "10.244.0.0/16");
  EXPECT_TRUE(v4->contains(parseIpCidr("10.244.3.7/32")->base));
  EXPECT_FALSE(v4->contains(parseIpCidr("10.245.0.0/16")->base));
  auto v6 = parseIpCidr("fd00:10:244:0000::/56");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->ipv6);
  EXPECT_STREQ(v6->family(), "IPv6");
  EXPECT_EQ(v6->str(), "fd00:10:244::/56");
  EXPECT_TRUE(v6->contains(parseIpCidr("fd00:10:244:ff::/64")->base));
  EXPECT_FALSE(v6->contains(parseIpCidr("fd00:10:244:100::/64")->base));
  EXPECT_EQ(parseIpCidr("::/0")->str(), "::/0");
  EXPECT_EQ(formatIp(parseIpCidr("fd00::1/128")->base, true), "fd00::1");
}

TEST(IpCidr, RejectsMalformedMappedAndHostBits) {
  for (const char* bad : {"", "10.0.0.0", "10.0.0.0/33", "fd00::/129", "fd00::/", "x/8",
                          "::ffff:10.0.0.0/104", "10.0.0.0/8/8", "10.0.0.0/ 8"})
    EXPECT_EQ(parseIpCidr(bad).status().code(), 400) << bad;
  auto host = parseIpCidr("fd00::1/64");
  EXPECT_EQ(host.status().message(),
            "invalid CIDR address: fd00::1/64 (host bits set; did you mean fd00::/64?)");
}

TEST(IpCidr, DualStackListsAreOneOfEachFamilyAtMostTwo) {
  auto pair = parseDualStackCidrs("10.244.0.0/16,fd00:10:244::/56", "--cluster-cidr");
  ASSERT_TRUE(pair.ok());
  ASSERT_EQ(pair->size(), 2u);
  EXPECT_FALSE((*pair)[0].ipv6);
  EXPECT_TRUE((*pair)[1].ipv6);
  auto sixFirst = parseDualStackCidrs("fd00::/48,10.244.0.0/16", "--cluster-cidr");
  ASSERT_TRUE(sixFirst.ok());
  EXPECT_TRUE((*sixFirst)[0].ipv6);
  EXPECT_EQ(parseDualStackCidrs("10.244.0.0/16,10.245.0.0/16", "--cluster-cidr").status().message(),
            "--cluster-cidr: len of ClusterCIDRs==2 and they are not configured as dual stack (at "
            "least one from each IPFamily");
  EXPECT_EQ(parseDualStackCidrs("10.244.0.0/16,fd00::/48,10.1.0.0/16", "--cluster-cidr")
                .status()
                .message(),
            "--cluster-cidr: length of clusterCIDRs is:3 more than max allowed of 2");
  EXPECT_EQ(parseDualStackCidrs("10.244.0.0/16,", "--cluster-cidr").status().message(),
            "--cluster-cidr: invalid CIDR address: ");
}

}  // namespace
}  // namespace berth::core
