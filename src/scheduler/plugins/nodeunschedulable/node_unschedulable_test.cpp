#include "scheduler/plugins/nodeunschedulable/node_unschedulable.h"

#include <gtest/gtest.h>

#include "scheduler/framework/testing.h"

namespace berth::scheduler::plugins {
namespace {

TEST(NodeUnschedulable, CordonedNodesNeedTheToleration) {
  NodeUnschedulable nu;
  CycleState s;
  NodeInfo cordoned = testing::node(R"({"metadata":{"name":"n"},"spec":{"unschedulable":true}})");
  auto plain = testing::pod(R"({"metadata":{"name":"p"},"spec":{}})");
  auto st = nu.filter(s, *plain, cordoned);
  EXPECT_EQ(st.code, Code::kUnschedulableAndUnresolvable);
  EXPECT_EQ(st.reasons[0], "node(s) were unschedulable");
  auto tolerant = testing::pod(R"({"metadata":{"name":"p"},"spec":{"tolerations":[
      {"key":"node.kubernetes.io/unschedulable","operator":"Exists","effect":"NoSchedule"}]}})");
  EXPECT_TRUE(nu.filter(s, *tolerant, cordoned).ok());
  EXPECT_TRUE(nu.filter(s, *plain, testing::simpleNode("m")).ok());
}

}  // namespace
}  // namespace berth::scheduler::plugins
