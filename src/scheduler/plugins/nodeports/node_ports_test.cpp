#include "scheduler/plugins/nodeports/node_ports.h"

#include <gtest/gtest.h>

#include "scheduler/framework/testing.h"

namespace berth::scheduler::plugins {
namespace {

PodInfoPtr withPort(const std::string& name, int port, const std::string& extra = "") {
  return testing::pod(R"({"metadata":{"name":")" + name +
                      R"("},"spec":{"containers":[{"name":"c","ports":[{"containerPort":80,"hostPort":)" +
                      std::to_string(port) + extra + "}]}]}}");
}

TEST(NodePorts, ConflictingHostPortsAreRejected) {
  NodeInfo n = testing::simpleNode("n");
  n.addPod(testing::onNode(withPort("a", 8080), "n"));
  NodePorts np;
  CycleState s;
  auto st = np.filter(s, *withPort("p", 8080), n);
  EXPECT_EQ(st.code, Code::kUnschedulable);
  EXPECT_EQ(st.reasons[0], "node(s) didn't have free ports for the requested pod ports");
  EXPECT_TRUE(np.filter(s, *withPort("p", 8081), n).ok());
  EXPECT_TRUE(np.filter(s, *withPort("p", 8080, R"(,"protocol":"UDP")"), n).ok());
}

TEST(NodePorts, SpecificHostIpsDoNotOverlap) {
  NodeInfo n = testing::simpleNode("n");
  n.addPod(testing::onNode(withPort("a", 9000, R"(,"hostIP":"127.0.0.1")"), "n"));
  NodePorts np;
  CycleState s;
  EXPECT_TRUE(np.filter(s, *withPort("p", 9000, R"(,"hostIP":"127.0.0.2")"), n).ok());
  EXPECT_FALSE(np.filter(s, *withPort("p", 9000), n).ok());  // 0.0.0.0 overlaps everything
}

}  // namespace
}  // namespace berth::scheduler::plugins
