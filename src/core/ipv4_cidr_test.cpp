#include "core/ipv4_cidr.h"

#include <gtest/gtest.h>

namespace berth::core {

TEST(Ipv4Cidr, ParsesAndFormats) {
  auto c = parseIpv4Cidr("10.244.0.0/16");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->prefix, 16);
  EXPECT_EQ(c->size(), 65536u);
  EXPECT_EQ(c->str(), "10.244.0.0/16");
  EXPECT_TRUE(c->contains(*parseIpv4("10.244.255.7")));
  EXPECT_FALSE(c->contains(*parseIpv4("10.245.0.1")));
  EXPECT_EQ(formatIpv4(*parseIpv4("192.168.1.2")), "192.168.1.2");
  auto all = parseIpv4Cidr("0.0.0.0/0");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->contains(*parseIpv4("8.8.8.8")));
}

TEST(Ipv4Cidr, RejectsMalformedAndHostBits) {
  for (const char* bad : {"10.244.0.0", "10.244.0.0/", "10.244.0.0/33", "10.244.0.0/1a",
                          "10.244.0/16", "fd00::/64", "/16", "10.244.1.0/16"}) {
    auto c = parseIpv4Cidr(bad);
    EXPECT_FALSE(c.ok()) << bad;
    if (!c.ok()) EXPECT_EQ(c.status().code(), 400) << bad;
  }
  EXPECT_NE(parseIpv4Cidr("10.244.1.0/16").status().message().find("10.244.0.0/16"),
            std::string::npos);
}

}  // namespace berth::core
