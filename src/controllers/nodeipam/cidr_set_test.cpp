#include "controllers/nodeipam/cidr_set.h"

#include <gtest/gtest.h>

#include <set>

namespace berth::controllers::nodeipam {
namespace {

core::IpCidr cidr(const char* s) { return *core::parseIpCidr(s); }

TEST(CidrSet, AllocatesEverySlash24OfTheClusterCidrOnceThenRunsOut) {
  auto set = CidrSet::create(cidr("10.244.0.0/16"), 24);
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->capacity(), 256u);
  std::set<std::string> seen;
  for (int i = 0; i < 256; ++i) {
    auto c = set->allocate();
    ASSERT_TRUE(c.has_value()) << i;
    EXPECT_EQ(c->prefix, 24);
    EXPECT_TRUE(cidr("10.244.0.0/16").contains(c->base));
    EXPECT_TRUE(seen.insert(c->str()).second) << "handed out twice: " << c->str();
  }
  EXPECT_EQ(*seen.begin(), "10.244.0.0/24");
  EXPECT_FALSE(set->allocate().has_value());
  set->release(cidr("10.244.7.0/24"));
  auto again = set->allocate();
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->str(), "10.244.7.0/24");
}

TEST(CidrSet, OccupiedBlocksAreSkippedAndReleasedOnesComeBackLast) {
  auto set = CidrSet::create(cidr("10.244.0.0/16"), 24);
  ASSERT_TRUE(set.ok());
  ASSERT_TRUE(set->occupy(cidr("10.244.0.0/24")).ok());
  ASSERT_TRUE(set->occupy(cidr("10.244.1.0/24")).ok());
  ASSERT_TRUE(set->occupy(cidr("10.244.1.0/24")).ok());  // idempotent
  EXPECT_EQ(set->allocated(), 2u);
  EXPECT_EQ(set->allocate()->str(), "10.244.2.0/24");
  set->release(cidr("10.244.0.0/24"));
  // Round-robin: the freed block is not reused before the rest of the range.
  EXPECT_EQ(set->allocate()->str(), "10.244.3.0/24");
  EXPECT_FALSE(set->isTaken(cidr("10.244.0.0/24")));
  EXPECT_TRUE(set->isTaken(cidr("10.244.3.0/24")));
}

TEST(CidrSet, RejectsForeignBlocksAndBadMasks) {
  auto set = CidrSet::create(cidr("10.244.0.0/16"), 24);
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->occupy(cidr("10.245.0.0/24")).code(), 400);
  EXPECT_EQ(set->occupy(cidr("10.244.0.0/25")).code(), 400);
  EXPECT_FALSE(CidrSet::create(cidr("10.244.0.0/16"), 8).ok());
  EXPECT_FALSE(CidrSet::create(cidr("10.0.0.0/8"), 26).ok());  // 2^18 blocks
  auto small = CidrSet::create(cidr("192.168.0.0/30"), 32);
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->capacity(), 4u);
  EXPECT_EQ(small->allocate()->str(), "192.168.0.0/32");
}

TEST(CidrSet, Ipv6SlashSixtyFoursOfASlashFiftySix) {
  auto set = CidrSet::create(cidr("fd00:10:244::/56"), 64);
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->capacity(), 256u);
  EXPECT_EQ(set->allocate()->str(), "fd00:10:244::/64");
  EXPECT_EQ(set->allocate()->str(), "fd00:10:244:1::/64");
  ASSERT_TRUE(set->occupy(cidr("fd00:10:244:ff::/64")).ok());
  EXPECT_EQ(set->allocated(), 3u);
  EXPECT_EQ(set->occupy(cidr("fd00:10:245::/64")).code(), 400);  // outside
  EXPECT_EQ(set->occupy(cidr("10.244.0.0/24")).code(), 400);     // the other family
  // The last block of a /48 cut into /64s: index 0xffff, high bits of the address.
  auto wide = CidrSet::create(cidr("fd00:1::/48"), 64);
  ASSERT_TRUE(wide.ok());
  ASSERT_TRUE(wide->occupy(cidr("fd00:1:0:ffff::/64")).ok());
  EXPECT_TRUE(wide->isTaken(cidr("fd00:1:0:ffff::/64")));
  EXPECT_FALSE(CidrSet::create(cidr("fd00::/32"), 64).ok());  // 2^32 blocks
  EXPECT_FALSE(CidrSet::create(cidr("fd00::/56"), 129).ok());
}

}  // namespace
}  // namespace berth::controllers::nodeipam
