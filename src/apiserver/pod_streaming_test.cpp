// The checks pods/log, exec, attach and portforward make before they reach a kubelet, with the
// wording upstream uses, on the in-memory store.
#include "apiserver/pod_streaming.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "apiserver/api_handler.h"
#include "apiserver/http/fake_writer.h"
#include "store/memory/memory_store.h"

namespace berth::apiserver {
namespace {

class PodStreamingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cache.start().ok());
    ASSERT_TRUE(registry.bootstrap("127.0.0.1", 6443).ok());
    handler.setPodStreamProxy(&proxy);
  }
  void TearDown() override {
    handler.stop();
    registry.stop();
    cache.stop();
  }
  http::testing::FakeWriter call(std::string method, std::string path, std::string body = "",
                                 std::multimap<std::string, std::string> query = {}) {
    http::Request r{.method = std::move(method),
                    .path = std::move(path),
                    .query = std::move(query),
                    .headers = {{"content-type", "application/json"}},
                    .body = std::move(body),
                    .user = {"admin", {}}};
    http::testing::FakeWriter w;
    handler.handle(r, w);
    return w;
  }
  void createPod(const std::string& name, const std::string& spec, const std::string& status) {
    auto w = call("POST", "/api/v1/namespaces/default/pods",
                  R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name +
                      R"("},"spec":)" + spec + "}");
    ASSERT_EQ(w.status, 201) << w.body;
    if (status.empty()) return;
    w = call("PUT", "/api/v1/namespaces/default/pods/" + name + "/status",
             R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name +
                 R"(","namespace":"default"},"spec":)" + spec + R"(,"status":)" + status + "}");
    ASSERT_EQ(w.status, 200) << w.body;
  }
  static std::string message(const http::testing::FakeWriter& w) {
    return std::string(boost::json::parse(w.body).at("message").as_string());
  }

  store::MemoryStore store;
  CacheSet cache{store};
  Registry registry{store, cache};
  ApiHandler handler{registry, cache, "127.0.0.1:6443"};
  PodStreamProxy proxy{registry, "/nonexistent"};
};

constexpr const char* kRunning =
    R"({"phase":"Running","containerStatuses":[{"name":"a","ready":true,"restartCount":0,)"
    R"("image":"busybox","imageID":"","state":{"running":{"startedAt":"2026-01-01T00:00:00Z"}}}]})";

TEST_F(PodStreamingTest, UnknownPodIsNotFound) {
  auto w = call("GET", "/api/v1/namespaces/default/pods/ghost/log");
  EXPECT_EQ(w.status, 404);
  EXPECT_EQ(message(w), "pods \"ghost\" not found");
}

TEST_F(PodStreamingTest, ContainerMustBeThePodsOwn) {
  createPod("two",
            R"({"nodeName":"n1","containers":[{"name":"a","image":"x"},{"name":"b","image":"x"}]})",
            "");
  auto w = call("POST", "/api/v1/namespaces/default/pods/two/exec", "", {{"command", "true"}});
  EXPECT_EQ(w.status, 400);
  EXPECT_EQ(message(w), "a container name must be specified for pod two, choose one of: [a b]");
  w = call("GET", "/api/v1/namespaces/default/pods/two/log", "", {{"container", "nope"}});
  EXPECT_EQ(w.status, 400);
  EXPECT_EQ(message(w), "container nope is not valid for pod two");
}

TEST_F(PodStreamingTest, UnscheduledAndUnstartedPodsAreBadRequests) {
  createPod("floating", R"({"containers":[{"name":"a","image":"x"}]})", "");
  auto w = call("GET", "/api/v1/namespaces/default/pods/floating/log");
  EXPECT_EQ(w.status, 400);
  EXPECT_EQ(message(w), "pod floating does not have a host assigned");
  createPod("bound", R"({"nodeName":"n1","containers":[{"name":"a","image":"x"}]})", "");
  w = call("GET", "/api/v1/namespaces/default/pods/bound/log");
  EXPECT_EQ(w.status, 400);
  EXPECT_EQ(message(w), "container \"a\" in pod \"bound\" is waiting to start: ContainerCreating");
}

TEST_F(PodStreamingTest, NodeAndKubeletMustBeReachable) {
  createPod("orphan", R"({"nodeName":"gone","containers":[{"name":"a","image":"x"}]})", kRunning);
  auto w = call("GET", "/api/v1/namespaces/default/pods/orphan/log");
  EXPECT_EQ(w.status, 404);
  EXPECT_EQ(message(w), "nodes \"gone\" not found");

  ASSERT_EQ(
      call("POST", "/api/v1/nodes", R"({"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}})")
          .status,
      201);
  // No address yet, then one whose kubelet port nobody listens on.
  createPod("p", R"({"nodeName":"n1","containers":[{"name":"a","image":"x"}]})", kRunning);
  w = call("GET", "/api/v1/namespaces/default/pods/p/log");
  EXPECT_EQ(w.status, 400);
  EXPECT_EQ(message(w), "node n1 has no address for its kubelet");
  ASSERT_EQ(call("PUT", "/api/v1/nodes/n1/status",
                 R"({"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"},"status":{)"
                 R"("addresses":[{"type":"InternalIP","address":"127.0.0.1"}],)"
                 R"("daemonEndpoints":{"kubeletEndpoint":{"Port":1}}}})")
                .status,
            200);
  w = call("GET", "/api/v1/namespaces/default/pods/p/log");
  EXPECT_EQ(w.status, 500);
  EXPECT_NE(message(w).find("error dialing kubelet 127.0.0.1:1"), std::string::npos) << w.body;
}

TEST_F(PodStreamingTest, LogsAreReadOnly) {
  createPod("p", R"({"nodeName":"n1","containers":[{"name":"a","image":"x"}]})", kRunning);
  EXPECT_EQ(call("POST", "/api/v1/namespaces/default/pods/p/log").status, 405);
}

TEST_F(PodStreamingTest, NodeProxyGoesToTheNodesKubelet) {
  auto w = call("GET", "/api/v1/nodes/ghost/proxy/stats/summary");
  EXPECT_EQ(w.status, 404);
  EXPECT_EQ(message(w), "nodes \"ghost\" not found");
  ASSERT_EQ(
      call("POST", "/api/v1/nodes", R"({"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}})")
          .status,
      201);
  w = call("GET", "/api/v1/nodes/n1/proxy/stats/summary");
  EXPECT_EQ(w.status, 400);
  EXPECT_EQ(message(w), "node n1 has no address for its kubelet");
  ASSERT_EQ(call("PUT", "/api/v1/nodes/n1/status",
                 R"({"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"},"status":{)"
                 R"("addresses":[{"type":"InternalIP","address":"127.0.0.1"}],)"
                 R"("daemonEndpoints":{"kubeletEndpoint":{"Port":1}}}})")
                .status,
            200);
  w = call("GET", "/api/v1/nodes/n1/proxy/metrics/resource");
  EXPECT_EQ(w.status, 500);
  EXPECT_NE(message(w).find("error dialing kubelet 127.0.0.1:1"), std::string::npos) << w.body;
  EXPECT_EQ(call("POST", "/api/v1/nodes/n1/proxy/stats/summary").status, 405);
}

}  // namespace
}  // namespace berth::apiserver
