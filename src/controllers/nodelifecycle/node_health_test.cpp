#include "controllers/nodelifecycle/node_health.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace berth::controllers::nodelifecycle {
namespace {

namespace json = boost::json;
using std::chrono::seconds;

json::object nodeWith(const char* ready, const char* heartbeat, json::array taints = {}) {
  json::object n =
      json::parse(R"({"metadata":{"name":"n1","creationTimestamp":"2026-01-01T00:00:00Z"},
      "spec":{},"status":{"conditions":[
        {"type":"MemoryPressure","status":"False","reason":"KubeletHasSufficientMemory"},
        {"type":"Ready","status":"True","reason":"KubeletReady"}]}})")
          .as_object();
  auto& conds = n["status"].as_object()["conditions"].as_array();
  conds[1].as_object()["status"] = ready;
  conds[1].as_object()["lastHeartbeatTime"] = heartbeat;
  if (!taints.empty()) n["spec"].as_object()["taints"] = taints;
  return n;
}

std::string condStatus(const json::array& conds, const char* type) {
  for (const auto& c : conds)
    if (c.at("type").as_string() == type) return std::string(c.at("status").as_string());
  return "";
}

TEST(AssessNodeHealth, LeaseRenewalsKeepANodeHealthyAndSilenceMakesItUnknown) {
  HealthOptions opts{std::chrono::milliseconds(40000), std::chrono::milliseconds(60000)};
  NodeHealth h;
  auto t0 = std::chrono::steady_clock::time_point(seconds(1000));
  json::object n = nodeWith("True", "2026-01-01T00:00:10Z");
  EXPECT_FALSE(assessNodeHealth(n, "r1", h, t0, opts, "NOW").changed);
  // The status heartbeat is old but the Lease moves: healthy at t0+70s.
  EXPECT_FALSE(assessNodeHealth(n, "r2", h, t0 + seconds(35), opts, "NOW").changed);
  auto v = assessNodeHealth(n, "r3", h, t0 + seconds(70), opts, "NOW");
  EXPECT_FALSE(v.changed);
  EXPECT_EQ(v.readyStatus, "True");
  // Exactly the grace period: still fine; beyond it: Unknown.
  EXPECT_FALSE(assessNodeHealth(n, "r3", h, t0 + seconds(110), opts, "NOW").changed);
  v = assessNodeHealth(n, "r3", h, t0 + seconds(111), opts, "NOW");
  ASSERT_TRUE(v.changed);
  EXPECT_EQ(v.readyStatus, "Unknown");
  EXPECT_EQ(condStatus(v.conditions, "Ready"), "Unknown");
  EXPECT_EQ(condStatus(v.conditions, "MemoryPressure"), "Unknown");
  EXPECT_EQ(condStatus(v.conditions, "PIDPressure"), "Unknown");  // absent before: added
  for (const auto& c : v.conditions) {
    if (c.at("type").as_string() == "Ready") {
      EXPECT_EQ(c.at("reason").as_string(), "NodeStatusUnknown");
      EXPECT_EQ(c.at("message").as_string(), "Kubelet stopped posting node status.");
      EXPECT_EQ(c.at("lastTransitionTime").as_string(), "NOW");
      EXPECT_EQ(c.at("lastHeartbeatTime").as_string(), "2026-01-01T00:00:10Z");
    }
    if (c.at("type").as_string() == "PIDPressure")
      EXPECT_EQ(c.at("reason").as_string(), "NodeStatusNeverUpdated");
  }
  // Written already: the next pass over the Unknown node changes nothing.
  json::object written = n;
  written["status"].as_object()["conditions"] = v.conditions;
  EXPECT_FALSE(assessNodeHealth(written, "r3", h, t0 + seconds(120), opts, "NOW").changed);
  // A renewal brings it back into the grace period (the kubelet then posts Ready=True).
  EXPECT_FALSE(assessNodeHealth(written, "r4", h, t0 + seconds(200), opts, "NOW").changed);
}

TEST(AssessNodeHealth, NodesWithoutReadyGetTheStartupGrace) {
  HealthOptions opts{std::chrono::milliseconds(40000), std::chrono::milliseconds(60000)};
  NodeHealth h;
  auto t0 = std::chrono::steady_clock::time_point(seconds(5));
  json::object n =
      json::parse(R"({"metadata":{"name":"n","creationTimestamp":"C"},"status":{}})").as_object();
  EXPECT_FALSE(assessNodeHealth(n, "", h, t0, opts, "NOW").changed);
  EXPECT_FALSE(assessNodeHealth(n, "", h, t0 + seconds(50), opts, "NOW").changed);
  auto v = assessNodeHealth(n, "", h, t0 + seconds(61), opts, "NOW");
  ASSERT_TRUE(v.changed);
  EXPECT_EQ(v.conditions.size(), 4u);
  EXPECT_EQ(v.conditions[0].at("lastHeartbeatTime").as_string(), "C");
}

TEST(DesiredTaints, FollowReadyAndKeepOthersAndTimeAdded) {
  json::array other =
      json::parse(R"([{"key":"dedicated","value":"gpu","effect":"NoSchedule"}])").as_array();
  auto v = desiredTaints(nodeWith("Unknown", "x", other), "T1");
  ASSERT_TRUE(v.changed);
  EXPECT_EQ(json::serialize(v.taints),
            R"([{"key":"dedicated","value":"gpu","effect":"NoSchedule"},)"
            R"({"key":"node.kubernetes.io/unreachable","effect":"NoExecute","timeAdded":"T1"},)"
            R"({"key":"node.kubernetes.io/unreachable","effect":"NoSchedule"}])");
  // Applied: stable, and the NoExecute taint keeps its timeAdded.
  auto again = desiredTaints(nodeWith("Unknown", "x", v.taints), "T2");
  EXPECT_FALSE(again.changed);
  EXPECT_EQ(json::serialize(again.taints), json::serialize(v.taints));
  // Ready=False swaps unreachable for not-ready.
  auto notReady = desiredTaints(nodeWith("False", "x", v.taints), "T3");
  ASSERT_TRUE(notReady.changed);
  EXPECT_NE(json::serialize(notReady.taints)
                .find("not-ready\",\"effect\":\"NoExecute\",\"timeAdded\":\"T3"),
            std::string::npos);
  EXPECT_EQ(json::serialize(notReady.taints).find("unreachable"), std::string::npos);
  // Back to Ready: only the foreign taint stays.
  auto back = desiredTaints(nodeWith("True", "x", v.taints), "T4");
  ASSERT_TRUE(back.changed);
  EXPECT_EQ(json::serialize(back.taints), json::serialize(other));
  // Nothing to do for a healthy untainted node.
  EXPECT_FALSE(desiredTaints(nodeWith("True", "x"), "T5").changed);
}

TEST(EvictionDelay, TolerationsDecide) {
  json::array taints = json::parse(
                           R"([{"key":"node.kubernetes.io/unreachable","effect":"NoExecute"},
          {"key":"node.kubernetes.io/unreachable","effect":"NoSchedule"}])")
                           .as_array();
  auto pod = [](const char* tolerations) {
    return json::parse(std::string(R"({"spec":{"tolerations":)") + tolerations + "}}").as_object();
  };
  EXPECT_EQ(evictionDelaySeconds(pod("[]"), taints), 0);
  EXPECT_EQ(
      evictionDelaySeconds(
          pod(R"([{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},
      {"operator":"Exists","tolerationSeconds":20}])"),
          taints),
      20);
  EXPECT_EQ(evictionDelaySeconds(
                pod(R"([{"key":"node.kubernetes.io/unreachable","operator":"Exists"}])"), taints),
            std::nullopt);  // tolerated for ever
  EXPECT_EQ(
      evictionDelaySeconds(
          pod(R"([{"key":"node.kubernetes.io/not-ready","operator":"Exists","tolerationSeconds":5}])"),
          taints),
      0);  // tolerates another taint only
  EXPECT_EQ(evictionDelaySeconds(pod("[]"), json::array{}), std::nullopt);
  json::array valued = json::parse(R"([{"key":"k","value":"v","effect":"NoExecute"}])").as_array();
  EXPECT_EQ(evictionDelaySeconds(pod(R"([{"key":"k","value":"w","tolerationSeconds":1}])"), valued),
            0);
  EXPECT_EQ(
      evictionDelaySeconds(
          pod(R"([{"key":"k","operator":"Equal","value":"v","tolerationSeconds":-3}])"), valued),
      0);
}

TEST(PodNotReadyPatch, OnlyForReadyPods) {
  auto ready =
      json::parse(
          R"({"metadata":{"uid":"u1"},"status":{"conditions":[{"type":"Ready","status":"True"}]}})")
          .as_object();
  auto patch = podNotReadyPatch(ready, "NOW");
  ASSERT_TRUE(patch.has_value());
  EXPECT_EQ(
      json::serialize(*patch),
      R"({"metadata":{"uid":"u1"},"status":{"conditions":[{"type":"Ready","status":"False","lastTransitionTime":"NOW"}]}})");
  auto notReady =
      json::parse(R"({"status":{"conditions":[{"type":"Ready","status":"False"}]}})").as_object();
  EXPECT_FALSE(podNotReadyPatch(notReady, "NOW").has_value());
}

}  // namespace
}  // namespace berth::controllers::nodelifecycle
