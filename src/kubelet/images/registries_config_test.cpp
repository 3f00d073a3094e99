#include "kubelet/images/registries_config.h"

#include <gtest/gtest.h>

#include <random>

#include "kubelet/images/registry_http.h"

namespace berth::kubelet::images {
namespace {

const char* kK3sExample = R"yaml(
mirrors:
  docker.io:
    endpoint:
      - "http://127.0.0.1:5000"
      - "https://mirror.example:8443/v2"
    rewrite:
      "^library/(.*)": "mirrored/$1"
  "*":
    endpoint: ["http://127.0.0.1:6000"]
configs:
  "mirror.example:8443":
    auth:
      username: alice
      password: secret
    tls:
      ca_file: /etc/ca.pem
      insecure_skip_verify: true
  "127.0.0.1:6000":
    auth:
      auth: Ym9iOmh1bnRlcjI=
)yaml";

TEST(RegistriesConfig, ParsesK3sFormat) {
  auto c = parseRegistriesConfig(kK3sExample);
  ASSERT_TRUE(c.ok()) << c.status().message();
  auto eps = c->endpointsFor("docker.io");
  ASSERT_EQ(eps.size(), 3u);
  EXPECT_EQ(eps[0].url(), "http://127.0.0.1:5000");
  EXPECT_EQ(eps[1].url(), "https://mirror.example:8443");
  EXPECT_EQ(eps[2].url(), "https://registry-1.docker.io");  // the registry itself comes last
  auto tls = c->hostConfig(eps[1]);
  EXPECT_EQ(tls.username, "alice");
  EXPECT_EQ(tls.password, "secret");
  EXPECT_EQ(tls.caFile, "/etc/ca.pem");
  EXPECT_TRUE(tls.insecureSkipVerify);
  EXPECT_TRUE(c->hostConfig(eps[0]).username.empty());
  // "*" covers registries without their own entry; base64 auth is user:password.
  auto other = c->endpointsFor("quay.io");
  ASSERT_EQ(other.size(), 2u);
  EXPECT_EQ(other[0].url(), "http://127.0.0.1:6000");
  EXPECT_EQ(other[1].url(), "https://quay.io");
  EXPECT_EQ(c->hostConfig(other[0]).username, "bob");
  EXPECT_EQ(c->hostConfig(other[0]).password, "hunter2");
  EXPECT_EQ(c->rewrite("docker.io", "library/busybox"), "mirrored/busybox");
  EXPECT_EQ(c->rewrite("docker.io", "berth-test/web"), "berth-test/web");
}

TEST(RegistriesConfig, MirrorOfItselfIsNotAskedTwice) {
  auto c = parseRegistriesConfig(
      "mirrors:\n  \"127.0.0.1:5000\":\n    endpoint: [\"http://127.0.0.1:5000\"]\n");
  ASSERT_TRUE(c.ok());
  auto eps = c->endpointsFor("127.0.0.1:5000");
  ASSERT_EQ(eps.size(), 1u);
  EXPECT_EQ(eps[0].scheme, "http");
  EXPECT_EQ(RegistriesConfig{}.endpointsFor("gcr.io").at(0).url(), "https://gcr.io");
}

TEST(RegistriesConfig, EmptyAndErrors) {
  EXPECT_TRUE(parseRegistriesConfig("").ok());
  EXPECT_TRUE(loadRegistriesConfig("/nonexistent/registries.yaml").ok());
  for (const char* bad :
       {"mirrors: [1]", "mirrors: {a: {endpoint: x}}", "mirrors: {a: {endpoint: [\"ftp://x\"]}}",
        "mirrors: {a: {endpoint: [\"http://h:99999\"]}}", "configs: {a: {auth: {auth: \"!!\"}}}",
        "configs: {a: {tls: {insecure_skip_verify: maybe}}}", "configs: {a: [1]}",
        "mirrors: {a: {rewrite: {\"(\": x}}}", "{{{", "- a\n- b"}) {
    auto c = parseRegistriesConfig(bad);
    EXPECT_FALSE(c.ok()) << bad;
    if (!c.ok()) EXPECT_EQ(c.status().code(), 400) << bad;
  }
}

TEST(RegistriesConfig, Endpoints) {
  auto e = parseEndpoint("registry.local:5000");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->url(), "https://registry.local:5000");
  e = parseEndpoint("http://[::1]:5000/v2/");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "[::1]");
  EXPECT_EQ(e->port, 5000);
  EXPECT_FALSE(parseEndpoint("http://").ok());
  EXPECT_FALSE(parseEndpoint("http://a:b").ok());
}

TEST(RegistryHttp, ChallengesAndUrls) {
  auto c = parseChallenge(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")");
  EXPECT_EQ(c.scheme, "bearer");
  EXPECT_EQ(c.params["realm"], "https://auth.docker.io/token");
  EXPECT_EQ(c.params["service"], "registry.docker.io");
  EXPECT_EQ(c.params["scope"], "repository:library/busybox:pull");
  EXPECT_EQ(parseChallenge(R"(Basic realm="x")").scheme, "basic");
  auto u = parseUrl("http://127.0.0.1:8080/token?a=b");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->target, "/token?a=b");
  auto r = resolveUrl(*u, "/v2/x");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->string(), "http://127.0.0.1:8080/v2/x");
  EXPECT_FALSE(parseUrl("/relative").ok());
  EXPECT_FALSE(parseUrl("http://h/a b").ok());
}

// Mutated configurations never crash the parser; what parses yields usable endpoints.
TEST(RegistriesConfig, FuzzNeverCrashes) {
  std::mt19937 rng(3);
  const std::string seed = kK3sExample;
  const std::string junk = ":-[]{}\"' \n\t#&*!|>%@`,?abc0";
  for (int i = 0; i < 1500; ++i) {
    std::string s = seed;
    for (int e = 0, n = 1 + rng() % 5; e < n; ++e) {
      size_t pos = rng() % s.size();
      if (rng() % 2)
        s[pos] = junk[rng() % junk.size()];
      else
        s.erase(pos, 1 + rng() % 6);
    }
    auto c = parseRegistriesConfig(s);
    if (c.ok()) {
      for (const auto& [host, m] : c->mirrors) {
        for (const auto& ep : c->endpointsFor(host)) EXPECT_FALSE(ep.host.empty());
        (void)c->rewrite(host, "library/busybox");
      }
    }
    (void)parseChallenge(s);
    (void)parseUrl(s);
  }
}

}  // namespace
}  // namespace berth::kubelet::images
