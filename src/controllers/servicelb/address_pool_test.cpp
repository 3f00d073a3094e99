// AddressPool: parsing of CIDRs, addresses and ranges; each address to one owner; release.
#include "controllers/servicelb/address_pool.h"

#include <gtest/gtest.h>

#include "core/ipv4_cidr.h"

namespace berth::controllers::servicelb {
namespace {

uint32_t ip(const char* s) { return *core::parseIpv4(s); }

TEST(AddressPool, ParsesEntriesAndSkipsNetworkAndBroadcast) {
  auto pool = AddressPool::parse("192.0.2.0/30, 198.51.100.7,203.0.113.10-203.0.113.11");
  ASSERT_TRUE(pool.ok()) << pool.status().message();
  EXPECT_FALSE(pool->contains(ip("192.0.2.0")));
  EXPECT_TRUE(pool->contains(ip("192.0.2.1")));
  EXPECT_TRUE(pool->contains(ip("192.0.2.2")));
  EXPECT_FALSE(pool->contains(ip("192.0.2.3")));
  EXPECT_TRUE(pool->contains(ip("198.51.100.7")));
  EXPECT_TRUE(pool->contains(ip("203.0.113.11")));
  EXPECT_FALSE(pool->contains(ip("203.0.113.12")));
  EXPECT_TRUE(AddressPool::parse("")->empty());
  for (const char* bad : {"10.0.0.0/33", "10.0.0.300", "10.0.0.5-10.0.0.1", "x"}) {
    auto r = AddressPool::parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find(bad), std::string::npos) << r.status().message();
  }
}

TEST(AddressPool, EachAddressOnceAndReleasedForTheNext) {
  auto pool = *AddressPool::parse("10.1.0.1-10.1.0.3");
  EXPECT_EQ(pool.takeAny("a"), ip("10.1.0.1"));
  EXPECT_EQ(pool.takeAny("a"), ip("10.1.0.1")) << "an owner keeps its address";
  EXPECT_TRUE(pool.take(ip("10.1.0.3"), "c"));
  EXPECT_FALSE(pool.take(ip("10.1.0.3"), "b")) << "taken by c";
  EXPECT_FALSE(pool.take(ip("10.9.9.9"), "b")) << "outside the pool";
  EXPECT_EQ(pool.holder(ip("10.1.0.3")), "c");
  EXPECT_EQ(pool.takeAny("b"), ip("10.1.0.2"));
  EXPECT_EQ(pool.takeAny("d"), std::nullopt) << "exhausted";
  pool.release(ip("10.1.0.1"), "not-a");  // only the holder releases
  EXPECT_EQ(pool.takeAny("d"), std::nullopt);
  pool.release(ip("10.1.0.1"), "a");
  EXPECT_EQ(pool.takeAny("d"), ip("10.1.0.1"));
  // Taking another address moves the owner.
  pool.release(ip("10.1.0.3"), "c");
  EXPECT_TRUE(pool.take(ip("10.1.0.3"), "d"));
  EXPECT_EQ(pool.holder(ip("10.1.0.1")), "");
  EXPECT_EQ(pool.heldBy("d"), ip("10.1.0.3"));
}

}  // namespace
}  // namespace berth::controllers::servicelb
