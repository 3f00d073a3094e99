#include "kubelet/token_cache.h"

#include <gtest/gtest.h>

namespace berth::kubelet {
namespace {

struct CountingSource : TokenSource {
  int calls = 0;
  core::Status fail;
  core::Result<std::string> token(const std::string&, const std::string&, const std::string&,
                                  const std::string&, const std::string&, long long) override {
    ++calls;
    if (!fail.ok()) return fail;
    return "t" + std::to_string(calls);
  }
};

TEST(CachingTokenSource, ReusesTokenUntilEightyPercentOfItsLife) {
  CountingSource inner;
  auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  CachingTokenSource cache(inner, [&] { return now; });
  EXPECT_EQ(*cache.token("ns", "default", "p", "uid", "", 100), "t1");
  now += std::chrono::seconds(79);
  EXPECT_EQ(*cache.token("ns", "default", "p", "uid", "", 100), "t1");
  EXPECT_EQ(inner.calls, 1);
  now += std::chrono::seconds(1);
  EXPECT_EQ(*cache.token("ns", "default", "p", "uid", "", 100), "t2");
  // Another pod has its own token.
  EXPECT_EQ(*cache.token("ns", "default", "q", "uid2", "", 100), "t3");
  // A failed refresh keeps the still-valid token.
  now += std::chrono::seconds(85);
  inner.fail = core::Status::unavailable("down");
  EXPECT_EQ(*cache.token("ns", "default", "p", "uid", "", 100), "t2");
}

TEST(CachingTokenSource, MissingTokenRequestRememberedForAMinute) {
  CountingSource inner;
  inner.fail = core::Status::methodNotSupported("the server does not allow this method");
  auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  CachingTokenSource cache(inner, [&] { return now; });
  EXPECT_EQ(cache.token("ns", "sa", "p", "uid", "", 3607).status().code(), 405);
  now += std::chrono::seconds(30);
  EXPECT_FALSE(cache.token("ns", "sa", "p", "uid", "", 3607).ok());
  EXPECT_EQ(inner.calls, 1);
  now += std::chrono::seconds(31);
  inner.fail = core::Status();
  EXPECT_EQ(*cache.token("ns", "sa", "p", "uid", "", 3607), "t2");
}

}  // namespace
}  // namespace berth::kubelet
