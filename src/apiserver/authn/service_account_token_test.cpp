#include "apiserver/authn/service_account_token.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <map>
#include <mutex>
#include <random>

#include "apiserver/authn/bootstrap_token.h"
#include "apiserver/authn/jwt.h"
#include "apiserver/authn/test_keys.h"
#include "apiserver/authn/time_util.h"
#include "apiserver/authn/token_chain.h"
#include "core/base64.h"

namespace berth::apiserver::authn {
namespace {

namespace json = boost::json;
using std::chrono::seconds;
using std::chrono::system_clock;

// Objects by "resource/ns/name"; the tests add and remove them.
struct FakeObjects {
  std::map<std::string, json::object> objects;
  void put(const std::string& resource, const std::string& ns, const std::string& name,
           const std::string& uid, json::object extra = {}) {
    json::object o = std::move(extra);
    o["metadata"] = json::object{{"name", name}, {"namespace", ns}, {"uid", uid}};
    objects[resource + "/" + ns + "/" + name] = std::move(o);
  }
  ObjectGetter getter() {
    return [this](std::string_view r, const std::string& ns,
                  const std::string& name) -> std::optional<json::object> {
      auto it = objects.find(std::string(r) + "/" + ns + "/" + name);
      if (it == objects.end()) return std::nullopt;
      return it->second;
    };
  }
};

class ServiceAccountTokensTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keys_ = *KeySet::fromPem(KeySet::generatePem("EC"));
    objects_.put("serviceaccounts", "ns1", "default", "sa-uid");
    tokens_ = std::make_unique<ServiceAccountTokens>(
        keys_, objects_.getter(), std::vector<std::string>{std::string(kDefaultIssuer)},
        std::vector<std::string>{},
        [this] { return now_; });
  }
  BoundToken spec() {
    BoundToken b;
    b.ns = "ns1";
    b.serviceAccount = {"default", "sa-uid"};
    b.audiences = {std::string(kDefaultIssuer)};
    return b;
  }
  json::object claimsOf(const std::string& token) {
    size_t a = token.find('.'), b = token.find('.', a + 1);
    return json::parse(*base64UrlDecode(token.substr(a + 1, b - a - 1))).as_object();
  }

  system_clock::time_point now_ = system_clock::from_time_t(1700000000);
  std::shared_ptr<const KeySet> keys_;
  FakeObjects objects_;
  std::unique_ptr<ServiceAccountTokens> tokens_;
};

TEST_F(ServiceAccountTokensTest, IssuedTokenHasUpstreamClaimsAndAuthenticates) {
  system_clock::time_point exp;
  auto token = tokens_->issue(spec(), &exp);
  ASSERT_TRUE(token.ok());
  auto c = claimsOf(*token);
  EXPECT_EQ(c["iss"], "https://kubernetes.default.svc.cluster.local");
  EXPECT_EQ(c["sub"], "system:serviceaccount:ns1:default");
  EXPECT_EQ(c["aud"].as_array().size(), 1u);
  EXPECT_EQ(c["iat"].as_int64(), 1700000000);
  EXPECT_EQ(c["nbf"].as_int64(), 1700000000);
  EXPECT_EQ(c["exp"].as_int64(), 1700003600);
  EXPECT_EQ(unixSeconds(exp), 1700003600);
  EXPECT_FALSE(c["jti"].as_string().empty());
  auto& k8s = c["kubernetes.io"].as_object();
  EXPECT_EQ(k8s["namespace"], "ns1");
  EXPECT_EQ(k8s["serviceaccount"].as_object()["uid"], "sa-uid");

  auto who = tokens_->authenticate(*token);
  ASSERT_TRUE(who.ok()) << who.status().message();
  EXPECT_EQ(who->user.name, "system:serviceaccount:ns1:default");
  EXPECT_EQ(who->user.uid, "sa-uid");
  EXPECT_EQ(who->user.groups,
            (std::vector<std::string>{"system:serviceaccounts", "system:serviceaccounts:ns1"}));
  EXPECT_EQ(who->user.extra["authentication.kubernetes.io/credential-id"][0],
            "JTI=" + std::string(c["jti"].as_string()));
}

TEST_F(ServiceAccountTokensTest, ExpiryAndNotBeforeAllowOneMinuteOfSkew) {
  auto token = *tokens_->issue(spec());
  now_ += seconds(3600 + 59);
  EXPECT_TRUE(tokens_->authenticate(token).ok());
  now_ += seconds(2);
  auto r = tokens_->authenticate(token);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), 401);
  EXPECT_NE(r.status().message().find("expired"), std::string::npos);

  now_ = system_clock::from_time_t(1700000000) - seconds(61);  // issued "in the future"
  EXPECT_FALSE(tokens_->authenticate(token).ok());
  now_ = system_clock::from_time_t(1700000000) - seconds(30);
  EXPECT_TRUE(tokens_->authenticate(token).ok());
}

TEST_F(ServiceAccountTokensTest, AudienceMustMatch) {
  auto b = spec();
  b.audiences = {"vault"};
  auto token = *tokens_->issue(b);
  EXPECT_FALSE(tokens_->authenticate(token).ok());  // not for the API server
  auto r = tokens_->authenticate(token, {"vault", "other"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->audiences, std::vector<std::string>{"vault"});
}

// Changing the issuer (upstream's repeatable --service-account-issuer): the first issuer signs,
// tokens of the others still authenticate; a token of an issuer no longer listed does not.
TEST_F(ServiceAccountTokensTest, SeveralIssuersTheFirstSigns) {
  auto oldToken = *tokens_->issue(spec());
  ServiceAccountTokens moved(keys_, objects_.getter(),
                             {"https://new.example", std::string(kDefaultIssuer)},
                             {"https://new.example", std::string(kDefaultIssuer)},
                             [this] { return now_; });
  EXPECT_EQ(moved.issuer(), "https://new.example");
  EXPECT_TRUE(moved.authenticate(oldToken).ok());
  BoundToken b = spec();
  b.audiences = {"https://new.example"};
  auto fresh = *moved.issue(b);
  EXPECT_EQ(claimsOf(fresh)["iss"], "https://new.example");
  EXPECT_TRUE(moved.authenticate(fresh).ok());
  auto r = tokens_->authenticate(fresh);  // the old configuration does not know the new issuer
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), 401);
  EXPECT_NE(r.status().message().find("unknown issuer"), std::string::npos);
  // The API audiences default to the issuers.
  ServiceAccountTokens onlyNew(keys_, objects_.getter(), {"https://new.example"}, {},
                               [this] { return now_; });
  EXPECT_EQ(onlyNew.apiAudiences(), std::vector<std::string>{"https://new.example"});
  EXPECT_FALSE(onlyNew.authenticate(oldToken).ok());
}

TEST_F(ServiceAccountTokensTest, DeletedOrReplacedObjectsInvalidateTokens) {
  objects_.put("pods", "ns1", "p", "pod-uid", json::object{{"spec", {{"nodeName", "n1"}}}});
  auto b = spec();
  b.pod = ObjectRef{"p", "pod-uid"};
  b.node = ObjectRef{"n1", "node-uid"};
  auto token = *tokens_->issue(b);
  auto ok = tokens_->authenticate(token);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->user.extra["authentication.kubernetes.io/pod-name"][0], "p");
  EXPECT_EQ(ok->user.extra["authentication.kubernetes.io/pod-uid"][0], "pod-uid");
  EXPECT_EQ(ok->user.extra["authentication.kubernetes.io/node-name"][0], "n1");

  objects_.put("pods", "ns1", "p", "another-uid");  // same name, new pod
  EXPECT_FALSE(tokens_->authenticate(token).ok());
  objects_.objects.erase("pods/ns1/p");
  auto gone = tokens_->authenticate(token);
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.status().message().find("pod ns1/p has been deleted"), std::string::npos);

  auto plain = *tokens_->issue(spec());
  objects_.put("serviceaccounts", "ns1", "default", "recreated-uid");
  EXPECT_FALSE(tokens_->authenticate(plain).ok());
  objects_.objects.erase("serviceaccounts/ns1/default");
  EXPECT_FALSE(tokens_->authenticate(plain).ok());
}

TEST_F(ServiceAccountTokensTest, SecretBoundAndLegacyTokensDieWithTheirSecret) {
  objects_.put("secrets", "ns1", "s", "secret-uid");
  auto b = spec();
  b.secret = ObjectRef{"s", "secret-uid"};
  auto bound = *tokens_->issue(b);
  EXPECT_TRUE(tokens_->authenticate(bound).ok());

  auto legacy = *tokens_->issueLegacy("ns1", {"default", "sa-uid"}, "s");
  EXPECT_FALSE(tokens_->authenticate(legacy).ok());  // the Secret does not hold it yet
  objects_.put("secrets", "ns1", "s", "secret-uid",
               json::object{{"data", {{"token", core::base64Encode(legacy)}}}});
  auto who = tokens_->authenticate(legacy);
  ASSERT_TRUE(who.ok()) << who.status().message();
  EXPECT_EQ(who->user.name, "system:serviceaccount:ns1:default");
  objects_.objects.erase("secrets/ns1/s");
  EXPECT_FALSE(tokens_->authenticate(legacy).ok());
  EXPECT_FALSE(tokens_->authenticate(bound).ok());
}

TEST_F(ServiceAccountTokensTest, ForgedClaimsWithTheRightKeyAreStillChecked) {
  auto forge = [&](json::object claims) { return *signJwt(*keys_, claims); };
  json::object base{{"iss", kDefaultIssuer},
                    {"sub", "system:serviceaccount:ns1:default"},
                    {"aud", kDefaultIssuer},
                    {"exp", 1700000100},
                    {"kubernetes.io",
                     {{"namespace", "ns1"}, {"serviceaccount", {{"name", "default"}, {"uid", "sa-uid"}}}}}};
  EXPECT_TRUE(tokens_->authenticate(forge(base)).ok());  // aud as a single string
  auto noExp = base;
  noExp.erase("exp");
  EXPECT_FALSE(tokens_->authenticate(forge(noExp)).ok());
  auto badExp = base;
  badExp["exp"] = "tomorrow";
  EXPECT_FALSE(tokens_->authenticate(forge(badExp)).ok());
  auto otherIss = base;
  otherIss["iss"] = "https://evil";
  EXPECT_FALSE(tokens_->authenticate(forge(otherIss)).ok());
  auto otherSub = base;
  otherSub["sub"] = "system:serviceaccount:kube-system:default";
  EXPECT_FALSE(tokens_->authenticate(forge(otherSub)).ok());
  auto noPrivate = base;
  noPrivate.erase("kubernetes.io");
  EXPECT_FALSE(tokens_->authenticate(forge(noPrivate)).ok());
  auto future = base;
  future["nbf"] = 1700000100;
  EXPECT_FALSE(tokens_->authenticate(forge(future)).ok());
}

TEST(ServiceAccountUser, SplitsOnlyWellFormedNames) {
  auto p = splitServiceAccountUser("system:serviceaccount:ns:name");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->first, "ns");
  EXPECT_EQ(p->second, "name");
  EXPECT_FALSE(splitServiceAccountUser("system:serviceaccount:ns").has_value());
  EXPECT_FALSE(splitServiceAccountUser("system:serviceaccount::x").has_value());
  EXPECT_FALSE(splitServiceAccountUser("alice").has_value());
}

json::object bootstrapSecret(std::map<std::string, std::string> data) {
  json::object d;
  for (auto& [k, v] : data) d[k] = core::base64Encode(v);
  return json::object{{"type", "bootstrap.kubernetes.io/token"}, {"data", std::move(d)}};
}

TEST(BootstrapToken, AuthenticatesValidTokensOnly) {
  FakeObjects objects;
  auto now = system_clock::from_time_t(1700000000);
  std::map<std::string, std::string> data{{"token-id", "abcdef"},
                                          {"token-secret", "0123456789abcdef"},
                                          {"usage-bootstrap-authentication", "true"},
                                          {"auth-extra-groups", "system:bootstrappers:worker"},
                                          {"expiration", "2023-11-14T22:14:00Z"}};
  objects.put("secrets", "kube-system", "bootstrap-token-abcdef", "u", bootstrapSecret(data));
  auto user = authenticateBootstrapToken("abcdef.0123456789abcdef", objects.getter(), now);
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(user->name, "system:bootstrap:abcdef");
  EXPECT_EQ(user->groups,
            (std::vector<std::string>{"system:bootstrappers", "system:bootstrappers:worker"}));
  EXPECT_FALSE(authenticateBootstrapToken("abcdef.0123456789abcdee", objects.getter(), now));
  EXPECT_FALSE(authenticateBootstrapToken("abcdeg.0123456789abcdef", objects.getter(), now));
  EXPECT_FALSE(authenticateBootstrapToken("ABCDEF.0123456789abcdef", objects.getter(), now));
  EXPECT_FALSE(authenticateBootstrapToken("abcdef.0123456789abcdef", objects.getter(),
                                          now + seconds(3600)));  // expired
  data["usage-bootstrap-authentication"] = "false";
  objects.put("secrets", "kube-system", "bootstrap-token-abcdef", "u", bootstrapSecret(data));
  EXPECT_FALSE(authenticateBootstrapToken("abcdef.0123456789abcdef", objects.getter(), now));
  data["usage-bootstrap-authentication"] = "true";
  data["auth-extra-groups"] = "system:masters";
  objects.put("secrets", "kube-system", "bootstrap-token-abcdef", "u", bootstrapSecret(data));
  EXPECT_FALSE(authenticateBootstrapToken("abcdef.0123456789abcdef", objects.getter(), now));
}

// Property: random and mutated Authorization tokens through the whole chain are unknown
// (empty user), never a crash, never someone.
TEST(TokenChain, RandomAndMutatedTokensAreUnknown) {
  FakeObjects objects;
  objects.put("serviceaccounts", "ns1", "default", "sa-uid");
  auto sa = std::make_shared<ServiceAccountTokens>(*KeySet::fromPem(testing::kRsaPemA), objects.getter());
  BoundToken b;
  b.ns = "ns1";
  b.serviceAccount = {"default", "sa-uid"};
  b.audiences = {std::string(kDefaultIssuer)};
  auto good = *sa->issue(b);
  auto chain = makeTokenChain({"admin-secret-token", sa, objects.getter()});
  EXPECT_EQ(chain("admin-secret-token").name, "system:admin");
  EXPECT_EQ(chain(good).name, "system:serviceaccount:ns1:default");
  EXPECT_TRUE(chain("admin-secret-tokeN").anonymous());
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    std::string t = i % 2 ? good : std::string("abcdef.0123456789abcdef");
    for (int e = 0, n = 1 + static_cast<int>(rng() % 3); e < n; ++e) {
      size_t pos = rng() % t.size();
      t[pos] = static_cast<char>(rng());
    }
    if (t == good) continue;
    EXPECT_TRUE(chain(t).anonymous()) << t;
  }
  for (int i = 0; i < 1000; ++i) {
    std::string t(rng() % 200, '\0');
    for (auto& c : t) c = static_cast<char>(rng());
    EXPECT_TRUE(chain(t).anonymous());
  }
}

}  // namespace
}  // namespace berth::apiserver::authn
