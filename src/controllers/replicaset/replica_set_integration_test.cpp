// The ReplicaSet and ReplicationController controllers against the real server (`berth server`
// runs them in-process), with a fake kubelet marking pods Ready.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "client/testing_server.h"
#include "controllers/framework/object_util.h"
#include "controllers/framework/testing_kubelet.h"

namespace berth::controllers {
namespace {

namespace json = boost::json;
using client::testing::eventually;

const client::Resource kPods{"", "v1", "pods", true};
const client::Resource kReplicaSets{"apps", "v1", "replicasets", true};
const client::Resource kRCs{"", "v1", "replicationcontrollers", true};
const client::Resource kEvents{"", "v1", "events", true};

class ReplicaSetIntegration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new client::testing::TestServer();
    ASSERT_TRUE(server_->start());
    client_ = server_->client("rs-test").release();
  }
  static void TearDownTestSuite() {
    delete client_;
    delete server_;
  }
  void SetUp() override {
    ns_ = "rs-" + std::to_string(++counter_);
    client::testing::createNamespace(*client_, ns_);
  }

  json::value replicaSet(const std::string& name, int replicas) {
    return json::parse(R"({"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":")" +
                       name + R"("},"spec":{"replicas":)" + std::to_string(replicas) +
                       R"(,"selector":{"matchLabels":{"app":")" + name +
                       R"("}},"template":{"metadata":{"labels":{"app":")" + name +
                       R"("}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}})");
  }
  json::value pod(const std::string& name, const std::string& app) {
    return json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name +
                       R"(","labels":{"app":")" + app +
                       R"("}},"spec":{"containers":[{"name":"c","image":"busybox"}]}})");
  }
  // Pods of the namespace that are not being deleted.
  std::vector<json::value> livePods(const std::string& selector = "") {
    client::ListOptions o;
    o.labelSelector = selector;
    auto l = client_->list(kPods, ns_, o);
    std::vector<json::value> out;
    if (!l.ok()) return out;
    for (const auto& p : l->at("items").as_array())
      if (!isBeingDeleted(p)) out.push_back(p);
    return out;
  }
  json::value get(const client::Resource& r, const std::string& name) {
    auto g = client_->get(r, ns_, name);
    return g.ok() ? g.value() : json::value();
  }
  void scale(const client::Resource& r, const std::string& name, int replicas) {
    auto p = client_->patch(r, ns_, name, client::PatchType::kMerge,
                            R"({"spec":{"replicas":)" + std::to_string(replicas) + "}}");
    ASSERT_TRUE(p.ok()) << p.status().message();
  }

  static inline client::testing::TestServer* server_ = nullptr;
  static inline client::RestClient* client_ = nullptr;
  static inline int counter_ = 0;
  std::string ns_;
};

TEST_F(ReplicaSetIntegration, CreatesOwnedPodsAndReportsStatus) {
  ASSERT_TRUE(client_->create(kReplicaSets, ns_, replicaSet("web", 3)).ok());
  ASSERT_TRUE(eventually([&] { return livePods().size() == 3; }));
  json::value rs = get(kReplicaSets, "web");
  for (const auto& p : livePods()) {
    EXPECT_TRUE(stringAt(p, {"metadata", "name"}).starts_with("web-"));
    EXPECT_EQ(stringAt(p, {"metadata", "generateName"}), "web-");
    auto ref = controllerOf(p);
    ASSERT_TRUE(ref);
    EXPECT_EQ(ref->uid, uidOf(rs));
    EXPECT_EQ(ref->kind, "ReplicaSet");
    EXPECT_EQ(*valueAt(p, {"metadata", "ownerReferences"})
                   ->as_array()[0]
                   .as_object()
                   .if_contains("blockOwnerDeletion"),
              json::value(true));
  }
  ASSERT_TRUE(eventually([&] {
    json::value r = get(kReplicaSets, "web");
    return intAt(r, {"status", "replicas"}) == 3 &&
           intAt(r, {"status", "fullyLabeledReplicas"}) == 3 &&
           intAt(r, {"status", "observedGeneration"}) == intAt(r, {"metadata", "generation"});
  }));
  // Nobody marks them ready yet: no ready or available replicas.
  EXPECT_EQ(intAt(get(kReplicaSets, "web"), {"status", "readyReplicas"}), 0);
  // Events on the ReplicaSet.
  ASSERT_TRUE(eventually([&] {
    auto ev = client_->list(kEvents, ns_);
    int created = 0;
    if (ev.ok())
      for (const auto& e : ev->at("items").as_array())
        created += stringAt(e, {"reason"}) == "SuccessfulCreate" &&
                   stringAt(e, {"involvedObject", "name"}) == "web";
    return created == 3;
  }));
}

TEST_F(ReplicaSetIntegration, ScalesUpAndDownWithoutOvershoot) {
  ASSERT_TRUE(client_->create(kReplicaSets, ns_, replicaSet("burst", 25)).ok());
  ASSERT_TRUE(eventually([&] { return livePods().size() == 25; }));
  // Expectations hold syncs off while creates are in flight: never more than asked for.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(livePods().size(), 25u);
  scale(kReplicaSets, "burst", 4);
  ASSERT_TRUE(eventually([&] { return livePods().size() == 4; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(livePods().size(), 4u);
  ASSERT_TRUE(eventually([&] {
    return intAt(get(kReplicaSets, "burst"), {"status", "replicas"}) == 4;
  }));
}

TEST_F(ReplicaSetIntegration, ReplacesADeletedPod) {
  ASSERT_TRUE(client_->create(kReplicaSets, ns_, replicaSet("heal", 2)).ok());
  ASSERT_TRUE(eventually([&] { return livePods().size() == 2; }));
  std::string victim = stringAt(livePods()[0], {"metadata", "name"});
  ASSERT_TRUE(client_->remove(kPods, ns_, victim).ok());
  ASSERT_TRUE(eventually([&] {
    auto pods = livePods();
    if (pods.size() != 2) return false;
    for (const auto& p : pods)
      if (stringAt(p, {"metadata", "name"}) == victim) return false;
    return true;
  }));
}

TEST_F(ReplicaSetIntegration, AdoptsMatchingOrphansAndCreatesOnlyTheRest) {
  ASSERT_TRUE(client_->create(kPods, ns_, pod("early-bird", "adopt")).ok());
  ASSERT_TRUE(client_->create(kPods, ns_, pod("unrelated", "other")).ok());
  ASSERT_TRUE(client_->create(kReplicaSets, ns_, replicaSet("adopt", 3)).ok());
  ASSERT_TRUE(eventually([&] { return livePods("app=adopt").size() == 3; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(livePods("app=adopt").size(), 3u);  // the orphan counts: two created, not three
  json::value early = get(kPods, "early-bird");
  auto ref = controllerOf(early);
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->uid, uidOf(get(kReplicaSets, "adopt")));
  EXPECT_FALSE(controllerOf(get(kPods, "unrelated")));
}

TEST_F(ReplicaSetIntegration, ReleasesARelabeledPodAndReplacesIt) {
  ASSERT_TRUE(client_->create(kReplicaSets, ns_, replicaSet("rel", 2)).ok());
  ASSERT_TRUE(eventually([&] { return livePods("app=rel").size() == 2; }));
  std::string moved = stringAt(livePods("app=rel")[0], {"metadata", "name"});
  ASSERT_TRUE(client_
                  ->patch(kPods, ns_, moved, client::PatchType::kMerge,
                          R"({"metadata":{"labels":{"app":"debug"}}})")
                  .ok());
  ASSERT_TRUE(eventually(
      [&] { return livePods("app=rel").size() == 2 && !controllerOf(get(kPods, moved)); }));
  EXPECT_EQ(stringAt(get(kPods, moved), {"metadata", "labels", "app"}), "debug");  // still there
}

TEST_F(ReplicaSetIntegration, ReadyAndAvailableFollowThePods) {
  testing::FakeKubelet kubelet(*client_);
  json::value rs = replicaSet("avail", 2);
  rs.as_object()["spec"].as_object()["minReadySeconds"] = 2;
  ASSERT_TRUE(client_->create(kReplicaSets, ns_, rs).ok());
  ASSERT_TRUE(eventually([&] {
    json::value r = get(kReplicaSets, "avail");
    return intAt(r, {"status", "readyReplicas"}) == 2;
  }));
  // Ready, but not yet for minReadySeconds.
  EXPECT_EQ(intAt(get(kReplicaSets, "avail"), {"status", "availableReplicas"}), 0);
  // The controller looks again after minReadySeconds by itself (no pod event comes).
  ASSERT_TRUE(eventually(
      [&] {
        return intAt(get(kReplicaSets, "avail"), {"status", "availableReplicas"}) == 2;
      },
      std::chrono::seconds(8)));
}

TEST_F(ReplicaSetIntegration, ReplicationControllerWithMapSelector) {
  json::value rc = json::parse(R"({"apiVersion":"v1","kind":"ReplicationController",
      "metadata":{"name":"legacy"},"spec":{"replicas":2,"selector":{"app":"legacy"},
      "template":{"metadata":{"labels":{"app":"legacy"}},
      "spec":{"containers":[{"name":"c","image":"busybox"}]}}}})");
  ASSERT_TRUE(client_->create(kRCs, ns_, rc).ok());
  ASSERT_TRUE(eventually([&] { return livePods("app=legacy").size() == 2; }));
  auto ref = controllerOf(livePods("app=legacy")[0]);
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->kind, "ReplicationController");
  EXPECT_EQ(ref->apiVersion, "v1");
  ASSERT_TRUE(eventually([&] { return intAt(get(kRCs, "legacy"), {"status", "replicas"}) == 2; }));
  scale(kRCs, "legacy", 0);
  ASSERT_TRUE(eventually([&] { return livePods("app=legacy").empty(); }));
}

}  // namespace
}  // namespace berth::controllers
