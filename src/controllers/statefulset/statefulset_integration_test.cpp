// The StatefulSet controller against the real server, the test acting as the kubelet: ordered
// creation with claims first, reverse-order scale-down, a partitioned rolling update, Parallel.
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

const client::Resource kSts{"apps", "v1", "statefulsets", true};
const client::Resource kPvcs{"", "v1", "persistentvolumeclaims", true};

json::value statefulSet(const std::string& name, int replicas, const std::string& policy) {
  return json::parse(R"({"apiVersion":"apps/v1","kind":"StatefulSet",
    "metadata":{"name":")" +
                     name + R"(","namespace":"default"},
    "spec":{"serviceName":")" +
                     name + R"(","replicas":)" + std::to_string(replicas) +
                     R"(,"podManagementPolicy":")" + policy + R"(",
      "selector":{"matchLabels":{"app":")" +
                     name + R"("}},
      "template":{"metadata":{"labels":{"app":")" +
                     name + R"("}},
        "spec":{"containers":[{"name":"c","image":"img:1",
          "volumeMounts":[{"name":"data","mountPath":"/data"}]}]}},
      "volumeClaimTemplates":[{"metadata":{"name":"data"},
        "spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}]}})");
}

// Names of the set's pods that are not terminating, sorted.
std::set<std::string> podNames(client::RestClient& c, const std::string& app) {
  std::set<std::string> out;
  for (auto& p : listPods(c, "default", "app=" + app)) {
    if (!isBeingDeleted(p)) out.insert(strAt(metaOf(p), "name"));
  }
  return out;
}

void markReady(client::RestClient& c, const std::string& podName) {
  auto p = c.get(kTestPods, "default", podName);
  ASSERT_TRUE(p.ok()) << podName;
  ASSERT_TRUE(setPodStatus(c, *p, "Running", true));
}

std::string revisionOf(client::RestClient& c, const std::string& podName) {
  auto p = c.get(kTestPods, "default", podName);
  return p.ok() ? strAt(objAt(*p, "metadata", "labels"), "controller-revision-hash") : "";
}

json::object stsStatus(client::RestClient& c, const std::string& name) {
  auto s = c.get(kSts, "default", name);
  return s.ok() ? statusOf(*s) : json::object();
}

TEST(StatefulSetIntegrationTest, OrderedScaleAndRollingUpdate) {
  TestServer server;
  ASSERT_TRUE(server.start());
  auto c = server.client("statefulset-test");
  using Names = std::set<std::string>;

  // OrderedReady: web-0 (with its claim) first; web-1 only once web-0 is ready.
  ASSERT_TRUE(c->create(kSts, "default", statefulSet("web", 3, "OrderedReady")).ok());
  ASSERT_TRUE(eventually([&] { return podNames(*c, "web") == Names{"web-0"}; }));
  EXPECT_TRUE(c->get(kPvcs, "default", "data-web-0").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(podNames(*c, "web"), Names{"web-0"});
  markReady(*c, "web-0");
  ASSERT_TRUE(eventually([&] { return podNames(*c, "web") == Names({"web-0", "web-1"}); }));
  markReady(*c, "web-1");
  ASSERT_TRUE(eventually([&] { return podNames(*c, "web").size() == 3; }));
  markReady(*c, "web-2");
  auto pod = c->get(kTestPods, "default", "web-2");
  ASSERT_TRUE(pod.ok());
  EXPECT_EQ(strAt(objAt(*pod, "metadata", "labels"), "statefulset.kubernetes.io/pod-name"),
            "web-2");
  EXPECT_EQ(strAt(objAt(*pod, "metadata", "labels"), "apps.kubernetes.io/pod-index"), "2");
  EXPECT_EQ(strAt(specOf(*pod), "hostname"), "web-2");
  EXPECT_EQ(strAt(specOf(*pod), "subdomain"), "web");
  EXPECT_EQ(pod->at("spec").at("volumes").at(0).at("persistentVolumeClaim").at("claimName"),
            "data-web-2");
  ASSERT_TRUE(eventually([&] {
    auto s = stsStatus(*c, "web");
    return s["replicas"] == 3 && s["readyReplicas"] == 3 && s["availableReplicas"] == 3 &&
           s["currentReplicas"] == 3 && s["updatedReplicas"] == 3 &&
           s["currentRevision"] == s["updateRevision"] && s["observedGeneration"] == 1;
  })) << json::serialize(stsStatus(*c, "web"));
  std::string rev1 = revisionOf(*c, "web-0");
  EXPECT_TRUE(rev1.starts_with("web-"));

  // Rolling update with partition 1: web-2 then web-1 are replaced (highest first, each once
  // the previous is ready again); web-0 stays at the old revision.
  ASSERT_TRUE(c->patch(kSts, "default", "web", client::PatchType::kMerge,
                       R"({"spec":{"updateStrategy":{"rollingUpdate":{"partition":1}},
                           "template":{"spec":{"containers":[{"name":"c","image":"img:2",
                           "volumeMounts":[{"name":"data","mountPath":"/data"}]}]}}}})")
                  .ok());
  ASSERT_TRUE(eventually([&] {
    std::string r = revisionOf(*c, "web-2");
    return !r.empty() && r != rev1;
  }));
  std::string rev2 = revisionOf(*c, "web-2");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(revisionOf(*c, "web-1"), rev1) << "web-1 replaced before web-2 was ready";
  markReady(*c, "web-2");
  ASSERT_TRUE(eventually([&] { return revisionOf(*c, "web-1") == rev2; }));
  markReady(*c, "web-1");
  ASSERT_TRUE(eventually([&] {
    auto s = stsStatus(*c, "web");
    return s["updatedReplicas"] == 2 && s["currentReplicas"] == 1 && s["readyReplicas"] == 3 &&
           s["updateRevision"] == rev2.c_str() && s["currentRevision"] == rev1.c_str();
  })) << json::serialize(stsStatus(*c, "web"));
  EXPECT_EQ(revisionOf(*c, "web-0"), rev1);

  // Scale down: highest ordinal first; claims stay (retention policy Retain).
  ASSERT_TRUE(
      c->patch(kSts, "default", "web", client::PatchType::kMerge, R"({"spec":{"replicas":1}})")
          .ok());
  ASSERT_TRUE(eventually([&] { return podNames(*c, "web") == Names{"web-0"}; }));
  EXPECT_TRUE(c->get(kPvcs, "default", "data-web-2").ok());

  // Parallel: every pod at once, no waiting for readiness.
  ASSERT_TRUE(c->create(kSts, "default", statefulSet("par", 3, "Parallel")).ok());
  ASSERT_TRUE(eventually([&] {
    return podNames(*c, "par") == Names({"par-0", "par-1", "par-2"});
  }));
}

TEST(StatefulSetIntegrationTest, AdoptsAnOrphanWithItsIdentityOnly) {
  TestServer server;
  ASSERT_TRUE(server.start());
  auto c = server.client("statefulset-test");
  auto orphan = [&](const std::string& name) {
    return c->create(kTestPods, "default", json::parse(R"({"apiVersion":"v1","kind":"Pod",
        "metadata":{"name":")" + name + R"(","labels":{"app":"db"}},
        "spec":{"containers":[{"name":"c","image":"img:1"}]}})"));
  };
  // db-0 has the set's identity and labels; other-0 only the labels.
  ASSERT_TRUE(orphan("db-0").ok());
  ASSERT_TRUE(orphan("other-0").ok());
  markReady(*c, "db-0");
  std::string uid0 = uidOf(*c->get(kTestPods, "default", "db-0"));
  json::value set = statefulSet("db", 2, "OrderedReady");
  set.as_object()["spec"].as_object()["updateStrategy"] = json::object{{"type", "OnDelete"}};
  ASSERT_TRUE(c->create(kSts, "default", set).ok());
  auto controller = [&](const std::string& name) {
    auto p = c->get(kTestPods, "default", name);
    const json::object* ref = p.ok() ? controllerRefOf(*p) : nullptr;
    return ref ? strAt(*ref, "kind") : std::string();
  };
  ASSERT_TRUE(eventually([&] { return controller("db-0") == "StatefulSet"; }));
  // The adopted db-0 (ready) is ordinal 0: the set goes on with db-1 and never recreates db-0.
  ASSERT_TRUE(eventually([&] { return podNames(*c, "db").count("db-1") == 1; }));
  EXPECT_EQ(uidOf(*c->get(kTestPods, "default", "db-0")), uid0);
  EXPECT_EQ(controller("other-0"), "");
  EXPECT_EQ(podNames(*c, "db"), (std::set<std::string>{"db-0", "db-1", "other-0"}));
}

TEST(StatefulSetIntegrationTest, ClaimRetentionPolicyDeleteHandsClaimsToTheCollector) {
  TestServer server;
  ASSERT_TRUE(server.start());
  auto c = server.client("statefulset-test");
  json::value set = statefulSet("vol", 2, "Parallel");
  set.as_object()["spec"].as_object()["persistentVolumeClaimRetentionPolicy"] =
      json::object{{"whenDeleted", "Delete"}, {"whenScaled", "Delete"}};
  auto created = c->create(kSts, "default", set);
  ASSERT_TRUE(created.ok()) << created.status().message();
  std::string setUid = uidOf(*created);
  auto ownerOf = [&](const std::string& claim) -> std::pair<std::string, std::string> {
    auto pvc = c->get(kPvcs, "default", claim);
    if (!pvc.ok()) return {"gone", ""};
    const json::value* refs = metaOf(*pvc).if_contains("ownerReferences");
    if (!refs || !refs->is_array() || refs->get_array().size() != 1) return {"", ""};
    const json::object& ref = refs->get_array()[0].as_object();
    return {strAt(ref, "kind"), strAt(ref, "uid")};
  };
  // whenDeleted=Delete: each claim is owned by the set.
  ASSERT_TRUE(eventually([&] {
    return ownerOf("data-vol-0") == std::make_pair(std::string("StatefulSet"), setUid) &&
           ownerOf("data-vol-1") == std::make_pair(std::string("StatefulSet"), setUid);
  }));
  ASSERT_TRUE(eventually([&] { return podNames(*c, "vol").size() == 2; }));

  // whenScaled=Delete: scaling down hands vol-1's claim to its pod; both then go.
  ASSERT_TRUE(
      c->patch(kSts, "default", "vol", client::PatchType::kMerge, R"({"spec":{"replicas":1}})")
          .ok());
  ASSERT_TRUE(eventually([&] { return ownerOf("data-vol-1").first == "gone"; }))
      << "data-vol-1 owned by " << ownerOf("data-vol-1").first << " "
      << ownerOf("data-vol-1").second << "; pods: " << podNames(*c, "vol").size();
  EXPECT_EQ(ownerOf("data-vol-0"), std::make_pair(std::string("StatefulSet"), setUid));

  // whenDeleted=Delete: deleting the set takes the remaining claim.
  ASSERT_TRUE(c->remove(kSts, "default", "vol").ok());
  EXPECT_TRUE(eventually([&] { return ownerOf("data-vol-0").first == "gone"; }));
}

TEST(StatefulSetIntegrationTest, ClaimsAreRetainedByDefault) {
  TestServer server;
  ASSERT_TRUE(server.start());
  auto c = server.client("statefulset-test");
  ASSERT_TRUE(c->create(kSts, "default", statefulSet("kept", 1, "Parallel")).ok());
  ASSERT_TRUE(eventually([&] { return c->get(kPvcs, "default", "data-kept-0").ok(); }));
  ASSERT_TRUE(c->remove(kSts, "default", "kept").ok());
  ASSERT_TRUE(eventually([&] { return podNames(*c, "kept").empty(); }));
  auto pvc = c->get(kPvcs, "default", "data-kept-0");
  ASSERT_TRUE(pvc.ok());
  EXPECT_FALSE(metaOf(*pvc).contains("ownerReferences"));
}

}  // namespace
}  // namespace berth::controllers
