#include "controllers/framework/expectations.h"

#include <gtest/gtest.h>

#include <thread>

namespace berth::controllers {
namespace {

TEST(Expectations, NoRecordIsSatisfied) {
  Expectations e;
  EXPECT_TRUE(e.satisfied("ns/rs"));
}

TEST(Expectations, CreationsCountDown) {
  Expectations e;
  e.expectCreations("ns/rs", 2);
  EXPECT_FALSE(e.satisfied("ns/rs"));
  e.creationObserved("ns/rs");
  EXPECT_FALSE(e.satisfied("ns/rs"));
  e.creationObserved("ns/rs");
  EXPECT_TRUE(e.satisfied("ns/rs"));
}

TEST(Expectations, CreatesNeverSentAreLowered) {
  Expectations e;
  e.expectCreations("ns/rs", 4);
  e.creationObserved("ns/rs");
  e.lowerCreations("ns/rs", 3);
  EXPECT_TRUE(e.satisfied("ns/rs"));
}

TEST(Expectations, DeletionsCountOncePerTrackedPod) {
  Expectations e;
  e.expectDeletions("ns/rs", {"ns/a", "ns/b"});
  e.deletionObserved("ns/rs", "ns/a");
  e.deletionObserved("ns/rs", "ns/a");    // terminating, then gone: one deletion
  e.deletionObserved("ns/rs", "ns/zzz");  // not one we deleted
  EXPECT_FALSE(e.satisfied("ns/rs"));
  e.deletionObserved("ns/rs", "ns/b");
  EXPECT_TRUE(e.satisfied("ns/rs"));
}

TEST(Expectations, ExpireAfterTtl) {
  Expectations e(std::chrono::milliseconds(20));
  e.expectCreations("ns/rs", 1);
  EXPECT_FALSE(e.satisfied("ns/rs"));
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  EXPECT_TRUE(e.satisfied("ns/rs"));
}

TEST(Expectations, RemoveForgets) {
  Expectations e;
  e.expectCreations("ns/rs", 3);
  e.remove("ns/rs");
  EXPECT_TRUE(e.satisfied("ns/rs"));
}

}  // namespace
}  // namespace berth::controllers
