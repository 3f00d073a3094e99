// The scheduler inside the real `berth server`: Node objects and pods created through the API.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "client/testing_server.h"
#include "core/json_access.h"

namespace berth::scheduler {
namespace {

namespace json = boost::json;
using client::testing::eventually;

const client::Resource kPods{"", "v1", "pods", true};
const client::Resource kNodes{"", "v1", "nodes", false};
const client::Resource kEvents{"", "v1", "events", true};
const client::Resource kPriorityClasses{"scheduling.k8s.io", "v1", "priorityclasses", false};
const client::Resource kPdbs{"policy", "v1", "poddisruptionbudgets", true};

json::value node(const std::string& name, const std::string& cpu, json::object labels = {}) {
  json::object alloc{{"cpu", cpu}, {"memory", "8Gi"}, {"pods", "110"}};
  return json::object{{"apiVersion", "v1"},
                      {"kind", "Node"},
                      {"metadata", {{"name", name}, {"labels", std::move(labels)}}},
                      {"status", {{"capacity", alloc}, {"allocatable", alloc}}}};
}

json::value pod(const std::string& name, const std::string& cpu, json::object extraSpec = {}) {
  json::object spec = std::move(extraSpec);
  spec["containers"] = json::array{json::object{
      {"name", "c"}, {"image", "busybox"}, {"resources", {{"requests", {{"cpu", cpu}}}}}}};
  return json::object{{"apiVersion", "v1"},
                      {"kind", "Pod"},
                      {"metadata", {{"name", name}, {"namespace", "default"}}},
                      {"spec", std::move(spec)}};
}

std::string nodeOf(client::RestClient& c, const std::string& name) {
  auto p = c.get(kPods, "default", name);
  if (!p.ok()) return "";
  const auto* spec = core::objectField(p->as_object(), "spec");
  return spec ? core::stringField(*spec, "nodeName") : "";
}

// The PodScheduled condition's "reason: message", "" when absent.
std::string scheduledCondition(client::RestClient& c, const std::string& name) {
  auto p = c.get(kPods, "default", name);
  if (!p.ok()) return "";
  const auto* st = core::objectField(p->as_object(), "status");
  const auto* conds = st ? st->if_contains("conditions") : nullptr;
  if (!conds || !conds->is_array()) return "";
  for (const auto& cond : conds->as_array()) {
    const auto& o = cond.as_object();
    if (core::stringField(o, "type") == "PodScheduled")
      return core::stringField(o, "status") + " " + core::stringField(o, "reason") + ": " +
             core::stringField(o, "message");
  }
  return "";
}

bool hasEvent(client::RestClient& c, const std::string& pod, const std::string& reason,
              const std::string& message) {
  auto list = c.list(kEvents, "default");
  if (!list.ok()) return false;
  for (const auto& e : list->as_object().at("items").as_array()) {
    const auto& o = e.as_object();
    const auto* involved = core::objectField(o, "involvedObject");
    if (involved && core::stringField(*involved, "name") == pod &&
        core::stringField(o, "reason") == reason && core::stringField(o, "message") == message)
      return true;
  }
  return false;
}

class SchedulerIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.start());
    client_ = server_.client("scheduler-test");
    ASSERT_TRUE(client_);
  }
  client::testing::TestServer server_;
  std::unique_ptr<client::RestClient> client_;
};

TEST_F(SchedulerIntegration, BindsReportsUnschedulableAndRetriesOnNodeAdd) {
  auto& c = *client_;
  ASSERT_TRUE(c.create(kNodes, "", node("small-1", "1", {{"disk", "ssd"}})).ok());
  ASSERT_TRUE(c.create(kNodes, "", node("small-2", "1")).ok());

  ASSERT_TRUE(
      c.create(kPods, "default", pod("fits", "500m", {{"nodeSelector", {{"disk", "ssd"}}}})).ok());
  ASSERT_TRUE(eventually([&] { return nodeOf(c, "fits") == "small-1"; }));
  EXPECT_TRUE(eventually([&] {
    return hasEvent(c, "fits", "Scheduled", "Successfully assigned default/fits to small-1");
  }));

  ASSERT_TRUE(c.create(kPods, "default", pod("big", "2")).ok());
  std::string last;
  EXPECT_TRUE(eventually([&] {
    last = scheduledCondition(c, "big");
    return last.starts_with("False Unschedulable: 0/2 nodes are available: 2 Insufficient cpu.");
  })) << last;
  EXPECT_TRUE(eventually([&] {
    auto list = c.list(kEvents, "default");
    return list.ok() && json::serialize(*list).find("FailedScheduling") != std::string::npos;
  }));
  EXPECT_EQ(nodeOf(c, "big"), "");

  // A node that fits arrives: the pod leaves the unschedulable queue and is bound.
  ASSERT_TRUE(c.create(kNodes, "", node("large", "4")).ok());
  EXPECT_TRUE(eventually([&] { return nodeOf(c, "big") == "large"; }, std::chrono::seconds(15)));
}

TEST_F(SchedulerIntegration, IgnoresOtherSchedulersAndTaintedNodes) {
  auto& c = *client_;
  auto tainted = node("tainted", "4");
  tainted.as_object()["spec"] = json::object{
      {"taints",
       json::array{json::object{{"key", "dedicated"}, {"value", "x"}, {"effect", "NoSchedule"}}}}};
  ASSERT_TRUE(c.create(kNodes, "", tainted).ok());
  ASSERT_TRUE(c.create(kPods, "default", pod("mine", "100m")).ok());
  ASSERT_TRUE(c.create(kPods, "default", pod("theirs", "100m", {{"schedulerName", "other"}})).ok());
  std::string last;
  EXPECT_TRUE(eventually([&] {
    last = scheduledCondition(c, "mine");
    return last.starts_with(
        "False Unschedulable: 0/1 nodes are available: 1 node(s) had untolerated taint "
        "{dedicated: x}.");
  })) << last;
  ASSERT_TRUE(c.create(kNodes, "", node("plain", "4")).ok());
  EXPECT_TRUE(eventually([&] { return nodeOf(c, "mine") == "plain"; }, std::chrono::seconds(15)));
  // Not ours: never bound, never given a condition.
  EXPECT_EQ(nodeOf(c, "theirs"), "");
  EXPECT_EQ(scheduledCondition(c, "theirs"), "");
}

json::value priorityClass(const std::string& name, int value) {
  return json::object{{"apiVersion", "scheduling.k8s.io/v1"},
                      {"kind", "PriorityClass"},
                      {"metadata", {{"name", name}}},
                      {"value", value}};
}

// Whether the pod is gone or being deleted.
bool deleted(client::RestClient& c, const std::string& name) {
  auto p = c.get(kPods, "default", name);
  if (!p.ok()) return p.status().isNotFound();
  const auto* meta = core::objectField(p->as_object(), "metadata");
  return meta && meta->contains("deletionTimestamp");
}

// Two full nodes of low-priority pods; the first node's pods are covered by a budget that allows
// no disruption, so the high-priority pod preempts on the second even though both nodes rank
// the same otherwise (and the first would win the final tie).
TEST_F(SchedulerIntegration, PreemptionAvoidsPodsProtectedByDisruptionBudgets) {
  auto& c = *client_;
  ASSERT_TRUE(c.create(kPriorityClasses, "", priorityClass("low", 10)).ok());
  ASSERT_TRUE(c.create(kPriorityClasses, "", priorityClass("high", 1000)).ok());
  ASSERT_TRUE(c.create(kNodes, "", node("a-guarded", "2", {{"pool", "guarded"}})).ok());
  ASSERT_TRUE(c.create(kNodes, "", node("b-open", "2", {{"pool", "open"}})).ok());
  json::value pdb = json::object{
      {"apiVersion", "policy/v1"},
      {"kind", "PodDisruptionBudget"},
      {"metadata", {{"name", "db"}, {"namespace", "default"}}},
      {"spec", {{"maxUnavailable", 0}, {"selector", {{"matchLabels", {{"app", "db"}}}}}}}};
  ASSERT_TRUE(c.create(kPdbs, "default", pdb).ok());
  std::vector<std::pair<std::string, std::string>> placed;  // pod, node
  for (const auto& [app, pool, nodeName] :
       {std::tuple{"db", "guarded", "a-guarded"}, std::tuple{"web", "open", "b-open"}}) {
    for (int i = 0; i < 2; ++i) {
      std::string name = std::string(app) + "-" + std::to_string(i);
      auto p = pod(name, "1", {{"priorityClassName", "low"}, {"nodeSelector", {{"pool", pool}}}});
      p.as_object()["metadata"].as_object()["labels"] = json::object{{"app", app}};
      ASSERT_TRUE(c.create(kPods, "default", p).ok());
      placed.emplace_back(name, nodeName);
    }
  }
  for (const auto& [name, nodeName] : placed)
    ASSERT_TRUE(eventually([&] { return nodeOf(c, name) == nodeName; })) << name;

  // The disruption controller has written the budget's status (disruptionsAllowed 0).
  ASSERT_TRUE(eventually([&] {
    auto b = c.get(kPdbs, "default", "db");
    const auto* st = b.ok() ? core::objectField(b->as_object(), "status") : nullptr;
    return st && st->contains("disruptionsAllowed");
  }));
  ASSERT_TRUE(c.create(kPods, "default", pod("urgent", "1", {{"priorityClassName", "high"}})).ok());
  auto nominated = [&] {
    auto p = c.get(kPods, "default", "urgent");
    const auto* st = p.ok() ? core::objectField(p->as_object(), "status") : nullptr;
    return st ? core::stringField(*st, "nominatedNodeName") : "";
  };
  EXPECT_TRUE(eventually([&] { return nominated() == "b-open"; })) << nominated();
  // One web pod is enough (the urgent pod needs 1 of 2 CPUs); the db pods are untouched.
  EXPECT_TRUE(eventually([&] { return deleted(c, "web-0") || deleted(c, "web-1"); }));
  EXPECT_FALSE(deleted(c, "web-0") && deleted(c, "web-1"));
  std::string victim = deleted(c, "web-0") ? "web-0" : "web-1";
  auto v = c.get(kPods, "default", victim);
  ASSERT_TRUE(v.ok());
  std::string target;  // the DisruptionTarget condition as "status reason: message"
  for (const auto& cond : v->at("status").at("conditions").as_array()) {
    const auto& o = cond.as_object();
    if (core::stringField(o, "type") == "DisruptionTarget")
      target = core::stringField(o, "status") + " " + core::stringField(o, "reason") + ": " +
               core::stringField(o, "message");
  }
  EXPECT_EQ(target,
            "True PreemptionByScheduler: default-scheduler: preempting to accommodate a higher "
            "priority pod");
  EXPECT_FALSE(deleted(c, "db-0"));
  EXPECT_FALSE(deleted(c, "db-1"));
}

}  // namespace
}  // namespace berth::scheduler
