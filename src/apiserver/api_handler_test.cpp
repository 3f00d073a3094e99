// The REST handler on the in-memory store, driven with a fake ResponseWriter: routing, status
// codes, and the promise that no request — however malformed — crashes the server or answers
// anything but a well-formed response.
#include "apiserver/api_handler.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <random>

#include "apiserver/http/fake_writer.h"
#include "apiserver/protobuf/codec.h"
#include "store/memory/memory_store.h"

namespace berth::apiserver {
namespace {

namespace json = boost::json;

// The shared recording writer, with the client gone: a watch ends after its first write.
struct FakeWriter : http::testing::FakeWriter {
  FakeWriter() { connected = false; }
};

class ApiHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cache.start().ok());
    ASSERT_TRUE(registry.bootstrap("127.0.0.1", 6443).ok());
  }
  void TearDown() override {
    handler.stop();
    registry.stop();
    cache.stop();
  }
  FakeWriter call(std::string method, std::string path, std::string body = "",
                  std::string contentType = "application/json",
                  std::multimap<std::string, std::string> query = {}) {
    http::Request r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.body = std::move(body);
    r.query = std::move(query);
    r.headers["content-type"] = std::move(contentType);
    r.user.name = "admin";
    FakeWriter w;
    handler.handle(r, w);
    return w;
  }

  store::MemoryStore store;
  CacheSet cache{store};
  Registry registry{store, cache};
  ApiHandler handler{registry, cache, "127.0.0.1:6443"};
};

TEST_F(ApiHandlerTest, CrudRoundTrip) {
  auto created = call("POST", "/api/v1/namespaces/default/configmaps",
                      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}})");
  EXPECT_EQ(created.status, 201) << created.body;
  auto got = call("GET", "/api/v1/namespaces/default/configmaps/a");
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(json::parse(got.body).at("metadata").at("name").as_string(), "a");
  auto dup = call("POST", "/api/v1/namespaces/default/configmaps", R"({"metadata":{"name":"a"}})");
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(json::parse(dup.body).at("reason").as_string(), "AlreadyExists");
  auto del = call("DELETE", "/api/v1/namespaces/default/configmaps/a");
  EXPECT_EQ(del.status, 200);
  EXPECT_EQ(call("GET", "/api/v1/namespaces/default/configmaps/a").status, 404);
}

TEST_F(ApiHandlerTest, ProtobufCreateEqualsJsonCreate) {
  json::object ns{{"apiVersion", "v1"},
                  {"kind", "Namespace"},
                  {"metadata", json::object{{"name", "pb"}, {"labels", json::object{{"a", "b"}}}}}};
  auto body = protobuf::encodeEnvelope(ns);
  ASSERT_TRUE(body.ok());
  auto w = call("POST", "/api/v1/namespaces", *body, std::string(protobuf::kMediaType));
  ASSERT_EQ(w.status, 201) << w.body;
  auto got = json::parse(w.body).as_object();
  EXPECT_EQ(got.at("metadata").at("labels").at("a").as_string(), "b");
  EXPECT_EQ(got.at("status").at("phase").as_string(), "Active");
}

// Health endpoints are public too, answered in front of this handler (health/ wraps it).
TEST_F(ApiHandlerTest, AnonymousIsUnauthorizedButVersionIsPublic) {
  http::Request r;
  r.method = "GET";
  r.path = "/api/v1/pods";
  FakeWriter w;
  handler.handle(r, w);
  EXPECT_EQ(w.status, 401);
  r.path = "/version";
  FakeWriter h;
  handler.handle(r, h);
  EXPECT_EQ(h.status, 200);
}

TEST_F(ApiHandlerTest, UnknownPathsAre404) {
  EXPECT_EQ(call("GET", "/api/v1/nothings").status, 404);
  EXPECT_EQ(call("GET", "/apis/nogroup/v1").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/namespaces/default/pods/x/nosuchsub").status, 404);
}

// Property: random methods, paths, content types and bodies always get exactly one response
// with a sensible code, and every non-2xx JSON answer is a metav1.Status.
TEST_F(ApiHandlerTest, RandomRequestsNeverCrash) {
  std::mt19937 gen(2024);
  const std::vector<std::string> methods = {"GET",    "POST", "PUT", "PATCH",
                                            "DELETE", "HEAD", "BREW"};
  const std::vector<std::string> paths = {
      "/api/v1/namespaces/default/pods",
      "/api/v1/namespaces/default/pods/p",
      "/api/v1/namespaces/default/pods/p/status",
      "/api/v1/namespaces/default/pods/p/binding",
      "/api/v1/namespaces/default/pods/p/eviction",
      "/apis/apps/v1/namespaces/default/deployments/d/scale",
      "/api/v1/namespaces",
      "/api/v1/namespaces/x",
      "/api/v1/nodes/n",
      "/apis",
      "/api",
      "/apis/apps/v1",
      "/openapi/v3",
      "/api/v1/namespaces/default/services/s",
      "/",
      "/api/v1/namespaces//pods",
      "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/h"};
  const std::vector<std::string> types = {"application/json",
                                          "application/yaml",
                                          "application/merge-patch+json",
                                          "application/json-patch+json",
                                          "application/strategic-merge-patch+json",
                                          "application/apply-patch+yaml",
                                          "application/vnd.kubernetes.protobuf",
                                          "text/plain",
                                          ""};
  const std::vector<std::string> bodies = {
      "",
      "{",
      "[]",
      "null",
      "{\"metadata\":{\"name\":\"p\"}}",
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i"}]}})",
      R"([{"op":"replace","path":"/spec","value":1}])",
      R"({"spec":{"replicas":-1}})",
      R"({"target":{"name":"n1"}})",
      R"({"metadata":{"name":"p","labels":{"bad key!":"x"}}})",
      std::string("k8s\0\x0a\x05\x0a\x02v1", 10),
      "a: [1, 2",
      R"({"spec":{"containers":null}})"};
  for (int i = 0; i < 3000; ++i) {
    std::string body = bodies[gen() % bodies.size()];
    if (gen() % 4 == 0 && !body.empty()) body.resize(gen() % body.size());  // truncate
    std::multimap<std::string, std::string> q;
    if (gen() % 5 == 0) q.emplace("labelSelector", std::string(1, char(gen() % 128)) + "=(");
    if (gen() % 5 == 0) q.emplace("watch", "1");
    if (gen() % 5 == 0) q.emplace("fieldValidation", "Strict");
    auto w = call(methods[gen() % methods.size()], paths[gen() % paths.size()], body,
                  types[gen() % types.size()], q);
    ASSERT_EQ(w.responses, 1) << i;
    ASSERT_GE(w.status, 200) << i;
    ASSERT_LT(w.status, 600) << i;
    if (w.status >= 400 && w.contentType == "application/json") {
      boost::system::error_code ec;
      auto v = json::parse(w.body, ec);
      ASSERT_FALSE(ec) << w.body;
      EXPECT_EQ(v.at("kind").as_string(), "Status") << w.body;
    }
  }
  // And the server still answers normally.
  EXPECT_EQ(call("GET", "/api/v1/namespaces/default").status, 200);
}

}  // namespace
}  // namespace berth::apiserver
