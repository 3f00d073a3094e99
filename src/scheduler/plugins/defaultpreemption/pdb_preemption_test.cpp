// DefaultPreemption with PodDisruptionBudgets: which pods are reprieved first and which node is
// chosen (upstream's filterPodsWithPDBViolation, SelectVictimsOnNode, pickOneNodeForPreemption).
#include <gtest/gtest.h>

#include "scheduler/framework/testing.h"
#include "scheduler/plugins/defaultpreemption/default_preemption.h"

namespace berth::scheduler::plugins {
namespace {

class CpuHandle : public Handle {
 public:
  PluginStatus runFilters(const CycleState&, const PodInfo& pod,
                          const NodeInfo& node) const override {
    if (pod.requests.milliCpu > node.allocatable.milliCpu - node.requested.milliCpu)
      return PluginStatus::unschedulable("Insufficient cpu");
    return {};
  }
  void runRemovePod(CycleState&, const PodInfo&, const PodInfo&, const NodeInfo&,
                    const Snapshot&) const override {}
  void runAddPod(CycleState&, const PodInfo&, const PodInfo&, const NodeInfo&,
                 const Snapshot&) const override {}
  void evictVictim(const PodInfo& victim, const PodInfo&, const std::string& node) override {
    evicted.push_back(victim.name + "@" + node);
  }
  std::vector<PodInfoPtr> nominatedPods(const std::string&) const override { return {}; }
  std::vector<DisruptionBudget> disruptionBudgets() const override { return budgets; }
  std::vector<std::string> evicted;
  std::vector<DisruptionBudget> budgets;
};

// A pod requesting `cpu` with this priority and `app` label ("" = no labels), on `node`.
PodInfoPtr member(const std::string& name, const std::string& cpu, int priority,
                  const std::string& app, const std::string& node = "",
                  const std::string& startTime = "", const std::string& ns = "default") {
  std::string labels = app.empty() ? "{}" : R"({"app":")" + app + R"("})";
  std::string status = startTime.empty() ? "" : R"(,"status":{"startTime":")" + startTime + R"("})";
  auto p = testing::pod(R"({"metadata":{"name":")" + name + R"(","namespace":")" + ns +
                        R"(","labels":)" + labels + R"(},"spec":{"priority":)" +
                        std::to_string(priority) +
                        R"(,"containers":[{"name":"c","resources":{"requests":{"cpu":")" + cpu +
                        R"("}}}]})" + status + "}");
  return node.empty() ? p : testing::onNode(p, node);
}

DisruptionBudget budget(const std::string& selectorJson, int allowed,
                        const std::string& disrupted = "{}", const std::string& ns = "default") {
  std::string sel = selectorJson.empty() ? "" : R"("selector":)" + selectorJson;
  return parseDisruptionBudget(
      boost::json::parse(R"({"metadata":{"name":"pdb","namespace":")" + ns + R"("},"spec":{)" +
                         sel + R"(},"status":{"disruptionsAllowed":)" + std::to_string(allowed) +
                         R"(,"disruptedPods":)" + disrupted + "}}"));
}

std::vector<std::string> names(const std::vector<PodInfoPtr>& pods) {
  std::vector<std::string> out;
  for (const auto& p : pods) out.push_back(p->name);
  return out;
}

TEST(PdbSplit, CountsEarlierPodsAgainstTheBudget) {
  std::vector<PodInfoPtr> pods{member("a1", "1", 0, "a"), member("a2", "1", 0, "a"),
                               member("a3", "1", 0, "a"), member("b1", "1", 0, "b"),
                               member("bare", "1", 0, "")};
  auto s = splitByDisruptionBudgets(pods, {budget(R"({"matchLabels":{"app":"a"}})", 1)});
  EXPECT_EQ(names(s.violating), (std::vector<std::string>{"a2", "a3"}));
  EXPECT_EQ(names(s.nonViolating), (std::vector<std::string>{"a1", "b1", "bare"}));
}

TEST(PdbSplit, DisruptedPodsAreAlreadyCounted) {
  std::vector<PodInfoPtr> pods{member("a1", "1", 0, "a"), member("a2", "1", 0, "a"),
                               member("a3", "1", 0, "a")};
  auto s = splitByDisruptionBudgets(
      pods, {budget(R"({"matchLabels":{"app":"a"}})", 1, R"({"a1":"2026-01-01T00:00:00Z"})")});
  EXPECT_EQ(names(s.violating), (std::vector<std::string>{"a3"}));
  EXPECT_EQ(names(s.nonViolating), (std::vector<std::string>{"a1", "a2"}));
}

TEST(PdbSplit, EmptyOrNilSelectorsAndOtherNamespacesMatchNothing) {
  std::vector<PodInfoPtr> pods{member("a1", "1", 0, "a"), member("o1", "1", 0, "a", "", "", "o")};
  for (const auto& b : {budget("", 0), budget("{}", 0), budget(R"({"matchLabels":{}})", 0),
                        budget(R"({"matchLabels":{"app":"a"}})", 0, "{}", "elsewhere"),
                        budget(R"({"matchExpressions":[{"key":"app","operator":"Bogus"}]})", 0)}) {
    auto s = splitByDisruptionBudgets(pods, {b});
    EXPECT_TRUE(s.violating.empty());
    EXPECT_EQ(s.nonViolating.size(), 2u);
  }
  // A budget in the pod's own namespace does cover it (the control for the loop above).
  auto s = splitByDisruptionBudgets(pods, {budget(R"({"matchLabels":{"app":"a"}})", 0, "{}", "o")});
  EXPECT_EQ(names(s.violating), std::vector<std::string>{"o1"});
}

// Node of 3 CPUs: protected db (priority 10), web (20), batch (5); the preemptor needs 2 CPUs.
TEST(SelectVictims, ReprievesProtectedPodsFirst) {
  NodeInfo n = testing::simpleNode("n", "3");
  n.addPod(member("db", "1", 10, "db", "n"));
  n.addPod(member("web", "1", 20, "web", "n"));
  n.addPod(member("batch", "1", 5, "batch", "n"));
  auto snap = Snapshot::of({n});
  CpuHandle h;
  DefaultPreemption dp(h);
  CycleState s;
  auto pod = member("urgent", "2", 100, "");
  // Without budgets the most important pod (web) is kept: db and batch go.
  auto plain = dp.selectVictims(s, *pod, *snap.nodes[0], snap, {});
  ASSERT_TRUE(plain);
  EXPECT_EQ(names(plain->pods), (std::vector<std::string>{"db", "batch"}));
  EXPECT_EQ(plain->numPdbViolations, 0);
  // db's budget allows no disruption: it is reprieved first, web goes instead.
  auto guarded = dp.selectVictims(s, *pod, *snap.nodes[0], snap,
                                  {budget(R"({"matchLabels":{"app":"db"}})", 0)});
  ASSERT_TRUE(guarded);
  EXPECT_EQ(names(guarded->pods), (std::vector<std::string>{"web", "batch"}));
  EXPECT_EQ(guarded->numPdbViolations, 0);
}

TEST(SelectVictims, CountsViolationsWhenProtectedPodsMustGo) {
  NodeInfo n = testing::simpleNode("n", "2");
  n.addPod(member("db-0", "1", 10, "db", "n"));
  n.addPod(member("db-1", "1", 10, "db", "n"));
  auto snap = Snapshot::of({n});
  CpuHandle h;
  DefaultPreemption dp(h);
  CycleState s;
  auto pod = member("urgent", "2", 100, "");
  // One disruption allowed: the first db pod is within budget, the second violates it.
  auto v = dp.selectVictims(s, *pod, *snap.nodes[0], snap,
                            {budget(R"({"matchLabels":{"app":"db"}})", 1)});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->pods.size(), 2u);
  EXPECT_EQ(v->numPdbViolations, 1);
}

// Node a holds a protected low-priority pod, node b an unprotected higher-priority one.
TEST(PickOneNode, FewestPdbViolationsBeforeLowestPriority) {
  NodeInfo a = testing::simpleNode("a", "1"), b = testing::simpleNode("b", "1");
  a.addPod(member("a-db", "1", 10, "db", "a"));
  b.addPod(member("b-web", "1", 50, "web", "b"));
  auto snap = Snapshot::of({a, b});
  NodeToStatus filtered{{"a", PluginStatus::unschedulable("Insufficient cpu")},
                        {"b", PluginStatus::unschedulable("Insufficient cpu")}};
  CycleState s;
  {
    CpuHandle h;
    DefaultPreemption dp(h);
    auto r = dp.postFilter(s, *member("urgent", "1", 100, ""), snap, filtered);
    EXPECT_EQ(r.nominatedNodeName, "a");
    EXPECT_EQ(h.evicted, std::vector<std::string>{"a-db@a"});
  }
  CpuHandle h;
  h.budgets = {budget(R"({"matchLabels":{"app":"db"}})", 0)};
  DefaultPreemption dp(h);
  auto r = dp.postFilter(s, *member("urgent", "1", 100, ""), snap, filtered);
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.nominatedNodeName, "b");
  EXPECT_EQ(h.evicted, std::vector<std::string>{"b-web@b"});
}

TEST(PickOneNode, TieBreakersAfterViolations) {
  auto cand = [](const std::string& node, std::vector<PodInfoPtr> pods, int violations) {
    return PreemptionCandidate{node, {std::move(pods), violations}};
  };
  // Sum of priorities decides when the highest is equal.
  std::vector<PreemptionCandidate> c{
      cand("x", {member("x1", "1", 10, ""), member("x2", "1", 5, "")}, 0),
      cand("y", {member("y1", "1", 10, ""), member("y2", "1", 1, "")}, 0)};
  EXPECT_EQ(DefaultPreemption::pickOneNode(c)->node, "y");
  // Fewer violations beat everything else.
  c = {cand("x", {member("x1", "1", 1, "")}, 1),
       cand("y", {member("y1", "1", 90, ""), member("y2", "1", 80, "")}, 0)};
  EXPECT_EQ(DefaultPreemption::pickOneNode(c)->node, "y");
  // Negative priorities still add up: two victims at -5 sum above one at -5.
  c = {cand("x", {member("x1", "1", -5, ""), member("x2", "1", -5, "")}, 0),
       cand("y", {member("y1", "1", -5, "")}, 0)};
  EXPECT_EQ(DefaultPreemption::pickOneNode(c)->node, "y");
  // All else equal: the node whose highest-priority victims started latest.
  c = {cand("x", {member("x1", "1", 7, "", "", "2026-01-01T00:00:00Z")}, 0),
       cand("y", {member("y1", "1", 7, "", "", "2026-01-02T00:00:00Z")}, 0),
       cand("z", {member("z1", "1", 7, "", "", "2026-01-01T12:00:00Z")}, 0)};
  EXPECT_EQ(DefaultPreemption::pickOneNode(c)->node, "y");
  EXPECT_EQ(DefaultPreemption::pickOneNode({}), nullptr);
}

}  // namespace
}  // namespace berth::scheduler::plugins
