#include "scheduler/plugins/tainttoleration/taint_toleration.h"

#include <gtest/gtest.h>

#include "scheduler/framework/testing.h"

namespace berth::scheduler::plugins {
namespace {

NodeInfo tainted(const std::string& name, const std::string& taints) {
  return testing::node(R"({"metadata":{"name":")" + name + R"("},"spec":{"taints":)" + taints +
                       R"(},"status":{"allocatable":{"cpu":"1","memory":"1Gi","pods":"10"}}})");
}

TEST(TaintToleration, FilterRejectsUntoleratedNoScheduleAndNoExecute) {
  TaintToleration tt;
  CycleState s;
  auto plain = testing::pod(R"({"metadata":{"name":"p"},"spec":{}})");
  auto tolerant = testing::pod(R"({"metadata":{"name":"p"},"spec":{"tolerations":[
      {"key":"dedicated","operator":"Equal","value":"gpu","effect":"NoSchedule"}]}})");
  NodeInfo gpu = tainted("a", R"([{"key":"dedicated","value":"gpu","effect":"NoSchedule"}])");
  NodeInfo soft = tainted("b", R"([{"key":"x","value":"y","effect":"PreferNoSchedule"}])");
  NodeInfo evict = tainted("c", R"([{"key":"e","value":"","effect":"NoExecute"}])");
  auto st = tt.filter(s, *plain, gpu);
  EXPECT_EQ(st.code, Code::kUnschedulableAndUnresolvable);
  EXPECT_EQ(st.reasons[0], "node(s) had untolerated taint {dedicated: gpu}");
  EXPECT_TRUE(tt.filter(s, *tolerant, gpu).ok());
  EXPECT_TRUE(tt.filter(s, *plain, soft).ok());  // PreferNoSchedule never filters
  EXPECT_FALSE(tt.filter(s, *tolerant, evict).ok());
}

TEST(TaintToleration, ScorePrefersFewerPreferNoScheduleTaints) {
  TaintToleration tt;
  CycleState s;
  auto p = testing::pod(R"({"metadata":{"name":"p"},"spec":{}})");
  NodeInfo none = tainted("a", "[]");
  NodeInfo one = tainted("b", R"([{"key":"x","value":"1","effect":"PreferNoSchedule"}])");
  NodeInfo two = tainted("c", R"([{"key":"x","value":"1","effect":"PreferNoSchedule"},
                                  {"key":"y","value":"1","effect":"PreferNoSchedule"}])");
  std::vector<int64_t> scores{tt.score(s, *p, none), tt.score(s, *p, one), tt.score(s, *p, two)};
  tt.normalize(s, *p, scores);
  EXPECT_EQ(scores, (std::vector<int64_t>{100, 50, 0}));
}

}  // namespace
}  // namespace berth::scheduler::plugins
