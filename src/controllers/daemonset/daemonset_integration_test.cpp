// The DaemonSet controller against the real server (which runs it in its controller manager):
// pods follow nodes joining, leaving and changing labels and taints; a template change rolls
// out one node at a time under maxUnavailable 1; status counts what the "kubelet" (the test)
// reports.
#include <gtest/gtest.h>

#include "client/testing_server.h"
#include "controllers/framework/testing_pods.h"
#include "controllers/framework/workload_util.h"

namespace berth::controllers {
namespace {

namespace json = boost::json;
using client::testing::eventually;
using client::testing::TestServer;
using namespace controllers::testing;

const client::Resource kDs{"apps", "v1", "daemonsets", true};

json::value daemonSet(const std::string& image) {
  return json::parse(R"({"apiVersion":"apps/v1","kind":"DaemonSet",
    "metadata":{"name":"agent","namespace":"default"},
    "spec":{"selector":{"matchLabels":{"app":"agent"}},
      "template":{"metadata":{"labels":{"app":"agent"}},
        "spec":{"nodeSelector":{"role":"web"},"containers":[{"name":"c","image":")" +
                     image + R"("}]}}}})");
}

// Daemon pods by target node (the affinity the controller pinned), skipping terminating ones.
std::map<std::string, std::vector<json::value>> podsPerNode(client::RestClient& c) {
  std::map<std::string, std::vector<json::value>> out;
  for (auto& p : listPods(c, "default", "app=agent")) {
    if (isBeingDeleted(p)) continue;
    const json::value& terms = p.at("spec")
                                   .at("affinity")
                                   .at("nodeAffinity")
                                   .at("requiredDuringSchedulingIgnoredDuringExecution")
                                   .at("nodeSelectorTerms");
    out[std::string(terms.at(0).at("matchFields").at(0).at("values").at(0).as_string())].push_back(
        p);
  }
  return out;
}

bool onePodOn(client::RestClient& c, std::set<std::string> nodes) {
  auto m = podsPerNode(c);
  if (m.size() != nodes.size()) return false;
  for (auto& [n, pods] : m) {
    if (!nodes.count(n) || pods.size() != 1) return false;
  }
  return true;
}

void markAllReady(client::RestClient& c) {
  for (auto& p : listPods(c, "default", "app=agent")) {
    if (!isPodReady(p)) setPodStatus(c, p, "Running", true);
  }
}

json::object dsStatus(client::RestClient& c) {
  auto ds = c.get(kDs, "default", "agent");
  return ds.ok() ? statusOf(*ds) : json::object();
}

TEST(DaemonSetIntegrationTest, FollowsNodesAndRollsOut) {
  TestServer server;
  ASSERT_TRUE(server.start());
  auto c = server.client("daemonset-test");
  createNode(*c, "n1", {{"role", "web"}});
  createNode(*c, "n2", {{"role", "web"}});
  createNode(*c, "n3", {{"role", "db"}});
  ASSERT_TRUE(c->create(kDs, "default", daemonSet("img:1")).ok());
  ASSERT_TRUE(eventually([&] { return onePodOn(*c, {"n1", "n2"}); }));

  // A joining node gets a pod; a node whose labels stop matching loses its pod; a node whose
  // labels start matching gets one.
  createNode(*c, "n4", {{"role", "web"}});
  ASSERT_TRUE(eventually([&] { return onePodOn(*c, {"n1", "n2", "n4"}); }));
  auto patchLabels = [&](const char* node, const char* body) {
    return c->patch(kTestNodes, "", node, client::PatchType::kMerge, body).ok();
  };
  ASSERT_TRUE(patchLabels("n1", R"({"metadata":{"labels":{"role":"db"}}})"));
  ASSERT_TRUE(patchLabels("n3", R"({"metadata":{"labels":{"role":"web"}}})"));
  ASSERT_TRUE(eventually([&] { return onePodOn(*c, {"n2", "n3", "n4"}); }));

  // Taints: a NoSchedule taint keeps the existing pod, NoExecute removes it; a default
  // toleration (unschedulable) does neither.
  ASSERT_TRUE(c->patch(kTestNodes, "", "n2", client::PatchType::kMerge,
                       R"({"spec":{"taints":[{"key":"dedicated","effect":"NoSchedule"},
                           {"key":"node.kubernetes.io/unschedulable","effect":"NoSchedule"}]}})")
                  .ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(onePodOn(*c, {"n2", "n3", "n4"}));
  ASSERT_TRUE(c->patch(kTestNodes, "", "n2", client::PatchType::kMerge,
                       R"({"spec":{"taints":[{"key":"dedicated","effect":"NoExecute"}]}})")
                  .ok());
  ASSERT_TRUE(eventually([&] { return onePodOn(*c, {"n3", "n4"}); }));

  // A node that leaves takes its (unscheduled) pod with it.
  ASSERT_TRUE(c->remove(kTestNodes, "", "n4").ok());
  ASSERT_TRUE(eventually([&] { return onePodOn(*c, {"n3"}); }));
  createNode(*c, "n5", {{"role", "web"}});
  ASSERT_TRUE(eventually([&] { return onePodOn(*c, {"n3", "n5"}); }));

  // Status as the "kubelet" reports readiness.
  markAllReady(*c);
  ASSERT_TRUE(eventually([&] {
    json::object s = dsStatus(*c);
    return s["desiredNumberScheduled"] == 2 && s["currentNumberScheduled"] == 2 &&
           s["numberReady"] == 2 && s["numberAvailable"] == 2 && s["updatedNumberScheduled"] == 2 &&
           s["numberMisscheduled"] == 0 && s["observedGeneration"] == 1;
  })) << json::serialize(dsStatus(*c));

  // Rolling update with maxUnavailable 1: one node at a time, the next only once the new pod
  // there is ready.
  std::string oldHash = std::string(podsPerNode(*c)["n3"][0]
                                        .at("metadata")
                                        .at("labels")
                                        .at("controller-revision-hash")
                                        .as_string());
  ASSERT_TRUE(
      c->patch(kDs, "default", "agent", client::PatchType::kMerge,
               R"({"spec":{"template":{"spec":{"containers":[{"name":"c","image":"img:2"}]}}}})")
          .ok());
  auto countNew = [&] {
    int n = 0;
    for (auto& [_, pods] : podsPerNode(*c)) {
      for (auto& p : pods) {
        if (p.at("metadata").at("labels").at("controller-revision-hash") != oldHash.c_str()) ++n;
      }
    }
    return n;
  };
  ASSERT_TRUE(eventually([&] { return countNew() == 1 && podsPerNode(*c).size() == 2; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(countNew(), 1) << "a second node was updated before the first new pod was ready";
  markAllReady(*c);
  ASSERT_TRUE(eventually([&] { return countNew() == 2; }));
  markAllReady(*c);
  ASSERT_TRUE(eventually([&] {
    json::object s = dsStatus(*c);
    return s["updatedNumberScheduled"] == 2 && s["numberAvailable"] == 2 &&
           s["observedGeneration"] == 2;
  })) << json::serialize(dsStatus(*c));

  // Two revisions, numbered 1 and 2, named after the DaemonSet.
  auto revs = c->list({"apps", "v1", "controllerrevisions", true}, "default");
  ASSERT_TRUE(revs.ok());
  std::set<long long> numbers;
  for (auto& r : revs->at("items").as_array()) {
    EXPECT_TRUE(r.at("metadata").at("name").as_string().starts_with("agent-"));
    numbers.insert(r.at("revision").as_int64());
  }
  EXPECT_EQ(numbers, (std::set<long long>{1, 2}));
}

// The kind of a pod's controller reference when it also blocks owner deletion; empty when none.
std::string controllerKindOf(client::RestClient& c, const std::string& name) {
  auto p = c.get(kTestPods, "default", name);
  if (!p.ok()) return "gone";
  const json::object* ref = controllerRefOf(*p);
  if (!ref || !boolAt(*ref, "blockOwnerDeletion").value_or(false)) return "";
  return strAt(*ref, "kind");
}

TEST(DaemonSetIntegrationTest, AdoptsAnOrphanOnItsNodeAndReleasesItWhenRelabeled) {
  TestServer server;
  ASSERT_TRUE(server.start());
  auto c = server.client("daemonset-test");
  createNode(*c, "n1", {{"role", "web"}});
  // An orphan already on n1 with the DaemonSet's labels counts as n1's daemon pod.
  ASSERT_TRUE(c->create(kTestPods, "default", json::parse(R"({"apiVersion":"v1","kind":"Pod",
      "metadata":{"name":"stray","labels":{"app":"agent"}},
      "spec":{"nodeName":"n1","containers":[{"name":"c","image":"img:0"}]}})"))
                  .ok());
  json::value ds = daemonSet("img:1");
  // OnDelete: the adopted pod (older template) is not rolled, so what is left is adoption alone.
  ds.as_object()["spec"].as_object()["updateStrategy"] = json::object{{"type", "OnDelete"}};
  ASSERT_TRUE(c->create(kDs, "default", ds).ok());
  ASSERT_TRUE(eventually([&] { return controllerKindOf(*c, "stray") == "DaemonSet"; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(listPods(*c, "default", "app=agent").size(), 1u);  // nothing created beside it

  // Relabeled out of the selector: released (no controller reference) and replaced on n1.
  ASSERT_TRUE(c->patch(kTestPods, "default", "stray", client::PatchType::kMerge,
                       R"({"metadata":{"labels":{"app":"gone"}}})")
                  .ok());
  ASSERT_TRUE(eventually([&] { return controllerKindOf(*c, "stray").empty(); }));
  ASSERT_TRUE(eventually([&] {
    auto m = podsPerNode(*c);
    return m["n1"].size() == 1 && strAt(metaOf(m["n1"][0]), "name") != "stray";
  }));
  auto stray = c->get(kTestPods, "default", "stray");
  ASSERT_TRUE(stray.ok());
  EXPECT_FALSE(isBeingDeleted(*stray));  // released, not deleted
}

}  // namespace
}  // namespace berth::controllers
