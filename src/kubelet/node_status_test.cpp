#include "kubelet/node_status.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace berth::kubelet {
namespace {

namespace json = boost::json;

std::string conditionOf(const json::object& status, const std::string& type, const char* field) {
  for (const auto& c : status.at("conditions").as_array())
    if (c.at("type").as_string() == type) return std::string(c.at(field).as_string());
  return "";
}

TEST(NodeStatus, AllocatableIsCapacityLessTheHardEvictionThresholds) {
  HostFacts f;
  f.milliCpu = 2000;
  f.memoryBytes = 8LL << 30;
  f.ephemeralBytes = 100LL << 30;
  auto status = nodeStatus(f, 10250, {}, "2026-11-29T15:00:00Z");
  const auto& capacity = status.at("capacity").as_object();
  const auto& allocatable = status.at("allocatable").as_object();
  EXPECT_EQ(capacity.at("memory").as_string(), "8388608Ki");
  EXPECT_EQ(allocatable.at("memory").as_string(), "8286208Ki");  // less 100Mi
  EXPECT_EQ(capacity.at("ephemeral-storage").as_string(), "104857600Ki");
  EXPECT_EQ(allocatable.at("ephemeral-storage").as_string(), "96636764160");  // less 10%
  EXPECT_EQ(allocatable.at("cpu").as_string(), "2");
  EXPECT_EQ(allocatable.at("pods").as_string(), "110");
}

TEST(NodeStatus, PressureConditionsFollowTheEvictionThresholds) {
  HostFacts f;
  f.milliCpu = 2000;
  f.memoryBytes = 8LL << 30;
  f.memoryAvailableFraction = 0.5;
  f.diskAvailableFraction = 0.5;
  f.pidAvailableFraction = 0.5;
  auto healthy = nodeStatus(f, 10250, {}, "2026-11-29T15:00:00Z");
  for (const char* type : {"MemoryPressure", "DiskPressure", "PIDPressure"})
    EXPECT_EQ(conditionOf(healthy, type, "status"), "False") << type;
  EXPECT_EQ(conditionOf(healthy, "PIDPressure", "reason"), "KubeletHasSufficientPID");

  // memory.available < 100Mi, nodefs.available < 10%, pid.available < 10%.
  f.memoryAvailableFraction = (99.0 * (1 << 20)) / static_cast<double>(f.memoryBytes);
  f.diskAvailableFraction = 0.09;
  f.pidAvailableFraction = 0.05;
  auto pressed = nodeStatus(f, 10250, healthy, "2026-11-29T15:00:10Z");
  EXPECT_EQ(conditionOf(pressed, "MemoryPressure", "status"), "True");
  EXPECT_EQ(conditionOf(pressed, "MemoryPressure", "reason"), "KubeletHasInsufficientMemory");
  EXPECT_EQ(conditionOf(pressed, "DiskPressure", "status"), "True");
  EXPECT_EQ(conditionOf(pressed, "DiskPressure", "reason"), "KubeletHasDiskPressure");
  EXPECT_EQ(conditionOf(pressed, "PIDPressure", "status"), "True");
  EXPECT_EQ(conditionOf(pressed, "PIDPressure", "reason"), "KubeletHasInsufficientPID");
  EXPECT_EQ(conditionOf(pressed, "PIDPressure", "lastTransitionTime"), "2026-11-29T15:00:10Z");
  EXPECT_EQ(conditionOf(pressed, "Ready", "lastTransitionTime"), "2026-11-29T15:00:00Z");
}

TEST(NodeStatus, ProbeHostReadsRealFractions) {
  HostFacts f = probeHost("/tmp", "10.0.0.1");
  EXPECT_GT(f.memoryBytes, 0);
  EXPECT_GT(f.memoryAvailableFraction, 0.0);
  EXPECT_LE(f.memoryAvailableFraction, 1.0);
  EXPECT_GT(f.pidAvailableFraction, 0.0);
  EXPECT_LT(f.pidAvailableFraction, 1.0) << "some processes run";
  EXPECT_EQ(f.internalIP, "10.0.0.1");
}

// The node name is also its kubernetes.io/hostname label value: 63 characters are fine, 64 are
// refused with the API server's reason (upstream's registration fails on it), as is a name
// that is no DNS subdomain.
TEST(NodeStatus, NodeNamesMustFitTheHostnameLabel) {
  std::string longest = std::string(30, 'a') + "." + std::string(32, 'b');  // 63
  EXPECT_EQ(nodeNameProblem(longest), "");
  EXPECT_EQ(nodeNameProblem("node-1.example.org"), "");
  auto tooLong = nodeNameProblem(longest + "c");
  EXPECT_NE(tooLong.find("kubernetes.io/hostname"), std::string::npos) << tooLong;
  EXPECT_NE(tooLong.find("must be no more than 63 characters"), std::string::npos) << tooLong;
  auto bad = nodeNameProblem("Node_1");
  EXPECT_NE(bad.find("not a valid Node name"), std::string::npos) << bad;
  // The label built from a valid name passes the API's validation of label values.
  auto node = nodeObject(longest, HostFacts{}, 10250, {}, "2026-11-30T03:00:00Z");
  EXPECT_EQ(node.at("metadata").at("labels").at("kubernetes.io/hostname").as_string(), longest);
}

}  // namespace
}  // namespace berth::kubelet
