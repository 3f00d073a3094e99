// Node sampling in Profile::schedule: upstream's adaptive percentageOfNodesToScore (filtering
// stops after numFeasibleNodesToFind feasible nodes) and the rotating start index that makes
// successive cycles sample different nodes.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "scheduler/framework/testing.h"
#include "scheduler/profile.h"

namespace berth::scheduler {
namespace {

// Accepts every node and remembers which ones it was asked about.
class RecordingFilter : public FilterPlugin {
 public:
  std::string_view name() const override { return "RecordingFilter"; }
  PluginStatus filter(const CycleState&, const PodInfo&, const NodeInfo& node) const override {
    seen.push_back(node.name);
    return PluginStatus::success();
  }
  mutable std::vector<std::string> seen;
};

Snapshot clusterOf(size_t n) {
  std::vector<NodeInfo> nodes;
  char name[32];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(name, sizeof name, "node-%05zu", i);
    nodes.push_back(testing::simpleNode(name));
  }
  return Snapshot::of(std::move(nodes));
}

TEST(ProfileSampling, AdaptivePercentageAsUpstream) {
  Profile p;
  EXPECT_EQ(p.numFeasibleNodesToFind(50), 50u);     // under 100 nodes: all
  EXPECT_EQ(p.numFeasibleNodesToFind(100), 100u);   // 49% of 100 = 49, at least 100
  EXPECT_EQ(p.numFeasibleNodesToFind(200), 100u);   // 49% = 98 -> 100
  EXPECT_EQ(p.numFeasibleNodesToFind(1000), 420u);  // 50 - 8 = 42%
  EXPECT_EQ(p.numFeasibleNodesToFind(5000), 500u);  // 50 - 40 = 10%
  EXPECT_EQ(p.numFeasibleNodesToFind(6000), 300u);  // 50 - 48 = 2% -> at least 5%
  EXPECT_EQ(p.numFeasibleNodesToFind(100000), 5000u);
  p.setPercentageOfNodesToScore(100);
  EXPECT_EQ(p.numFeasibleNodesToFind(5000), 5000u);
  p.setPercentageOfNodesToScore(1);
  EXPECT_EQ(p.numFeasibleNodesToFind(5000), 100u);  // an explicit percentage keeps the minimum
}

TEST(ProfileSampling, FilteringStopsAtTheSampleAndRotatesOverEveryNode) {
  Profile p;
  auto filter = std::make_shared<RecordingFilter>();
  p.addPlugin(filter);
  Snapshot snap = clusterOf(1000);
  auto pod = testing::podWithRequests("p", "10m", "16Mi");
  std::map<std::string, int> visits;
  std::string previousFirst;
  for (int cycle = 0; cycle < 5; ++cycle) {
    filter->seen.clear();
    CycleState state;
    ScheduleOutcome out = p.schedule(state, *pod, snap);
    ASSERT_TRUE(out.status.ok()) << cycle;
    EXPECT_EQ(out.evaluated, 420u);
    EXPECT_EQ(out.feasible, 420u);
    ASSERT_EQ(filter->seen.size(), 420u);
    // Each cycle starts where the previous one stopped.
    EXPECT_NE(filter->seen.front(), previousFirst);
    previousFirst = filter->seen.front();
    for (const auto& n : filter->seen) ++visits[n];
  }
  // 5 cycles x 420 = 2,100 visits over 1,000 nodes: every node sampled twice or three times.
  ASSERT_EQ(visits.size(), 1000u);
  for (const auto& [node, n] : visits) {
    EXPECT_GE(n, 2) << node;
    EXPECT_LE(n, 3) << node;
  }
}

TEST(ProfileSampling, SmallClustersFilterEveryNode) {
  Profile p;
  auto filter = std::make_shared<RecordingFilter>();
  p.addPlugin(filter);
  Snapshot snap = clusterOf(80);
  auto pod = testing::podWithRequests("p", "10m", "16Mi");
  CycleState state;
  ScheduleOutcome out = p.schedule(state, *pod, snap);
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(out.evaluated, 80u);
  EXPECT_EQ(std::set<std::string>(filter->seen.begin(), filter->seen.end()).size(), 80u);
}

}  // namespace
}  // namespace berth::scheduler
