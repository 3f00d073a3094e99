#include "scheduler/cache.h"

#include <gtest/gtest.h>

#include "scheduler/framework/testing.h"

namespace berth::scheduler {
namespace {

ObjectPtr nodeObject(const std::string& name, const std::string& cpu = "4") {
  return testing::simpleNode(name, cpu).object;
}

TEST(Cache, SnapshotSharesUnchangedNodesAndNeverChangesUnderACycle) {
  Cache cache;
  cache.addNode(nodeObject("a"));
  cache.addNode(nodeObject("b"));
  Snapshot snap;
  cache.updateSnapshot(snap);
  ASSERT_EQ(snap.nodes.size(), 2u);
  const NodeInfo* a0 = snap.get("a");
  const NodeInfo* b0 = snap.get("b");

  auto p = testing::onNode(testing::podWithRequests("p", "1", ""), "a");
  cache.addPod(p);
  // The snapshot taken before is untouched (copy-on-write)...
  EXPECT_EQ(a0->requested.milliCpu, 0);
  EXPECT_TRUE(a0->pods.empty());
  cache.updateSnapshot(snap);
  // ...and the refresh replaced only the node that changed.
  EXPECT_EQ(snap.get("a")->requested.milliCpu, 1000);
  EXPECT_NE(snap.get("a"), a0);
  EXPECT_EQ(snap.get("b"), b0);
}

TEST(Cache, AssumeConfirmForget) {
  Cache cache;
  cache.addNode(nodeObject("a"));
  auto p = testing::onNode(testing::podWithRequests("p", "1", ""), "a");
  ASSERT_TRUE(cache.assumePod(p).ok());
  EXPECT_TRUE(cache.isAssumed("p"));
  EXPECT_TRUE(cache.assumePod(p).isAlreadyExists());
  Snapshot snap;
  cache.updateSnapshot(snap);
  EXPECT_EQ(snap.get("a")->requested.milliCpu, 1000);
  cache.forgetPod("p");
  cache.updateSnapshot(snap);
  EXPECT_EQ(snap.get("a")->requested.milliCpu, 0);

  ASSERT_TRUE(cache.assumePod(p).ok());
  cache.finishBinding("p");
  cache.addPod(p);  // the informer's add confirms it: counted once
  EXPECT_FALSE(cache.isAssumed("p"));
  cache.updateSnapshot(snap);
  EXPECT_EQ(snap.get("a")->requested.milliCpu, 1000);
  EXPECT_EQ(snap.get("a")->pods.size(), 1u);
}

TEST(Cache, NodeAddRemoveRebuildsTheList) {
  Cache cache;
  Snapshot snap;
  cache.addNode(nodeObject("b"));
  cache.addNode(nodeObject("a"));
  cache.updateSnapshot(snap);
  ASSERT_EQ(snap.nodes.size(), 2u);
  EXPECT_EQ(snap.nodes[0]->name, "a");
  // A pod bound to a node removes with it only once its pods are gone.
  auto p = testing::onNode(testing::podWithRequests("p", "1", ""), "a");
  cache.addPod(p);
  cache.removeNode("a");
  cache.updateSnapshot(snap);
  ASSERT_EQ(snap.nodes.size(), 1u);
  EXPECT_EQ(snap.get("a"), nullptr);
  cache.addNode(nodeObject("a", "8"));
  cache.updateSnapshot(snap);
  ASSERT_NE(snap.get("a"), nullptr);
  EXPECT_EQ(snap.get("a")->allocatable.milliCpu, 8000);
  EXPECT_EQ(snap.get("a")->requested.milliCpu, 1000);  // its pod is still there
}

TEST(Cache, AffinityListsFollowPods) {
  Cache cache;
  cache.addNode(nodeObject("a"));
  Snapshot snap;
  cache.updateSnapshot(snap);
  EXPECT_TRUE(snap.nodesWithAffinityPods.empty());
  auto p = testing::pod(R"({"metadata":{"name":"p","labels":{"app":"x"}},"spec":{"nodeName":"a",
      "affinity":{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[
      {"labelSelector":{"matchLabels":{"app":"x"}},"topologyKey":"kubernetes.io/hostname"}]}}}})");
  cache.addPod(p);
  cache.updateSnapshot(snap);
  ASSERT_EQ(snap.nodesWithRequiredAntiAffinityPods.size(), 1u);
  EXPECT_EQ(snap.nodesWithRequiredAntiAffinityPods[0]->pods.size(), 1u);
  cache.removePod(*p);
  cache.updateSnapshot(snap);
  EXPECT_TRUE(snap.nodesWithAffinityPods.empty());
}

}  // namespace
}  // namespace berth::scheduler
