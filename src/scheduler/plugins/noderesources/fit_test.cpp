#include "scheduler/plugins/noderesources/fit.h"

#include <gtest/gtest.h>

#include "scheduler/framework/testing.h"

namespace berth::scheduler::plugins {
namespace {

using testing::onNode;
using testing::podWithRequests;
using testing::simpleNode;

TEST(NodeResourcesFit, RejectsWhatDoesNotFitWithEveryReason) {
  NodeInfo n = simpleNode("n", "2", "2Gi");
  n.addPod(onNode(podWithRequests("a", "1500m", "1Gi"), "n"));
  NodeResourcesFit fit;
  CycleState s;
  EXPECT_TRUE(fit.filter(s, *podWithRequests("p", "500m", "1Gi"), n).ok());
  auto st = fit.filter(s, *podWithRequests("p", "600m", "2Gi"), n);
  EXPECT_EQ(st.code, Code::kUnschedulable);
  EXPECT_EQ(st.reasons, (std::vector<std::string>{"Insufficient cpu", "Insufficient memory"}));
  // A pod without requests fits even a full node (only the pod slot counts).
  EXPECT_TRUE(fit.filter(s, *podWithRequests("p", "", ""), n).ok());
}

TEST(NodeResourcesFit, CountsPodSlots) {
  NodeInfo n = simpleNode("n", "4", "8Gi", "{}", "1");
  NodeResourcesFit fit;
  CycleState s;
  EXPECT_TRUE(fit.filter(s, *podWithRequests("p", "", ""), n).ok());
  n.addPod(onNode(podWithRequests("a", "", ""), "n"));
  auto st = fit.filter(s, *podWithRequests("p", "", ""), n);
  EXPECT_EQ(st.reasons, std::vector<std::string>{"Too many pods"});
}

TEST(NodeResourcesFit, ExtendedResources) {
  NodeInfo n = testing::node(R"({"metadata":{"name":"n"},"status":{"allocatable":{
      "cpu":"4","memory":"4Gi","pods":"10","example.com/gpu":"1"}}})");
  auto p = testing::pod(R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c",
      "resources":{"requests":{"example.com/gpu":"2"}}}]}})");
  NodeResourcesFit fit;
  CycleState s;
  EXPECT_EQ(fit.filter(s, *p, n).reasons, std::vector<std::string>{"Insufficient example.com/gpu"});
}

TEST(NodeResourcesFit, LeastAllocatedPrefersEmptierNodes) {
  NodeInfo empty = simpleNode("a", "4", "8Gi");
  NodeInfo busy = simpleNode("b", "4", "8Gi");
  busy.addPod(onNode(podWithRequests("x", "3", "6Gi"), "b"));
  NodeResourcesFit fit;
  CycleState s;
  auto p = podWithRequests("p", "1", "2Gi");
  // empty: cpu (4-1)/4 = 75, mem (8-2)/8 = 75 -> 75; busy: cpu 0, mem 0 -> 0.
  EXPECT_EQ(fit.score(s, *p, empty), 75);
  EXPECT_EQ(fit.score(s, *p, busy), 0);
}

TEST(NodeResourcesBalancedAllocation, PrefersEqualFractions) {
  NodeInfo n = simpleNode("n", "4", "4Gi");
  NodeResourcesBalancedAllocation ba;
  CycleState s;
  EXPECT_EQ(ba.score(s, *podWithRequests("p", "2", "2Gi"), n), 100);  // 50% and 50%
  EXPECT_EQ(ba.score(s, *podWithRequests("p", "4", ""), n), 50);      // 100% vs 0%
}

}  // namespace
}  // namespace berth::scheduler::plugins
