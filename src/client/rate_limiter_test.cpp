#include "client/rate_limiter.h"

#include <gtest/gtest.h>

namespace berth::client {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(TokenBucket, BurstThenQps) {
  FakeClock clock;
  TokenBucket b(10, 3, clock);  // 10/s: one token per 100 ms
  EXPECT_EQ(b.reserve(), Clock::Duration::zero());
  EXPECT_EQ(b.reserve(), Clock::Duration::zero());
  EXPECT_EQ(b.reserve(), Clock::Duration::zero());
  // Bucket empty: reservations queue up 100 ms apart.
  EXPECT_NEAR(std::chrono::duration<double>(b.reserve()).count(), 0.1, 1e-6);
  EXPECT_NEAR(std::chrono::duration<double>(b.reserve()).count(), 0.2, 1e-6);
  EXPECT_FALSE(b.tryAccept());
  clock.advance(milliseconds(500));  // pays back the two reservations, banks three
  EXPECT_TRUE(b.tryAccept());
  EXPECT_TRUE(b.tryAccept());
  EXPECT_TRUE(b.tryAccept());
  EXPECT_FALSE(b.tryAccept());
}

TEST(TokenBucket, NeverBanksMoreThanBurst) {
  FakeClock clock;
  TokenBucket b(100, 2, clock);
  clock.advance(seconds(60));
  EXPECT_TRUE(b.tryAccept());
  EXPECT_TRUE(b.tryAccept());
  EXPECT_FALSE(b.tryAccept());
}

TEST(TokenBucket, ZeroQpsIsUnlimited) {
  TokenBucket b(0, 1);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(b.reserve(), Clock::Duration::zero());
}

TEST(ItemExponential, DoublesPerFailureUpToMaxAndForgets) {
  ItemExponentialRateLimiter l(milliseconds(5), seconds(1000));
  EXPECT_EQ(l.when("a"), milliseconds(5));
  EXPECT_EQ(l.when("a"), milliseconds(10));
  EXPECT_EQ(l.when("a"), milliseconds(20));
  EXPECT_EQ(l.when("b"), milliseconds(5));  // per key
  EXPECT_EQ(l.numRequeues("a"), 3);
  for (int i = 0; i < 100; ++i) (void)l.when("a");
  EXPECT_EQ(l.when("a"), seconds(1000));  // capped, no overflow
  l.forget("a");
  EXPECT_EQ(l.numRequeues("a"), 0);
  EXPECT_EQ(l.when("a"), milliseconds(5));
}

TEST(DefaultControllerRateLimiter, MaxOfExponentialAndBucket) {
  FakeClock clock;
  auto l = defaultControllerRateLimiter(clock);
  // The first 100 distinct keys ride the bucket's burst: only the 5 ms backoff applies.
  for (int i = 0; i < 100; ++i) EXPECT_EQ(l->when("k" + std::to_string(i)), milliseconds(5));
  // The 101st waits for the overall bucket (10/s): 100 ms, more than its own 5 ms.
  EXPECT_EQ(l->when("k100"), milliseconds(100));
  EXPECT_EQ(l->numRequeues("k1"), 1);
  l->forget("k1");
  EXPECT_EQ(l->numRequeues("k1"), 0);
}

}  // namespace
}  // namespace berth::client
