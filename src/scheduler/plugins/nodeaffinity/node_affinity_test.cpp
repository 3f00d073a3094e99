#include "scheduler/plugins/nodeaffinity/node_affinity.h"

#include <gtest/gtest.h>

#include "scheduler/framework/testing.h"

namespace berth::scheduler::plugins {
namespace {

TEST(NodeAffinity, NodeSelectorAndRequiredTerms) {
  NodeInfo ssd = testing::simpleNode("a", "4", "8Gi", R"({"disk":"ssd","zone":"z1"})");
  NodeInfo hdd = testing::simpleNode("b", "4", "8Gi", R"({"disk":"hdd","zone":"z2"})");
  NodeAffinity na;
  CycleState s;
  auto sel = testing::pod(R"({"metadata":{"name":"p"},"spec":{"nodeSelector":{"disk":"ssd"}}})");
  EXPECT_TRUE(na.filter(s, *sel, ssd).ok());
  auto st = na.filter(s, *sel, hdd);
  EXPECT_EQ(st.code, Code::kUnschedulableAndUnresolvable);
  EXPECT_EQ(st.reasons[0], "node(s) didn't match Pod's node affinity/selector");
  // Terms are ORed.
  auto aff = testing::pod(R"({"metadata":{"name":"p"},"spec":{"affinity":{"nodeAffinity":{
      "requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[
        {"matchExpressions":[{"key":"zone","operator":"In","values":["z9"]}]},
        {"matchExpressions":[{"key":"zone","operator":"In","values":["z2"]}]}]}}}}})");
  EXPECT_FALSE(na.filter(s, *aff, ssd).ok());
  EXPECT_TRUE(na.filter(s, *aff, hdd).ok());
}

TEST(NodeAffinity, PreferredTermsScoreAndNormalize) {
  NodeInfo a = testing::simpleNode("a", "4", "8Gi", R"({"zone":"z1","disk":"ssd"})");
  NodeInfo b = testing::simpleNode("b", "4", "8Gi", R"({"zone":"z1"})");
  NodeInfo c = testing::simpleNode("c", "4", "8Gi", R"({})");
  auto p = testing::pod(R"({"metadata":{"name":"p"},"spec":{"affinity":{"nodeAffinity":{
      "preferredDuringSchedulingIgnoredDuringExecution":[
        {"weight":10,"preference":{"matchExpressions":[{"key":"zone","operator":"In","values":["z1"]}]}},
        {"weight":30,"preference":{"matchExpressions":[{"key":"disk","operator":"Exists"}]}}]}}}})");
  NodeAffinity na;
  CycleState s;
  std::vector<int64_t> scores{na.score(s, *p, a), na.score(s, *p, b), na.score(s, *p, c)};
  EXPECT_EQ(scores, (std::vector<int64_t>{40, 10, 0}));
  na.normalize(s, *p, scores);
  EXPECT_EQ(scores, (std::vector<int64_t>{100, 25, 0}));
}

}  // namespace
}  // namespace berth::scheduler::plugins
