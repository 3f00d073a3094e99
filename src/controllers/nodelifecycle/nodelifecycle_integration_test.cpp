// The node lifecycle and taint eviction controllers inside the real `berth server`, with a
// short --node-monitor-grace-period: a node whose Lease stops is marked Unknown and tainted, its
// pods are marked not ready, a pod tolerating the taint for 1 s is evicted after it while one
// tolerating 300 s (the admission default) stays, and renewing again removes the taints.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <thread>

#include "client/testing_server.h"
#include "core/clock.h"

namespace berth::controllers::nodelifecycle {
namespace {

namespace json = boost::json;
using client::testing::eventually;
const client::Resource kNodes{"", "v1", "nodes", false};
const client::Resource kLeases{"coordination.k8s.io", "v1", "leases", true};
const client::Resource kPods{"", "v1", "pods", true};

std::string readyStatus(client::RestClient& c, const std::string& node) {
  auto n = c.get(kNodes, "", node);
  if (!n.ok()) return "";
  for (const auto& cond : n->at("status").at("conditions").as_array())
    if (cond.at("type").as_string() == "Ready") return std::string(cond.at("status").as_string());
  return "";
}

std::string taints(client::RestClient& c, const std::string& node) {
  auto n = c.get(kNodes, "", node);
  if (!n.ok()) return "?";
  const json::value* t = n->at("spec").as_object().if_contains("taints");
  return t ? json::serialize(*t) : "";
}

json::value pod(const std::string& name, const std::string& node, long long tolerationSeconds) {
  json::object spec{{"nodeName", node},
                    {"containers", json::array{json::object{{"name", "c"}, {"image", "x"}}}}};
  if (tolerationSeconds >= 0) {
    spec["tolerations"] = json::array{json::object{{"key", "node.kubernetes.io/unreachable"},
                                                   {"operator", "Exists"},
                                                   {"effect", "NoExecute"},
                                                   {"tolerationSeconds", tolerationSeconds}}};
  }
  return json::object{{"apiVersion", "v1"},
                      {"kind", "Pod"},
                      {"metadata", {{"name", name}, {"namespace", "default"}}},
                      {"spec", std::move(spec)}};
}

// A hand-written kubelet: the node with a Ready condition, and its Lease renewed while `alive`.
class FakeKubelet {
 public:
  FakeKubelet(client::RestClient& c, std::string name) : c_(c), name_(std::move(name)) {}
  ~FakeKubelet() { stop(); }
  void registerNode() {
    std::string now = core::nowRfc3339();
    json::object n{{"apiVersion", "v1"},
                   {"kind", "Node"},
                   {"metadata", {{"name", name_}}},
                   {"status",
                    {{"conditions", json::array{json::object{{"type", "Ready"},
                                                             {"status", "True"},
                                                             {"reason", "KubeletReady"},
                                                             {"lastHeartbeatTime", now},
                                                             {"lastTransitionTime", now}}}}}}};
    ASSERT_TRUE(c_.create(kNodes, "", n).ok());
    json::object lease{{"apiVersion", "coordination.k8s.io/v1"},
                       {"kind", "Lease"},
                       {"metadata", {{"name", name_}, {"namespace", "kube-node-lease"}}},
                       {"spec", {{"holderIdentity", name_}, {"leaseDurationSeconds", 40}}}};
    ASSERT_TRUE(c_.create(kLeases, "kube-node-lease", lease).ok());
  }
  void start() {
    alive_ = true;
    thread_ = std::thread([this] {
      for (int i = 0; alive_; ++i) {
        std::string t = "2026-01-01T00:00:00." + std::to_string(100000 + i) + "Z";
        (void)c_.patch(kLeases, "kube-node-lease", name_, client::PatchType::kMerge,
                       json::serialize(json::object{{"spec", {{"renewTime", t}}}}));
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    });
  }
  void stop() {
    alive_ = false;
    if (thread_.joinable()) thread_.join();
  }
  void postReady() {
    std::string now = core::nowRfc3339();
    json::object patch{{"status",
                        {{"conditions", json::array{json::object{{"type", "Ready"},
                                                                 {"status", "True"},
                                                                 {"reason", "KubeletReady"},
                                                                 {"lastHeartbeatTime", now},
                                                                 {"lastTransitionTime", now}}}}}}};
    ASSERT_TRUE(c_.patch(kNodes, "", name_, client::PatchType::kStrategicMerge,
                         json::serialize(patch), {.subresource = "status"})
                    .ok());
  }

 private:
  client::RestClient& c_;
  std::string name_;
  std::atomic<bool> alive_{false};
  std::thread thread_;
};

TEST(NodeLifecycleIntegration, SilentNodeIsTaintedItsPodsEvictedAndItRecovers) {
  client::testing::TestServer server;
  server.setExtraArgs({"--node-monitor-grace-period", "2s", "--node-monitor-period", "200ms"});
  ASSERT_TRUE(server.start());
  auto c = server.client("nodelifecycle-test");
  FakeKubelet kubelet(*c, "n1");
  kubelet.registerNode();
  kubelet.start();
  ASSERT_TRUE(c->create(kPods, "default", pod("short", "n1", 1)).ok());
  ASSERT_TRUE(c->create(kPods, "default", pod("default-tolerations", "n1", -1)).ok());
  // The pods "run": Ready=True, as a kubelet would write.
  for (const char* p : {"short", "default-tolerations"}) {
    json::object st{
        {"status",
         {{"phase", "Running"},
          {"conditions", json::array{json::object{{"type", "Ready"}, {"status", "True"}}}}}}};
    ASSERT_TRUE(c->patch(kPods, "default", p, client::PatchType::kStrategicMerge,
                         json::serialize(st), {.subresource = "status"})
                    .ok());
  }

  // Renewing: stays Ready well past the grace period, untainted.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(readyStatus(*c, "n1"), "True");
  EXPECT_EQ(taints(*c, "n1"), "");

  kubelet.stop();
  ASSERT_TRUE(
      eventually([&] { return readyStatus(*c, "n1") == "Unknown"; }, std::chrono::seconds(10)));
  ASSERT_TRUE(eventually([&] { return taints(*c, "n1").find("NoExecute") != std::string::npos; }));
  std::string t = taints(*c, "n1");
  EXPECT_NE(t.find(R"({"key":"node.kubernetes.io/unreachable","effect":"NoExecute","timeAdded":)"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find(R"({"key":"node.kubernetes.io/unreachable","effect":"NoSchedule"})"),
            std::string::npos)
      << t;
  auto n = c->get(kNodes, "", "n1");
  for (const auto& cond : n->at("status").at("conditions").as_array()) {
    if (cond.at("type").as_string() != "Ready") continue;
    EXPECT_EQ(cond.at("reason").as_string(), "NodeStatusUnknown");
    EXPECT_EQ(cond.at("message").as_string(), "Kubelet stopped posting node status.");
  }

  // Its pods are marked not ready; the 1 s pod is evicted (graceful: terminating, since no
  // kubelet finishes it), with the DisruptionTarget condition; the 300 s one stays.
  auto podReady = [&](const char* name) {
    auto p = c->get(kPods, "default", name);
    for (const auto& cond : p->at("status").at("conditions").as_array())
      if (cond.at("type").as_string() == "Ready") return std::string(cond.at("status").as_string());
    return std::string();
  };
  EXPECT_TRUE(eventually([&] { return podReady("default-tolerations") == "False"; }));
  ASSERT_TRUE(eventually([&] {
    auto p = c->get(kPods, "default", "short");
    return !p.ok() || p->at("metadata").as_object().contains("deletionTimestamp");
  }));
  auto evicted = c->get(kPods, "default", "short");
  if (evicted.ok()) {
    EXPECT_NE(json::serialize(evicted->at("status")).find("DeletionByTaintManager"),
              std::string::npos);
  }
  auto kept = c->get(kPods, "default", "default-tolerations");
  ASSERT_TRUE(kept.ok());
  EXPECT_FALSE(kept->at("metadata").as_object().contains("deletionTimestamp"));
  // The admission default is what it tolerates with.
  EXPECT_NE(
      json::serialize(kept->at("spec").at("tolerations"))
          .find(
              R"("key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300)"),
      std::string::npos);

  // Back: renewals and a Ready heartbeat remove the taints.
  kubelet.start();
  kubelet.postReady();
  EXPECT_TRUE(eventually([&] { return taints(*c, "n1").empty(); }, std::chrono::seconds(10)))
      << taints(*c, "n1");
  EXPECT_EQ(readyStatus(*c, "n1"), "True");
  kubelet.stop();
}

}  // namespace
}  // namespace berth::controllers::nodelifecycle
