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
                  std::multimap<std::string, std::string> query = {}, std::string accept = "") {
    http::Request r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.body = std::move(body);
    r.query = std::move(query);
    r.headers["content-type"] = std::move(contentType);
    if (!accept.empty()) r.headers["accept"] = std::move(accept);
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

// client-go's metadata client (garbage collector, namespace controller, metadata informers).
constexpr const char* kPartialList =
    "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,"
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
constexpr const char* kPartialObject =
    "application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,"
    "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";
constexpr const char* kPartialObjectJson =
    "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";

TEST_F(ApiHandlerTest, PartialObjectMetadataForGetListAndWatch) {
  for (const char* name : {"a", "b", "c"}) {
    auto created = call("POST", "/api/v1/namespaces/default/configmaps",
                        std::string(R"({"metadata":{"name":")") + name +
                            R"(","labels":{"k":"v"},"finalizers":["x/y"]},"data":{"d":"1"}})");
    ASSERT_EQ(created.status, 201) << created.body;
  }
  const std::string cms = "/api/v1/namespaces/default/configmaps";
  auto get = call("GET", cms + "/a", "", "", {}, kPartialObjectJson);
  ASSERT_EQ(get.status, 200) << get.body;
  EXPECT_EQ(get.contentType, "application/json");
  auto obj = json::parse(get.body).as_object();
  EXPECT_EQ(obj.at("kind"), "PartialObjectMetadata");
  EXPECT_EQ(obj.at("apiVersion"), "meta.k8s.io/v1");
  EXPECT_EQ(obj.at("metadata").at("finalizers").at(0), "x/y");
  EXPECT_FALSE(obj.contains("data"));

  // Protobuf, as the metadata client prefers: the meta.k8s.io/v1 kind in the envelope.
  auto pb = call("GET", cms + "/a", "", "", {}, kPartialObject);
  ASSERT_EQ(pb.status, 200);
  EXPECT_EQ(pb.contentType, protobuf::kMediaType);
  auto decoded = protobuf::decodeEnvelope(pb.body);
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  EXPECT_EQ(decoded->at("kind"), "PartialObjectMetadata");
  EXPECT_EQ(decoded->at("metadata").at("labels").at("k"), "v");

  // A paged list keeps continue and remainingItemCount.
  auto page = call("GET", cms, "", "", {{"limit", "2"}}, kPartialList);
  ASSERT_EQ(page.status, 200) << page.body;
  auto list = protobuf::decodeEnvelope(page.body);
  ASSERT_TRUE(list.ok()) << list.status().message();
  EXPECT_EQ(list->at("kind"), "PartialObjectMetadataList");
  EXPECT_EQ(list->at("items").as_array().size(), 2u);
  EXPECT_EQ(list->at("items").at(0).at("metadata").at("name"), "a");
  EXPECT_FALSE(list->at("metadata").at("continue").as_string().empty());
  EXPECT_EQ(list->at("metadata").at("remainingItemCount"), 1);

  // The wrong form is 406 (upstream's transformation errors), answered in JSON.
  auto listAsObject = call("GET", cms, "", "", {}, kPartialObject);
  EXPECT_EQ(listAsObject.status, 406);
  EXPECT_EQ(listAsObject.contentType, "application/json");
  EXPECT_EQ(json::parse(listAsObject.body).at("reason"), "NotAcceptable");
  EXPECT_EQ(call("GET", cms + "/a", "", "", {}, kPartialList).status, 406);
  EXPECT_EQ(call("GET", cms, "", "", {{"watch", "1"}}, kPartialList).status, 406);
  // Errors are never transformed: a missing object is a JSON Status.
  auto missing = call("GET", cms + "/nope", "", "", {}, kPartialObject);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(json::parse(missing.body).at("kind"), "Status");

  // Writes answer in the asked form too (the metadata client's Patch).
  auto patched = call("PATCH", cms + "/a", R"({"metadata":{"labels":{"p":"q"}}})",
                      "application/merge-patch+json", {}, kPartialObjectJson);
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(json::parse(patched.body).at("metadata").at("labels").at("p"), "q");
  EXPECT_EQ(json::parse(patched.body).at("kind"), "PartialObjectMetadata");

  // A watch: each event's object is PartialObjectMetadata (the writer ends after one write).
  auto watch = call("GET", cms, "", "", {{"watch", "1"}}, kPartialObject);
  ASSERT_EQ(watch.status, 200) << watch.body;
  EXPECT_EQ(watch.contentType, "application/json");
  auto first = json::parse(watch.body.substr(0, watch.body.find('\n'))).as_object();
  EXPECT_EQ(first.at("type"), "ADDED");
  EXPECT_EQ(first.at("object").at("kind"), "PartialObjectMetadata");
  EXPECT_EQ(first.at("object").at("apiVersion"), "meta.k8s.io/v1");
  EXPECT_FALSE(first.at("object").as_object().contains("data"));

  // Tables and plain reads are unchanged.
  auto table =
      call("GET", cms, "", "", {}, "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
  EXPECT_EQ(json::parse(table.body).at("kind"), "Table");
  EXPECT_EQ(json::parse(call("GET", cms).body).at("kind"), "ConfigMapList");
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
