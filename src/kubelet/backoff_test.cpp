#include "kubelet/backoff.h"

#include <gtest/gtest.h>

namespace berth::kubelet {
namespace {

using namespace std::chrono_literals;
using Clock = Backoff::Clock;

TEST(Backoff, FirstRestartIsImmediateThenDoublesToTheCap) {
  Backoff b;
  auto t = Clock::time_point{} + 1000h;
  EXPECT_FALSE(b.inBackoff("c", t, t));  // never restarted: no wait
  b.next("c", t);
  EXPECT_EQ(b.current("c"), 10s);
  // Dies again right away: waits 10 s from its death.
  std::chrono::milliseconds remaining{0};
  EXPECT_TRUE(b.inBackoff("c", t + 1s, t + 2s, &remaining));
  EXPECT_EQ(remaining, 9s);
  EXPECT_FALSE(b.inBackoff("c", t + 1s, t + 11s));
  std::vector<long> seen;
  for (int i = 0; i < 8; ++i) {
    b.next("c", t + 1s);
    seen.push_back(static_cast<long>(b.current("c").count()));
  }
  EXPECT_EQ(seen, (std::vector<long>{20, 40, 80, 160, 300, 300, 300, 300}));
}

TEST(Backoff, ResetsAfterTenMinutesUp) {
  Backoff b;
  auto t = Clock::time_point{} + 1000h;
  b.next("c", t);
  b.next("c", t);
  EXPECT_EQ(b.current("c"), 20s);
  // The next death comes more than 2 x 5 min after the last restart: back to 10 s.
  EXPECT_FALSE(b.inBackoff("c", t + 11min, t + 11min));
  b.next("c", t + 11min);
  EXPECT_EQ(b.current("c"), 10s);
}

TEST(Backoff, ForgetByPodPrefix) {
  Backoff b;
  auto t = Clock::now();
  b.next("uid1/a", t);
  b.next("uid1/b", t);
  b.next("uid2/a", t);
  b.forget("uid1/");
  EXPECT_EQ(b.current("uid1/a"), 0s);
  EXPECT_EQ(b.current("uid1/b"), 0s);
  EXPECT_EQ(b.current("uid2/a"), 10s);
}

}  // namespace
}  // namespace berth::kubelet
