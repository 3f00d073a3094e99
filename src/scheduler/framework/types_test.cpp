#include "scheduler/framework/types.h"

#include <gtest/gtest.h>

#include "scheduler/framework/framework.h"
#include "scheduler/framework/testing.h"

namespace berth::scheduler {
namespace {

TEST(Quantity, ParsesUnitsAndRoundsUp) {
  EXPECT_EQ(parseQuantity("100m", 1000), 100);
  EXPECT_EQ(parseQuantity("2", 1000), 2000);
  EXPECT_EQ(parseQuantity("0.5", 1000), 500);
  EXPECT_EQ(parseQuantity("1Ki", 1), 1024);
  EXPECT_EQ(parseQuantity("1Gi", 1), 1073741824);
  EXPECT_EQ(parseQuantity("1e3", 1), 1000);
  EXPECT_EQ(parseQuantity("1.5", 1), 2);  // rounded up, as Quantity.Value()
  EXPECT_FALSE(parseQuantity("abc", 1));
  EXPECT_FALSE(parseQuantity("", 1));
  EXPECT_FALSE(parseQuantity("1Qi", 1));
}

TEST(PodInfo, EffectiveRequestsTakeInitContainersAndOverhead) {
  auto p = testing::pod(R"({"metadata":{"name":"p"},"spec":{
      "initContainers":[{"name":"i","resources":{"requests":{"cpu":"2","memory":"1Gi"}}}],
      "containers":[{"name":"a","resources":{"requests":{"cpu":"500m","memory":"2Gi"}}},
                    {"name":"b","resources":{"requests":{"cpu":"500m"}}}],
      "overhead":{"cpu":"100m"}}})");
  ASSERT_TRUE(p);
  // cpu: max(0.5+0.5, 2) + 0.1; memory: max(2Gi, 1Gi)
  EXPECT_EQ(p->requests.milliCpu, 2100);
  EXPECT_EQ(p->requests.memory, 2LL << 30);
  // Scoring defaults: container b has no memory request, counted as 200Mi.
  EXPECT_EQ(p->nonZeroRequests.memory, std::max<int64_t>(2LL << 30, 1LL << 30) + (200LL << 20));
}

TEST(PodInfo, ParsesSchedulingFields) {
  auto p = testing::pod(R"({"metadata":{"name":"p","labels":{"app":"x"}},"spec":{
      "priority":7,"schedulerName":"other","nodeSelector":{"disk":"ssd"},
      "tolerations":[{"key":"k","operator":"Exists","effect":"NoSchedule"}],
      "containers":[{"name":"c","ports":[{"containerPort":80,"hostPort":8080}]}],
      "affinity":{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[
        {"labelSelector":{"matchLabels":{"app":"x"}},"topologyKey":"kubernetes.io/hostname"}]}}}})");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->priority, 7);
  EXPECT_EQ(p->schedulerName, "other");
  EXPECT_EQ(p->nodeSelector.at("disk"), "ssd");
  ASSERT_EQ(p->tolerations.size(), 1u);
  ASSERT_EQ(p->hostPorts.size(), 1u);
  EXPECT_EQ(p->hostPorts[0].protocol, "TCP");
  ASSERT_EQ(p->requiredAntiAffinity.size(), 1u);
  EXPECT_TRUE(p->requiredAntiAffinity[0].matches(*p, nullptr));
  EXPECT_EQ(p->requiredAntiAffinity[0].namespaces, std::vector<std::string>{"default"});
}

TEST(PodInfo, MalformedSelectorIsBadRequest) {
  auto v = boost::json::parse(R"({"metadata":{"name":"p","namespace":"d"},"spec":{"affinity":{
      "podAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[
      {"labelSelector":{"matchExpressions":[{"key":"a","operator":"Bogus"}]},"topologyKey":"t"}]}}}})");
  auto r = parsePod(std::make_shared<const boost::json::value>(v));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), 400);
}

TEST(NodeSelectorTerm, Operators) {
  core::Labels labels{{"zone", "a"}, {"cores", "8"}};
  auto term = [](std::string key, std::string op, std::vector<std::string> values) {
    return NodeSelectorTerm{{{std::move(key), std::move(op), std::move(values)}}, {}};
  };
  EXPECT_TRUE(nodeSelectorTermMatches(term("zone", "In", {"a", "b"}), labels, "n"));
  EXPECT_FALSE(nodeSelectorTermMatches(term("zone", "NotIn", {"a"}), labels, "n"));
  EXPECT_TRUE(nodeSelectorTermMatches(term("gpu", "DoesNotExist", {}), labels, "n"));
  EXPECT_TRUE(nodeSelectorTermMatches(term("cores", "Gt", {"4"}), labels, "n"));
  EXPECT_FALSE(nodeSelectorTermMatches(term("cores", "Lt", {"4"}), labels, "n"));
  EXPECT_FALSE(nodeSelectorTermMatches(NodeSelectorTerm{}, labels, "n"));  // empty = nothing
  NodeSelectorTerm byName{{}, {{"metadata.name", "In", {"n"}}}};
  EXPECT_TRUE(nodeSelectorTermMatches(byName, labels, "n"));
  EXPECT_FALSE(nodeSelectorTermMatches(byName, labels, "m"));
}

TEST(Tolerations, UpstreamMatchingRules) {
  Taint t{"k", "v", "NoSchedule"};
  EXPECT_TRUE(tolerates({"k", "Equal", "v", "NoSchedule"}, t));
  EXPECT_TRUE(tolerates({"k", "", "v", ""}, t));
  EXPECT_FALSE(tolerates({"k", "Equal", "w", ""}, t));
  EXPECT_TRUE(tolerates({"", "Exists", "", ""}, t));  // empty key + Exists tolerates everything
  EXPECT_FALSE(tolerates({"k", "Exists", "", "NoExecute"}, t));
}

TEST(FitError, MessageAsUpstream) {
  NodeToStatus st;
  st["a"] = PluginStatus::unschedulable("Insufficient cpu");
  st["b"] = {Code::kUnschedulable, {"Insufficient cpu", "Insufficient memory"}, {}};
  st["c"] = PluginStatus::unresolvable("node(s) had untolerated taint {k: v}");
  EXPECT_EQ(fitErrorMessage(3, st, "", "preemption: 0/3 nodes are available: 3 x"),
            "0/3 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint "
            "{k: v}, 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 x.");
}

TEST(NodeInfo, AddAndRemovePodKeepSums) {
  NodeInfo n = testing::simpleNode("n");
  auto p = testing::onNode(testing::podWithRequests("p", "1", "1Gi"), "n");
  n.addPod(p);
  EXPECT_EQ(n.requested.milliCpu, 1000);
  EXPECT_TRUE(n.removePod("p"));
  EXPECT_EQ(n.requested.milliCpu, 0);
  EXPECT_EQ(n.requested.memory, 0);
  EXPECT_FALSE(n.removePod("p"));
}

}  // namespace
}  // namespace berth::scheduler
