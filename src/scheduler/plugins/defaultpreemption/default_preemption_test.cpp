#include "scheduler/plugins/defaultpreemption/default_preemption.h"

#include <gtest/gtest.h>

#include "scheduler/framework/testing.h"

namespace berth::scheduler::plugins {
namespace {

// A Handle whose only filter is "the CPU requests fit", recording evictions.
class FakeHandle : public Handle {
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
  std::vector<std::string> evicted;
};

PodInfoPtr prio(const std::string& name, const std::string& cpu, int priority,
                const std::string& node = "") {
  auto p = testing::podWithRequests(name, cpu, "", R"("priority":)" + std::to_string(priority));
  return node.empty() ? p : testing::onNode(p, node);
}

TEST(DefaultPreemption, EvictsTheFewestLeastImportantPods) {
  NodeInfo a = testing::simpleNode("a", "2"), b = testing::simpleNode("b", "2");
  a.addPod(prio("a-low", "1", 10, "a"));
  a.addPod(prio("a-mid", "1", 50, "a"));
  b.addPod(prio("b-low1", "1", 10, "b"));
  b.addPod(prio("b-low2", "1", 10, "b"));
  auto snap = Snapshot::of({a, b});
  FakeHandle h;
  DefaultPreemption dp(h);
  CycleState s;
  auto pod = prio("urgent", "1", 100);
  NodeToStatus filtered{{"a", PluginStatus::unschedulable("Insufficient cpu")},
                        {"b", PluginStatus::unschedulable("Insufficient cpu")}};
  auto r = dp.postFilter(s, *pod, snap, filtered);
  ASSERT_TRUE(r.status.ok());
  // a needs only a-low gone (a-mid is reprieved); b needs one of its two: both rank
  // (highest 10, sum 10, 1 victim), so the first node wins.
  EXPECT_EQ(r.nominatedNodeName, "a");
  EXPECT_EQ(h.evicted, std::vector<std::string>{"a-low@a"});
}

TEST(DefaultPreemption, PrefersLowerPriorityVictims) {
  NodeInfo a = testing::simpleNode("a", "1"), b = testing::simpleNode("b", "1");
  a.addPod(prio("a-mid", "1", 50, "a"));
  b.addPod(prio("b-low", "1", 10, "b"));
  auto snap = Snapshot::of({a, b});
  FakeHandle h;
  DefaultPreemption dp(h);
  CycleState s;
  NodeToStatus filtered{{"a", PluginStatus::unschedulable("Insufficient cpu")},
                        {"b", PluginStatus::unschedulable("Insufficient cpu")}};
  auto r = dp.postFilter(s, *prio("urgent", "1", 100), snap, filtered);
  EXPECT_EQ(r.nominatedNodeName, "b");
  EXPECT_EQ(h.evicted, std::vector<std::string>{"b-low@b"});
}

TEST(DefaultPreemption, NoVictimsMessageAsUpstream) {
  NodeInfo a = testing::simpleNode("a", "1"), b = testing::simpleNode("b", "1");
  a.addPod(prio("a-high", "1", 1000, "a"));
  auto snap = Snapshot::of({a, b});
  FakeHandle h;
  DefaultPreemption dp(h);
  CycleState s;
  NodeToStatus filtered{{"a", PluginStatus::unschedulable("Insufficient cpu")},
                        {"b", PluginStatus::unresolvable("node(s) didn't match Pod's node affinity/selector")}};
  auto r = dp.postFilter(s, *prio("p", "1", 100), snap, filtered);
  EXPECT_FALSE(r.status.ok());
  EXPECT_EQ(r.status.reasons[0],
            "preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, "
            "1 Preemption is not helpful for scheduling");
  EXPECT_TRUE(h.evicted.empty());
  auto never = testing::podWithRequests("n", "1", "", R"("priority":2000,"preemptionPolicy":"Never")");
  EXPECT_FALSE(dp.postFilter(s, *never, snap, filtered).status.ok());
  EXPECT_TRUE(h.evicted.empty());
}

}  // namespace
}  // namespace berth::scheduler::plugins
