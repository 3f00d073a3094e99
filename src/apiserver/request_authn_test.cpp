// Anonymous requests and impersonation (request_authn.cpp) against a fake authorizer: who
// reaches the API, as whom, and upstream's 403 when an impersonation is not allowed.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <set>

#include "apiserver/api_handler.h"
#include "apiserver/http/fake_writer.h"
#include "apiserver/identity_api.h"
#include "store/memory/memory_store.h"

namespace berth::apiserver {
namespace {

namespace json = boost::json;

// Allows everything except impersonating what is listed in `refused` ("users/bob", ...), and
// records the impersonation checks it was asked.
struct FakeAuthorizer : authz::Authorizer {
  std::set<std::string> refused;
  mutable std::vector<authz::Attributes> asked;
  authz::Verdict authorize(const authz::Attributes& a) const override {
    if (a.verb != "impersonate") return {authz::Decision::kAllow, ""};
    asked.push_back(a);
    std::string what = a.resource + (a.subresource.empty() ? "" : "/" + a.subresource) + "/" + a.name;
    if (refused.count(what)) return {authz::Decision::kNoOpinion, ""};
    return {authz::Decision::kAllow, ""};
  }
};

class RequestAuthnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cache.start().ok());
    ASSERT_TRUE(registry.bootstrap("127.0.0.1", 6443).ok());
    auto keys = authn::KeySet::fromPem(authn::KeySet::generatePem("EC"));
    ASSERT_TRUE(keys.ok());
    auto tokens = std::make_shared<authn::ServiceAccountTokens>(*keys, cacheObjectGetter(cache));
    identity = std::make_unique<IdentityApi>(cache, tokens,
                                             [](std::string_view) { return http::UserInfo{}; });
    handler.setIdentity(identity.get(), true);
  }
  void TearDown() override {
    handler.stop();
    registry.stop();
    cache.stop();
  }
  // A SelfSubjectReview answers who the server thinks the caller is.
  http::testing::FakeWriter whoami(const std::string& user,
                                   std::map<std::string, std::string> headers = {}) {
    http::Request r;
    r.method = "POST";
    r.path = "/apis/authentication.k8s.io/v1/selfsubjectreviews";
    r.body = R"({"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"})";
    r.headers = std::move(headers);
    r.headers["content-type"] = "application/json";
    r.user.name = user;
    if (!user.empty()) r.user.groups = {"system:authenticated"};
    http::testing::FakeWriter w;
    w.connected = false;
    handler.handle(r, w);
    return w;
  }
  json::object userInfo(const http::testing::FakeWriter& w) {
    return json::parse(w.body).at("status").at("userInfo").as_object();
  }

  store::MemoryStore store;
  CacheSet cache{store};
  Registry registry{store, cache};
  ApiHandler handler{registry, cache, "127.0.0.1:6443"};
  FakeAuthorizer authorizer;
  std::unique_ptr<IdentityApi> identity;
};

TEST_F(RequestAuthnTest, AnonymousIs401WithoutAnAuthorizerAndSystemAnonymousWithOne) {
  EXPECT_EQ(whoami("").status, 401);
  handler.setAuthorizer(&authorizer);
  auto w = whoami("");
  ASSERT_EQ(w.status, 201) << w.body;
  EXPECT_EQ(userInfo(w).at("username"), "system:anonymous");
  EXPECT_EQ(userInfo(w).at("groups").as_array(), (json::array{"system:unauthenticated"}));
  handler.setIdentity(identity.get(), false);  // --anonymous-auth=false
  EXPECT_EQ(whoami("").status, 401);
}

TEST_F(RequestAuthnTest, ImpersonationReplacesTheUserAndAddsImpliedGroups) {
  handler.setAuthorizer(&authorizer);
  auto w = whoami("alice", {{"impersonate-user", "bob"},
                            {"impersonate-group", "devs, ops"},
                            {"impersonate-uid", "u1"},
                            {"impersonate-extra-scopes", "view, edit"},
                            {"impersonate-extra-example.com%2fteam", "x"}});
  ASSERT_EQ(w.status, 201) << w.body;
  auto u = userInfo(w);
  EXPECT_EQ(u.at("username"), "bob");
  EXPECT_EQ(u.at("uid"), "u1");
  EXPECT_EQ(u.at("groups").as_array(), (json::array{"devs", "ops", "system:authenticated"}));
  EXPECT_EQ(u.at("extra").at("scopes").as_array(), (json::array{"view", "edit"}));
  EXPECT_EQ(u.at("extra").at("example.com/team").as_array(), (json::array{"x"}));
  // user, uid, two groups, two scope values, one team value: each asked with verb impersonate.
  EXPECT_EQ(authorizer.asked.size(), 7u);
  EXPECT_EQ(authorizer.asked[0].user.name, "alice");
  EXPECT_EQ(authorizer.asked[0].resource, "users");

  auto sa = whoami("alice", {{"impersonate-user", "system:serviceaccount:ns1:builder"}});
  ASSERT_EQ(sa.status, 201);
  EXPECT_EQ(userInfo(sa).at("groups").as_array(),
            (json::array{"system:serviceaccounts", "system:serviceaccounts:ns1",
                         "system:authenticated"}));
  EXPECT_EQ(authorizer.asked.back().resource, "serviceaccounts");
  EXPECT_EQ(authorizer.asked.back().ns, "ns1");
  EXPECT_EQ(authorizer.asked.back().name, "builder");
}

TEST_F(RequestAuthnTest, RefusedImpersonationIs403WithUpstreamsMessage) {
  handler.setAuthorizer(&authorizer);
  authorizer.refused = {"users/bob", "groups/system:masters"};
  auto w = whoami("alice", {{"impersonate-user", "bob"}});
  EXPECT_EQ(w.status, 403);
  EXPECT_EQ(json::parse(w.body).at("message"),
            "users \"bob\" is forbidden: User \"alice\" cannot impersonate resource \"users\" in "
            "API group \"\" at the cluster scope");
  auto g = whoami("alice", {{"impersonate-user", "carol"}, {"impersonate-group", "system:masters"}});
  EXPECT_EQ(g.status, 403);
  EXPECT_EQ(whoami("alice", {{"impersonate-group", "devs"}}).status, 500);  // no user named
}

}  // namespace
}  // namespace berth::apiserver
