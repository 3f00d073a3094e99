#include "scheduler/plugins/podtopologyspread/pod_topology_spread.h"

#include <gtest/gtest.h>

#include "scheduler/framework/testing.h"

namespace berth::scheduler::plugins {
namespace {

NodeInfo zoned(const std::string& name, const std::string& zone) {
  return testing::simpleNode(name, "4", "8Gi",
                             R"({"kubernetes.io/hostname":")" + name + R"(","zone":")" + zone + R"("})");
}

PodInfoPtr app(const std::string& name, const std::string& node = "",
               const std::string& when = "DoNotSchedule", int maxSkew = 1) {
  auto p = testing::pod(R"({"metadata":{"name":")" + name +
                        R"(","labels":{"app":"x"}},"spec":{"topologySpreadConstraints":[{"maxSkew":)" +
                        std::to_string(maxSkew) + R"(,"topologyKey":"zone","whenUnsatisfiable":")" + when +
                        R"(","labelSelector":{"matchLabels":{"app":"x"}}}]}})");
  return node.empty() ? p : testing::onNode(p, node);
}

TEST(PodTopologySpread, FilterKeepsSkewWithinMaxSkew) {
  NodeInfo a = zoned("a", "z1"), b = zoned("b", "z2"), c = zoned("c", "z2");
  a.addPod(app("p1", "a"));
  a.addPod(app("p2", "a"));
  b.addPod(app("p3", "b"));
  NodeInfo nolabel = testing::simpleNode("d");
  auto snap = Snapshot::of({a, b, c, nolabel});
  PodTopologySpread pl;
  CycleState s;
  auto pod = app("new");
  ASSERT_TRUE(pl.preFilter(s, *pod, snap).ok());
  // z1 has 2, z2 has 1: z1 would become 3 - 1 = skew 2 > 1.
  EXPECT_EQ(pl.filter(s, *pod, *snap.get("a")).reasons,
            std::vector<std::string>{"node(s) didn't match pod topology spread constraints"});
  EXPECT_TRUE(pl.filter(s, *pod, *snap.get("b")).ok());
  EXPECT_TRUE(pl.filter(s, *pod, *snap.get("c")).ok());
  EXPECT_EQ(pl.filter(s, *pod, *snap.get("d")).code, Code::kUnschedulableAndUnresolvable);
}

TEST(PodTopologySpread, ScheduleAnywayScoresEmptierDomainsHigher) {
  NodeInfo a = zoned("a", "z1"), b = zoned("b", "z2");
  a.addPod(app("p1", "a", "ScheduleAnyway"));
  a.addPod(app("p2", "a", "ScheduleAnyway"));
  auto snap = Snapshot::of({a, b});
  PodTopologySpread pl;
  CycleState s;
  auto pod = app("new", "", "ScheduleAnyway");
  EXPECT_EQ(pl.preFilter(s, *pod, snap).code, Code::kSkip);  // no hard constraints
  std::vector<const NodeInfo*> nodes{snap.get("a"), snap.get("b")};
  ASSERT_TRUE(pl.preScore(s, *pod, snap, nodes).ok());
  std::vector<int64_t> scores{pl.score(s, *pod, *nodes[0]), pl.score(s, *pod, *nodes[1])};
  pl.normalize(s, *pod, scores);
  EXPECT_EQ(scores[1], 100);
  EXPECT_LT(scores[0], scores[1]);
}

TEST(PodTopologySpread, DefaultConstraintsUseTheServiceSelector) {
  NodeInfo a = zoned("a", "z1"), b = zoned("b", "z2");
  auto plain = [](const std::string& name, const std::string& node) {
    auto p = testing::pod(R"({"metadata":{"name":")" + name + R"(","labels":{"app":"svc"}},"spec":{}})");
    return node.empty() ? p : testing::onNode(p, node);
  };
  a.addPod(plain("p1", "a"));
  auto snap = Snapshot::of({a, b});
  auto pod = plain("new", "");
  EXPECT_TRUE(PodTopologySpread::constraintsFor(*pod, snap, false).empty());  // no selector known
  snap.defaultSpreadSelector = [](const PodInfo&) {
    return std::optional(core::LabelSelector::parse("app=svc").value());
  };
  auto cs = PodTopologySpread::constraintsFor(*pod, snap, false);
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[0].topologyKey, "kubernetes.io/hostname");
  EXPECT_EQ(cs[0].maxSkew, 3);
  EXPECT_EQ(cs[1].topologyKey, "topology.kubernetes.io/zone");
  EXPECT_EQ(cs[1].maxSkew, 5);
  EXPECT_TRUE(PodTopologySpread::constraintsFor(*pod, snap, true).empty());
}

}  // namespace
}  // namespace berth::scheduler::plugins
