// The Deployment controller against the real server (`berth server` runs the replicaset and
// deployment controllers in-process), with a fake kubelet marking pods Ready.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <functional>
#include <set>
#include <thread>

#include "client/testing_server.h"
#include "controllers/deployment/deployment_util.h"
#include "controllers/framework/testing_kubelet.h"

namespace berth::controllers::deployment {
namespace {

namespace json = boost::json;
using client::testing::eventually;
using namespace std::chrono_literals;

const client::Resource kPods{"", "v1", "pods", true};
const client::Resource kReplicaSets{"apps", "v1", "replicasets", true};
const client::Resource kDeployments{"apps", "v1", "deployments", true};

class DeploymentIntegration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new client::testing::TestServer();
    ASSERT_TRUE(server_->start());
    client_ = server_->client("deploy-test").release();
    kubelet_ = new controllers::testing::FakeKubelet(*client_);
  }
  static void TearDownTestSuite() {
    delete kubelet_;
    delete client_;
    delete server_;
  }
  void SetUp() override {
    ns_ = "dep-" + std::to_string(++counter_);
    client::testing::createNamespace(*client_, ns_);
  }

  json::value deployment(const std::string& name, int replicas, const std::string& strategy) {
    return json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":")" +
                       name + R"("},"spec":{"replicas":)" + std::to_string(replicas) +
                       R"(,"strategy":)" + strategy + R"(,"selector":{"matchLabels":{"app":")" +
                       name + R"("}},"template":{"metadata":{"labels":{"app":")" + name +
                       R"("}},"spec":{"containers":[{"name":"c","image":"v1"}]}}}})");
  }
  json::value get(const client::Resource& r, const std::string& name) {
    auto g = client_->get(r, ns_, name);
    return g.ok() ? g.value() : json::value();
  }
  std::vector<json::value> list(const client::Resource& r) {
    std::vector<json::value> out;
    auto l = client_->list(r, ns_);
    if (l.ok())
      for (const auto& o : l->at("items").as_array())
        if (!isBeingDeleted(o)) out.push_back(o);
    return out;
  }
  void patch(const std::string& name, const std::string& body) {
    auto p = client_->patch(kDeployments, ns_, name, client::PatchType::kMerge, body);
    ASSERT_TRUE(p.ok()) << p.status().message();
  }
  void setImage(const std::string& name, const std::string& image) {
    patch(name, R"({"spec":{"template":{"spec":{"containers":[{"name":"c","image":")" + image +
                    R"("}]}}}})");
  }
  // What `kubectl rollout status` waits for.
  bool complete(const std::string& name) {
    json::value d = get(kDeployments, name);
    long long want = intAt(d, {"spec", "replicas"});
    return intAt(d, {"status", "observedGeneration"}) >= intAt(d, {"metadata", "generation"}) &&
           intAt(d, {"status", "updatedReplicas"}) == want &&
           intAt(d, {"status", "replicas"}) == want &&
           intAt(d, {"status", "availableReplicas"}) == want;
  }
  // Sets the image and waits for the rollout to complete, handing the live pods to `sample`
  // every few milliseconds meanwhile. False when it did not complete.
  bool rolloutWatching(const std::string& name, const std::string& image,
                       const std::function<void(const std::vector<json::value>&)>& sample) {
    std::atomic<bool> done{false};
    std::thread sampler([&] {
      while (!done) {
        sample(list(kPods));
        std::this_thread::sleep_for(5ms);
      }
    });
    setImage(name, image);
    bool finished = eventually([&] { return complete(name); }, 20s);
    done = true;
    sampler.join();
    return finished;
  }
  // spec.replicas of each ReplicaSet by image.
  std::map<std::string, long long> sizesByImage() {
    std::map<std::string, long long> out;
    for (const auto& rs : list(kReplicaSets))
      out[stringAt(*valueAt(rs, {"spec", "template", "spec", "containers"})->as_array().begin(),
                   {"image"})] = intAt(rs, {"spec", "replicas"});
    return out;
  }
  std::string condition(const std::string& name, const std::string& type, const char* field) {
    json::value d = get(kDeployments, name);
    const json::value* s = valueAt(d, {"status"});
    if (!s || !s->is_object()) return "";
    const json::object* c = getCondition(s->get_object(), type);
    return c ? stringAt(*c, {field}) : "";
  }

  static inline client::testing::TestServer* server_ = nullptr;
  static inline client::RestClient* client_ = nullptr;
  static inline controllers::testing::FakeKubelet* kubelet_ = nullptr;
  static inline int counter_ = 0;
  std::string ns_;
};

TEST_F(DeploymentIntegration, RollingUpdateStaysWithinSurgeAndUnavailable) {
  ASSERT_TRUE(client_
                  ->create(kDeployments, ns_,
                           deployment("web", 4,
                                      R"({"type":"RollingUpdate","rollingUpdate":
                                         {"maxSurge":1,"maxUnavailable":0}})"))
                  .ok());
  ASSERT_TRUE(eventually([&] { return complete("web"); }));
  EXPECT_EQ(annotation(get(kDeployments, "web"), kRevisionAnnotation), "1");

  size_t maxPods = 0, minReady = 100;
  ASSERT_TRUE(rolloutWatching("web", "v2", [&](const std::vector<json::value>& pods) {
    size_t ready = 0;
    for (const auto& p : pods) {
      const json::value* conds = valueAt(p, {"status", "conditions"});
      if (conds && conds->is_array())
        for (const auto& c : conds->as_array())
          ready += stringAt(c, {"type"}) == "Ready" && stringAt(c, {"status"}) == "True";
    }
    maxPods = std::max(maxPods, pods.size());
    minReady = std::min(minReady, ready);
  }));
  EXPECT_EQ(maxPods, 5u);   // replicas + maxSurge, and the surge is used
  EXPECT_GE(minReady, 4u);  // replicas - maxUnavailable
  EXPECT_EQ(sizesByImage(), (std::map<std::string, long long>{{"v1", 0}, {"v2", 4}}));

  json::value d = get(kDeployments, "web");
  EXPECT_EQ(annotation(d, kRevisionAnnotation), "2");
  EXPECT_EQ(condition("web", "Progressing", "reason"), kNewRSAvailableReason);
  EXPECT_EQ(condition("web", "Available", "reason"), kMinimumReplicasAvailable);
  for (const auto& rs : list(kReplicaSets)) {
    std::string hash = stringAt(rs, {"metadata", "labels", "pod-template-hash"});
    EXPECT_FALSE(hash.empty());
    EXPECT_EQ(stringAt(rs, {"metadata", "name"}), "web-" + hash);
    EXPECT_EQ(stringAt(rs, {"spec", "selector", "matchLabels", "pod-template-hash"}), hash);
    EXPECT_EQ(annotation(rs, kDesiredReplicasAnnotation), "4");
    EXPECT_EQ(annotation(rs, kMaxReplicasAnnotation), "5");
  }
}

TEST_F(DeploymentIntegration, ScalingMidRolloutIsProportional) {
  // upstream's documented example: 10 replicas, maxSurge 3, maxUnavailable 2, a new template
  // that never becomes ready leaves old 8 + new 5; scaling to 15 makes it 11 + 7.
  ASSERT_TRUE(client_
                  ->create(kDeployments, ns_,
                           deployment("prop", 10,
                                      R"({"type":"RollingUpdate","rollingUpdate":
                                         {"maxSurge":3,"maxUnavailable":2}})"))
                  .ok());
  ASSERT_TRUE(eventually([&] { return complete("prop"); }, 20s));
  setImage("prop", "never-ready");
  auto want = std::map<std::string, long long>{{"v1", 8}, {"never-ready", 5}};
  ASSERT_TRUE(eventually([&] { return sizesByImage() == want; }, 10s));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(sizesByImage(), want);  // stuck: no further progress possible
  patch("prop", R"({"spec":{"replicas":15}})");
  want = {{"v1", 11}, {"never-ready", 7}};
  ASSERT_TRUE(eventually([&] { return sizesByImage() == want; }, 10s));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(sizesByImage(), want);
}

TEST_F(DeploymentIntegration, ProgressDeadlineExceeded) {
  json::value d = deployment("stuck", 1, R"({"type":"RollingUpdate"})");
  d.as_object()["spec"].as_object()["progressDeadlineSeconds"] = 2;
  d.as_object()["spec"].as_object()["template"].as_object()["spec"].as_object()["containers"] =
      json::array{{{"name", "c"}, {"image", "never-ready"}}};
  ASSERT_TRUE(client_->create(kDeployments, ns_, d).ok());
  // First progressing (NewReplicaSetCreated, then ReplicaSetUpdated as its pod appears).
  ASSERT_TRUE(eventually([&] {
    std::string reason = condition("stuck", "Progressing", "reason");
    return reason == kNewReplicaSetReason || reason == kReplicaSetUpdatedReason;
  }));
  // No event arrives when the deadline passes: the controller re-checks by itself.
  ASSERT_TRUE(eventually(
      [&] { return condition("stuck", "Progressing", "reason") == kTimedOutReason; }, 10s));
  EXPECT_EQ(condition("stuck", "Progressing", "status"), "False");
  EXPECT_EQ(condition("stuck", "Available", "reason"), kMinimumReplicasUnavailable);
}

TEST_F(DeploymentIntegration, RecreateNeverRunsOldAndNewTogether) {
  ASSERT_TRUE(
      client_->create(kDeployments, ns_, deployment("re", 3, R"({"type":"Recreate"})")).ok());
  ASSERT_TRUE(eventually([&] { return complete("re"); }));
  bool mixed = false;
  ASSERT_TRUE(rolloutWatching("re", "v2", [&](const std::vector<json::value>& pods) {
    std::set<std::string> images;
    for (const auto& p : pods)
      images.insert(stringAt(*valueAt(p, {"spec", "containers"})->as_array().begin(), {"image"}));
    mixed |= images.size() > 1;
  }));
  EXPECT_FALSE(mixed);
  EXPECT_EQ(sizesByImage(), (std::map<std::string, long long>{{"v1", 0}, {"v2", 3}}));
}

TEST_F(DeploymentIntegration, RevisionHistoryLimitDeletesOldReplicaSets) {
  json::value d = deployment("hist", 1, R"({"type":"RollingUpdate"})");
  d.as_object()["spec"].as_object()["revisionHistoryLimit"] = 1;
  ASSERT_TRUE(client_->create(kDeployments, ns_, d).ok());
  ASSERT_TRUE(eventually([&] { return complete("hist"); }));
  for (const char* image : {"v2", "v3", "v4"}) {
    setImage("hist", image);
    ASSERT_TRUE(eventually([&] { return complete("hist") && sizesByImage()[image] == 1; }, 15s));
  }
  ASSERT_TRUE(eventually([&] { return list(kReplicaSets).size() == 2; }));  // v4 and one old
  auto sizes = sizesByImage();
  EXPECT_EQ(sizes.count("v4"), 1u);
  EXPECT_EQ(sizes.count("v3"), 1u);
  EXPECT_EQ(annotation(get(kDeployments, "hist"), kRevisionAnnotation), "4");
}

TEST_F(DeploymentIntegration, PausedDeploymentDoesNotRollOut) {
  ASSERT_TRUE(
      client_->create(kDeployments, ns_, deployment("p", 2, R"({"type":"RollingUpdate"})")).ok());
  ASSERT_TRUE(eventually([&] { return complete("p"); }));
  patch("p", R"({"spec":{"paused":true}})");
  ASSERT_TRUE(
      eventually([&] { return condition("p", "Progressing", "reason") == kPausedDeployReason; }));
  setImage("p", "v2");
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(list(kReplicaSets).size(), 1u);  // no new ReplicaSet while paused
  patch("p", R"({"spec":{"replicas":3}})");  // scaling still works
  ASSERT_TRUE(eventually([&] { return sizesByImage()["v1"] == 3; }));
  patch("p", R"({"spec":{"paused":false}})");
  ASSERT_TRUE(eventually([&] { return complete("p") && sizesByImage()["v2"] == 3; }, 15s));
}

TEST_F(DeploymentIntegration, AdoptsAnOrphanReplicaSetAsAnOldOne) {
  // A ReplicaSet nobody owns, matching the Deployment's selector, with another template.
  json::value rs = json::parse(R"({"apiVersion":"apps/v1","kind":"ReplicaSet",
      "metadata":{"name":"stray","labels":{"app":"own"}},
      "spec":{"replicas":2,"selector":{"matchLabels":{"app":"own"}},
        "template":{"metadata":{"labels":{"app":"own"}},
        "spec":{"containers":[{"name":"c","image":"old"}]}}}})");
  ASSERT_TRUE(client_->create(kReplicaSets, ns_, rs).ok());
  ASSERT_TRUE(eventually([&] { return list(kPods).size() == 2; }));
  ASSERT_TRUE(
      client_->create(kDeployments, ns_, deployment("own", 2, R"({"type":"RollingUpdate"})")).ok());
  ASSERT_TRUE(eventually([&] { return complete("own"); }, 15s));
  auto ref = controllerOf(get(kReplicaSets, "stray"));
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->uid, uidOf(get(kDeployments, "own")));
  ASSERT_TRUE(eventually([&] {
    return sizesByImage() == std::map<std::string, long long>{{"old", 0}, {"v1", 2}};
  }));
}

TEST_F(DeploymentIntegration, HashCollisionBumpsCollisionCount) {
  // Paused: no ReplicaSet yet, so the name the new one would get can be taken first.
  json::value d = deployment("col", 1, R"({"type":"RollingUpdate"})");
  d.as_object()["spec"].as_object()["paused"] = true;
  ASSERT_TRUE(client_->create(kDeployments, ns_, d).ok());
  json::value stored = get(kDeployments, "col");
  std::string taken = "col-" + computeHash(*valueAt(stored, {"spec", "template"}), std::nullopt);
  json::value blocker = json::parse(R"({"apiVersion":"apps/v1","kind":"ReplicaSet",
      "metadata":{"name":")" + taken +
                                    R"(","labels":{"app":"elsewhere"}},
      "spec":{"replicas":0,"selector":{"matchLabels":{"app":"elsewhere"}},
        "template":{"metadata":{"labels":{"app":"elsewhere"}},
        "spec":{"containers":[{"name":"c","image":"x"}]}}}})");
  ASSERT_TRUE(client_->create(kReplicaSets, ns_, blocker).ok());
  patch("col", R"({"spec":{"paused":false}})");
  ASSERT_TRUE(eventually([&] { return complete("col"); }, 15s));
  EXPECT_EQ(intAt(get(kDeployments, "col"), {"status", "collisionCount"}), 1);
  std::string hash = computeHash(*valueAt(stored, {"spec", "template"}), 1);
  json::value created = get(kReplicaSets, "col-" + hash);
  EXPECT_EQ(stringAt(created, {"metadata", "labels", "pod-template-hash"}), hash);
  EXPECT_FALSE(controllerOf(get(kReplicaSets, taken)));  // the blocker is left alone
}

}  // namespace
}  // namespace berth::controllers::deployment
