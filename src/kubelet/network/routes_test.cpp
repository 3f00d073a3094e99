#include "kubelet/network/routes.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace json = boost::json;

namespace berth::kubelet::network {
namespace {

json::value node(const std::string& name, const std::string& cidr, const std::string& ip) {
  json::object n{{"metadata", {{"name", name}}}, {"spec", json::object{}}};
  if (!cidr.empty()) n["spec"].as_object()["podCIDR"] = cidr;
  if (!ip.empty())
    n["status"] = {
        {"addresses", json::array{json::object{{"type", "Hostname"}, {"address", name}},
                                  json::object{{"type", "InternalIP"}, {"address", ip}}}}};
  return n;
}

TEST(PodRoutes, DesiredRoutesAreEveryOtherNodeWithCidrAndAddress) {
  std::vector<json::value> nodes{node("a", "10.244.0.0/24", "172.31.1.11"),
                                 node("b", "10.244.1.0/24", "172.31.1.12"),
                                 node("c", "", "172.31.1.13"),                // no podCIDR yet
                                 node("d", "10.244.3.0/24", ""),              // no address yet
                                 node("e", "10.244.4.0/24", "172.31.1.11")};  // our own address
  auto want = std::map<std::string, std::string>{{"10.244.1.0/24", "172.31.1.12"}};
  EXPECT_EQ(desiredPodRoutes(nodes, "a"), want);
}

TEST(PodRoutes, DualStackNodesRouteEachPodCidrViaTheAddressOfItsFamily) {
  auto dual = [](const std::string& name, const std::string& v4, const std::string& v6,
                 const std::vector<std::string>& ips) {
    json::array addrs;
    for (const auto& ip : ips) addrs.push_back(json::object{{"type", "InternalIP"}, {"address", ip}});
    return json::value(json::object{{"metadata", {{"name", name}}},
                                    {"spec", {{"podCIDR", v4}, {"podCIDRs", json::array{v4, v6}}}},
                                    {"status", {{"addresses", addrs}}}});
  };
  std::vector<json::value> nodes{
      dual("a", "10.244.0.0/24", "fd00:10:244::/64", {"172.31.1.11", "fd00:31::11"}),
      dual("b", "10.244.1.0/24", "fd00:10:244:1::/64", {"172.31.1.12", "fd00:31::12"}),
      // No IPv6 address: its IPv6 podCIDR has no next hop.
      dual("c", "10.244.2.0/24", "fd00:10:244:2::/64", {"172.31.1.13"}),
      // Our own IPv6 address: no route (it would loop).
      dual("d", "10.244.3.0/24", "fd00:10:244:3::/64", {"fd00:31::11"})};
  auto want = std::map<std::string, std::string>{{"10.244.1.0/24", "172.31.1.12"},
                                                 {"fd00:10:244:1::/64", "fd00:31::12"},
                                                 {"10.244.2.0/24", "172.31.1.13"}};
  EXPECT_EQ(desiredPodRoutes(nodes, "a"), want);
}

TEST(PodRoutes, CommandsReplaceNewAndMovedDeleteGone) {
  std::map<std::string, std::string> installed{{"10.244.1.0/24", "172.31.1.12"},
                                               {"10.244.2.0/24", "172.31.1.13"},
                                               {"10.244.5.0/24", "172.31.1.15"}};
  std::map<std::string, std::string> desired{{"10.244.1.0/24", "172.31.1.12"},
                                             {"10.244.2.0/24", "172.31.1.99"},
                                             {"10.244.3.0/24", "172.31.1.14"}};
  auto cmds = routeCommands(installed, desired);
  std::vector<std::vector<std::string>> want{
      {"route", "del", "10.244.5.0/24", "proto", "98"},
      {"route", "replace", "10.244.2.0/24", "via", "172.31.1.99", "proto", "98"},
      {"route", "replace", "10.244.3.0/24", "via", "172.31.1.14", "proto", "98"}};
  EXPECT_EQ(cmds, want);
  EXPECT_TRUE(routeCommands(desired, desired).empty());
}

TEST(PodRoutes, ParsesIpJson) {
  auto r = parseIpRoutes(
      R"([{"dst":"10.244.1.0/24","gateway":"172.31.1.12","dev":"eth0","protocol":"98","flags":[]},)"
      R"({"dst":"default","dev":"eth0"}])");
  EXPECT_EQ(r, (std::map<std::string, std::string>{{"10.244.1.0/24", "172.31.1.12"}}));
  EXPECT_TRUE(parseIpRoutes("not json").empty());
}

TEST(PodRoutes, SyncStartsFromTheKernelsRoutesAndFollowsNodes) {
  std::vector<std::vector<std::string>> ran;
  bool failReplace = false;
  PodRoutes routes("a", [&](const std::vector<std::string>& args) -> core::Result<std::string> {
    ran.push_back(args);
    if (args[0] == "-j")  // a route left by a previous life, for a node that is gone now
      return std::string(R"([{"dst":"10.244.9.0/24","gateway":"172.31.1.19"}])");
    if (failReplace && args[1] == "replace") return core::Status::internal("ip: boom");
    return std::string();
  });
  std::vector<json::value> nodes{node("a", "10.244.0.0/24", "172.31.1.11"),
                                 node("b", "10.244.1.0/24", "172.31.1.12")};
  ASSERT_TRUE(routes.sync(nodes).ok());
  ASSERT_EQ(ran.size(), 4u);
  EXPECT_EQ(ran[0][0], "-j");
  EXPECT_EQ(ran[1][0], "-6");  // the IPv6 routes are listed apart
  EXPECT_EQ(ran[2], (std::vector<std::string>{"route", "del", "10.244.9.0/24", "proto", "98"}));
  EXPECT_EQ(ran[3][1], "replace");
  EXPECT_EQ(routes.installed(),
            (std::map<std::string, std::string>{{"10.244.1.0/24", "172.31.1.12"}}));

  ran.clear();
  ASSERT_TRUE(routes.sync(nodes).ok());
  EXPECT_TRUE(ran.empty()) << "nothing changed, nothing run";

  // A failed replace is retried on the next sync.
  nodes.push_back(node("c", "10.244.2.0/24", "172.31.1.13"));
  failReplace = true;
  EXPECT_FALSE(routes.sync(nodes).ok());
  failReplace = false;
  ran.clear();
  ASSERT_TRUE(routes.sync(nodes).ok());
  ASSERT_EQ(ran.size(), 1u);
  EXPECT_EQ(ran[0][2], "10.244.2.0/24");

  // The node goes: its route goes.
  nodes.erase(nodes.begin() + 1);
  ran.clear();
  ASSERT_TRUE(routes.sync(nodes).ok());
  EXPECT_EQ(
      ran,
      (std::vector<std::vector<std::string>>{{"route", "del", "10.244.1.0/24", "proto", "98"}}));
}

}  // namespace
}  // namespace berth::kubelet::network
