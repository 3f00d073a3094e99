#include "proxy/node_addresses.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace berth::proxy {
namespace {

TEST(NodePortAddresses, ValidatesCidrsAndPrimary) {
  EXPECT_TRUE(validateNodePortAddresses({}).ok());
  EXPECT_TRUE(validateNodePortAddresses({"10.0.0.0/8", "fd00::/64"}).ok());
  EXPECT_TRUE(validateNodePortAddresses({"primary"}).ok());
  auto st = validateNodePortAddresses({"10.0.0.0/8", "10.1.2.3"});
  EXPECT_EQ(st.code(), 400);
  EXPECT_EQ(st.message(),
            "nodePortAddresses[1]: Invalid value: \"10.1.2.3\": must be a valid CIDR");
  EXPECT_EQ(validateNodePortAddresses({"fd00::/129"}).message(),
            "nodePortAddresses[0]: Invalid value: \"fd00::/129\": must be a valid CIDR");
  EXPECT_EQ(validateNodePortAddresses({"primary", "10.0.0.0/8"}).message(),
            "nodePortAddresses[0]: Invalid value: \"primary\": can't use both 'primary' and CIDRs");
}

TEST(NodePortAddresses, CidrContainsPerFamily) {
  EXPECT_TRUE(cidrContains("172.31.5.0/24", "172.31.5.11"));
  EXPECT_FALSE(cidrContains("172.31.5.0/24", "172.31.6.11"));
  EXPECT_TRUE(cidrContains("0.0.0.0/0", "8.8.8.8"));
  EXPECT_TRUE(cidrContains("10.0.0.0/9", "10.127.0.1"));
  EXPECT_FALSE(cidrContains("10.0.0.0/9", "10.128.0.1"));
  EXPECT_TRUE(cidrContains("fd00:10::/32", "fd00:10:96::1"));
  EXPECT_FALSE(cidrContains("fd00:10::/32", "fd00:11::1"));
  EXPECT_FALSE(cidrContains("::/0", "10.0.0.1")) << "families differ";
  EXPECT_FALSE(cidrContains("10.0.0.0/8", "not-an-ip"));
}

TEST(NodePortAddresses, SelectsTheNodesAddresses) {
  std::vector<std::string> local = {"127.0.0.1", "172.31.5.11", "10.244.1.1", "fd00::11", "::1"};
  EXPECT_EQ(selectNodePortAddresses({"172.31.0.0/16", "fd00::/8"}, local, ""),
            (std::vector<std::string>{"172.31.5.11", "fd00::11"}));
  EXPECT_EQ(selectNodePortAddresses({"primary"}, local, "172.31.5.11"),
            (std::vector<std::string>{"172.31.5.11"}));
  EXPECT_TRUE(selectNodePortAddresses({"primary"}, local, "192.0.2.1").empty());
  // This namespace's own interfaces: loopback at least.
  auto mine = localAddresses();
  EXPECT_NE(std::find(mine.begin(), mine.end(), "127.0.0.1"), mine.end());
}

}  // namespace
}  // namespace berth::proxy
