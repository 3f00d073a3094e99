#include "scheduler/plugins/nodename/node_name.h"

#include <gtest/gtest.h>

#include "scheduler/framework/testing.h"

namespace berth::scheduler::plugins {
namespace {

TEST(NodeName, OnlyTheNamedNode) {
  NodeName nn;
  CycleState s;
  auto p = testing::pod(R"({"metadata":{"name":"p"},"spec":{"nodeName":"b"}})");
  EXPECT_FALSE(nn.filter(s, *p, testing::simpleNode("a")).ok());
  EXPECT_TRUE(nn.filter(s, *p, testing::simpleNode("b")).ok());
  auto free = testing::pod(R"({"metadata":{"name":"p"},"spec":{}})");
  EXPECT_TRUE(nn.filter(s, *free, testing::simpleNode("a")).ok());
}

}  // namespace
}  // namespace berth::scheduler::plugins
