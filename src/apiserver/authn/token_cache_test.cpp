#include "apiserver/authn/token_cache.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <map>

#include "apiserver/authn/jwt.h"
#include "apiserver/authn/service_account_token.h"

namespace berth::apiserver::authn {
namespace {

namespace json = boost::json;
using std::chrono::seconds;
using std::chrono::system_clock;

Claims claims(const char* sub) {
  return std::make_shared<const json::object>(json::object{{"sub", sub}});
}

const system_clock::time_point kStart = system_clock::from_time_t(1700000000);

TEST(VerifiedTokenCacheTest, EntriesLiveForTheTtlOnly) {
  VerifiedTokenCache cache(seconds(10));
  EXPECT_EQ(cache.find("a.b.c", kStart), nullptr);
  cache.insert("a.b.c", claims("x"), kStart);
  auto hit = cache.find("a.b.c", kStart + seconds(9));
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->at("sub"), "x");
  EXPECT_EQ(cache.find("a.b.c", kStart + seconds(10)), nullptr);  // expired
  EXPECT_EQ(cache.find("a.b.d", kStart), nullptr);                // another token
  cache.insert("a.b.c", claims("y"), kStart + seconds(20));       // verified again: renewed
  ASSERT_NE(cache.find("a.b.c", kStart + seconds(29)), nullptr);
  EXPECT_EQ(cache.find("a.b.c", kStart + seconds(29))->at("sub"), "y");
}

TEST(VerifiedTokenCacheTest, FullCacheDropsExpiredEntriesFirstThenEverything) {
  VerifiedTokenCache cache(seconds(10), 2);
  cache.insert("t1", claims("1"), kStart);
  cache.insert("t2", claims("2"), kStart + seconds(5));
  cache.insert("t3", claims("3"), kStart + seconds(12));  // t1 has expired: it makes room
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_NE(cache.find("t2", kStart + seconds(12)), nullptr);
  EXPECT_NE(cache.find("t3", kStart + seconds(12)), nullptr);
  cache.insert("t4", claims("4"), kStart + seconds(13));  // nothing expired: start over
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_NE(cache.find("t4", kStart + seconds(13)), nullptr);
  EXPECT_EQ(cache.find("t2", kStart + seconds(13)), nullptr);
}

TEST(VerifiedTokenCacheTest, ZeroTtlCachesNothing) {
  VerifiedTokenCache cache(seconds(0));
  cache.insert("t", claims("x"), kStart);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.find("t", kStart), nullptr);
}

// Through ServiceAccountTokens: what the cache skips (signature, decode) and what it never
// skips (time window, audience, the bound objects).
class CachedServiceAccountTokensTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keys_ = *KeySet::fromPem(KeySet::generatePem("EC"));
    put("serviceaccounts", "default", "sa-uid");
    put("pods", "p", "pod-uid");
    tokens_ = std::make_unique<ServiceAccountTokens>(
        keys_,
        [this](std::string_view r, const std::string& ns,
               const std::string& name) -> std::optional<json::object> {
          auto it = objects_.find(std::string(r) + "/" + ns + "/" + name);
          if (it == objects_.end()) return std::nullopt;
          return it->second;
        },
        std::vector<std::string>{}, std::vector<std::string>{}, [this] { return now_; });
  }
  void put(const std::string& resource, const std::string& name, const std::string& uid) {
    objects_[resource + "/ns1/" + name] =
        json::object{{"metadata", {{"name", name}, {"namespace", "ns1"}, {"uid", uid}}}};
  }
  std::string podToken(int64_t expirationSeconds = 3600) {
    BoundToken b;
    b.ns = "ns1";
    b.serviceAccount = {"default", "sa-uid"};
    b.audiences = {std::string(kDefaultIssuer)};
    b.pod = ObjectRef{"p", "pod-uid"};
    b.expirationSeconds = expirationSeconds;
    return *tokens_->issue(b);
  }

  system_clock::time_point now_ = kStart;
  std::shared_ptr<const KeySet> keys_;
  std::map<std::string, json::object> objects_;
  std::unique_ptr<ServiceAccountTokens> tokens_;
};

TEST_F(CachedServiceAccountTokensTest, ATokenVerifiesOnceWithinTheTtl) {
  std::string token = podToken();
  ASSERT_TRUE(tokens_->authenticate(token).ok());
  EXPECT_EQ(tokens_->tokenCache().size(), 1u);
  EXPECT_NE(tokens_->tokenCache().find(token, now_), nullptr);
  ASSERT_TRUE(tokens_->authenticate(token).ok());
  EXPECT_EQ(tokens_->tokenCache().size(), 1u);
  // A forged signature is a different token: never a hit, never cached.
  std::string forged = token;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(tokens_->authenticate(forged).status().code(), 401);
  EXPECT_EQ(tokens_->tokenCache().size(), 1u);
  // Past the TTL the entry is gone and the next request verifies (and caches) again.
  now_ += seconds(11);
  EXPECT_EQ(tokens_->tokenCache().find(token, now_), nullptr);
  ASSERT_TRUE(tokens_->authenticate(token).ok());
  EXPECT_NE(tokens_->tokenCache().find(token, now_), nullptr);
}

TEST_F(CachedServiceAccountTokensTest, ACachedTokenDiesWithItsPodAtOnce) {
  std::string token = podToken();
  ASSERT_TRUE(tokens_->authenticate(token).ok());
  objects_.erase("pods/ns1/p");
  auto r = tokens_->authenticate(token);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), 401);
  EXPECT_NE(r.status().message().find("pod ns1/p has been deleted"), std::string::npos);
  put("pods", "p", "another-uid");  // a new pod of the same name does not revive it
  EXPECT_FALSE(tokens_->authenticate(token).ok());
  put("pods", "p", "pod-uid");
  EXPECT_TRUE(tokens_->authenticate(token).ok());
}

TEST_F(CachedServiceAccountTokensTest, ExpiryIsCheckedEvenWhileCached) {
  // exp 55 s ago: still within upstream's 60 s of leeway now, past it 6 s later, while the
  // cache entry (10 s) is still fresh.
  std::string token = podToken(-55);
  ASSERT_TRUE(tokens_->authenticate(token).ok());
  now_ += seconds(6);
  ASSERT_NE(tokens_->tokenCache().find(token, now_), nullptr);
  auto r = tokens_->authenticate(token);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), 401);
  EXPECT_NE(r.status().message().find("expired"), std::string::npos);
}

TEST_F(CachedServiceAccountTokensTest, AudienceIsCheckedEvenWhileCached) {
  std::string token = podToken();
  ASSERT_TRUE(tokens_->authenticate(token).ok());
  auto r = tokens_->authenticate(token, {"vault"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("audiences are invalid"), std::string::npos);
}

}  // namespace
}  // namespace berth::apiserver::authn
