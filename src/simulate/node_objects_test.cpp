#include "simulate/node_objects.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <regex>
#include <set>

namespace berth::simulate {
namespace {

namespace json = boost::json;

TEST(PodIpAllocator, HandsOutHostAddressesOfTheBlockOnce) {
  PodIpAllocator ips(*core::parseIpv4Cidr("10.244.3.0/24"));
  ASSERT_TRUE(ips.configured());
  std::set<std::string> seen;
  for (int i = 0; i < 253; ++i) {
    auto ip = ips.allocate();
    ASSERT_TRUE(ip.has_value()) << i;
    EXPECT_TRUE(seen.insert(*ip).second) << *ip;
  }
  // .0 (network), .1 (the bridge) and .255 (broadcast) are never given.
  EXPECT_EQ(*seen.begin(), "10.244.3.10");  // lexical order; the numeric first is .2
  EXPECT_EQ(seen.count("10.244.3.2"), 1u);
  EXPECT_EQ(seen.count("10.244.3.1"), 0u);
  EXPECT_EQ(seen.count("10.244.3.255"), 0u);
  EXPECT_FALSE(ips.allocate().has_value());
  ips.release("10.244.3.77");
  EXPECT_EQ(*ips.allocate(), "10.244.3.77");
  EXPECT_EQ(ips.inUse(), 253u);
}

TEST(PodIpAllocator, ReserveKeepsAddressesOfRunningPods) {
  PodIpAllocator ips(*core::parseIpv4Cidr("10.244.0.0/24"));
  EXPECT_TRUE(ips.reserve("10.244.0.2"));
  EXPECT_FALSE(ips.reserve("10.244.1.2"));  // another node's block
  EXPECT_FALSE(ips.reserve("10.244.0.1"));  // the gateway
  EXPECT_EQ(*ips.allocate(), "10.244.0.3");
  ips.release("10.244.9.9");  // foreign: ignored
  EXPECT_EQ(ips.inUse(), 2u);
  EXPECT_FALSE(PodIpAllocator().configured());
}

TEST(PodIpAllocator, HandsOutIpv6AddressesOfAnIpv6PodCidr) {
  PodIpAllocator ips(*core::parseIpCidr("fd00:10:244:1::/64"));
  ASSERT_TRUE(ips.configured());
  EXPECT_EQ(*ips.allocate(), "fd00:10:244:1::2");  // ::0 and ::1 (the bridge) are never given
  EXPECT_TRUE(ips.reserve("fd00:10:244:1::9"));
  EXPECT_FALSE(ips.reserve("fd00:10:244:2::9"));  // another node's block
  EXPECT_FALSE(ips.reserve("10.244.1.9"));        // the other family
  EXPECT_EQ(*ips.allocate(), "fd00:10:244:1::3");
  ips.release("fd00:10:244:1::2");
  EXPECT_EQ(*ips.allocate(), "fd00:10:244:1::2");
  EXPECT_EQ(ips.inUse(), 3u);
}

TEST(NodeObjects, DualStackRunningPodStatusListsBothIps) {
  json::object pod = json::parse(R"({"metadata":{"uid":"u1","name":"p"},
      "spec":{"containers":[{"name":"a","image":"nginx"}]},"status":{"phase":"Pending"}})")
                         .as_object();
  json::object patch =
      runningPodStatusPatch(pod, {"10.244.1.2", "fd00:10:244:1::2"}, "10.128.0.1", "T");
  const auto& st = patch["status"].as_object();
  EXPECT_EQ(st.at("podIP"), "10.244.1.2");
  EXPECT_EQ(json::serialize(st.at("podIPs")),
            R"([{"ip":"10.244.1.2"},{"ip":"fd00:10:244:1::2"}])");
  json::object running = pod;
  running["status"] = st;
  EXPECT_TRUE(podShowsRunning(running, {"10.244.1.2", "fd00:10:244:1::2"}));
  EXPECT_FALSE(podShowsRunning(running, {"10.244.1.2"}));
}

TEST(NodeObjects, NodeAndLeaseShapes) {
  NodeShape s;
  s.name = "n7";
  s.internalIp = "10.128.0.8";
  json::object n = makeNode(s, "T0");
  EXPECT_EQ(n["metadata"].at("labels").at("kubernetes.io/hostname"), "n7");
  EXPECT_EQ(n["status"].at("capacity").at("pods"), "110");
  EXPECT_EQ(n["status"].at("addresses").at(0).at("address"), "10.128.0.8");
  auto& conds = n["status"].at("conditions").as_array();
  ASSERT_EQ(conds.size(), 4u);
  EXPECT_EQ(conds[3].at("type"), "Ready");
  EXPECT_EQ(conds[3].at("status"), "True");
  EXPECT_FALSE(conditionsDiffer(n));

  // Transition times survive an unchanged status and restart on a change.
  json::object later = n;
  auto again = nodeConditions(&later, "T1");
  EXPECT_EQ(again[3].at("lastTransitionTime"), "T0");
  EXPECT_EQ(again[3].at("lastHeartbeatTime"), "T1");
  later["status"].as_object()["conditions"].as_array()[3].as_object()["status"] = "Unknown";
  EXPECT_TRUE(conditionsDiffer(later));
  EXPECT_EQ(nodeConditions(&later, "T2")[3].at("lastTransitionTime"), "T2");

  json::object lease = makeLease("n7", "uid-1", nowMicroTime());
  EXPECT_EQ(lease["spec"].at("leaseDurationSeconds"), 40);
  EXPECT_EQ(lease["metadata"].at("ownerReferences").at(0).at("uid"), "uid-1");
  EXPECT_TRUE(std::regex_match(std::string(lease["spec"].at("renewTime").as_string()),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)")));
}

TEST(NodeObjects, RunningPodStatus) {
  json::object pod = json::parse(R"({"metadata":{"uid":"u1","name":"p"},
      "spec":{"containers":[{"name":"a","image":"nginx"},{"name":"b","image":"quay.io/x/y:1"}]},
      "status":{"phase":"Pending","startTime":"S0"}})")
                         .as_object();
  EXPECT_FALSE(podShowsRunning(pod, {"10.244.0.2"}));
  json::object patch = runningPodStatusPatch(pod, {"10.244.0.2"}, "10.128.0.1", "T");
  EXPECT_EQ(patch["metadata"].at("uid"), "u1");
  const auto& st = patch["status"].as_object();
  EXPECT_EQ(st.at("startTime"), "S0");  // kept
  EXPECT_EQ(st.at("containerStatuses").at(0).at("image"), "docker.io/library/nginx:latest");
  EXPECT_EQ(st.at("containerStatuses").at(1).at("image"), "quay.io/x/y:1");
  EXPECT_FALSE(st.contains("initContainerStatuses"));
  // Applied, the pod shows running; with another IP it does not.
  json::object running = pod;
  running["status"] = st;
  EXPECT_TRUE(podShowsRunning(running, {"10.244.0.2"}));
  EXPECT_FALSE(podShowsRunning(running, {"10.244.0.3"}));
}

}  // namespace
}  // namespace berth::simulate
