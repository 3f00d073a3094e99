// The IPv6 rule set of a dual-stack Service: the IPv6 ClusterIP and IPv6 EndpointSlice go to
// the `ip6` table with IPv6 types and matches, the IPv4 ones to the `ip` table, unchanged.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "proxy/ruleset.h"

namespace berth::proxy {
namespace {

namespace json = boost::json;

bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

json::object dualStackService(const std::string& affinity = "None") {
  return json::parse(R"({"metadata":{"namespace":"default","name":"web"},
      "spec":{"type":"NodePort","clusterIP":"10.96.0.30",
              "clusterIPs":["10.96.0.30","fd00:10:96::1e"],"ipFamilies":["IPv4","IPv6"],
              "sessionAffinity":")" +
                     affinity + R"(",
              "externalIPs":["192.0.2.9","2001:db8::9"],
              "ports":[{"name":"","port":80,"protocol":"TCP","nodePort":30080}]}})")
      .as_object();
}

std::vector<json::object> slices() {
  return {json::parse(R"({"addressType":"IPv4","ports":[{"name":"","port":8080,"protocol":"TCP"}],
                          "endpoints":[{"addresses":["10.244.0.5"],"nodeName":"node-a"}]})")
              .as_object(),
          json::parse(R"({"addressType":"IPv6","ports":[{"name":"","port":8080,"protocol":"TCP"}],
                          "endpoints":[{"addresses":["fd00:10:244::5"],"nodeName":"node-a"}]})")
              .as_object()};
}

std::string render(const json::object& svc, const std::string& family) {
  auto s = slices();
  std::vector<const json::object*> ptrs = {&s[0], &s[1]};
  RulesetConfig config;
  config.nodeName = "node-a";
  if (family == "IPv6") {
    config.family = "ip6";
    config.clusterCidr = "fd00:10:244::/56";
    config.serviceCidr = "fd00:10:96::/112";
  }
  RuleState state(config);
  return state.fullSync({{"default/web", contribute(servicePorts(svc, ptrs, family), config)}});
}

TEST(RulesetIp6, TheIpv6FamilyOfADualStackService) {
  auto svc = dualStackService();
  std::string v6 = render(svc, "IPv6");
  EXPECT_TRUE(v6.starts_with("add table ip6 berth-proxy\ndelete table ip6 berth-proxy\n")) << v6;
  EXPECT_TRUE(has(v6, "add set ip6 berth-proxy cluster-ips { type ipv6_addr ; }")) << v6;
  EXPECT_TRUE(has(v6,
                  "add map ip6 berth-proxy service-ips { type ipv6_addr . inet_proto . "
                  "inet_service : verdict ; }"));
  EXPECT_TRUE(has(v6,
                  "add rule ip6 berth-proxy services ip6 daddr . meta l4proto . th dport "
                  "vmap @service-ips"));
  EXPECT_TRUE(has(v6,
                  "fib daddr type local ip6 daddr != ::1 meta l4proto . th dport vmap "
                  "@service-nodeports"));
  EXPECT_TRUE(has(v6, "ip6 daddr fd00:10:96::/112 drop"));
  EXPECT_TRUE(has(v6, "ip6 saddr != fd00:10:244::/56 "));
  EXPECT_TRUE(has(v6, "dnat ip6 to ip6 daddr . meta l4proto . th dport . numgen random mod 1"));
  EXPECT_TRUE(has(v6, "fd00:10:96::1e . tcp . 80 : goto cluster-lb-1")) << v6;
  EXPECT_TRUE(has(v6, "2001:db8::9 . tcp . 80")) << "the IPv6 externalIP";
  EXPECT_TRUE(has(v6, "fd00:10:244::5 . 8080")) << "the IPv6 endpoint";
  EXPECT_FALSE(has(v6, "10.96.0.30") || has(v6, "10.244.0.5") || has(v6, "192.0.2.9"));
  EXPECT_FALSE(has(v6, " ip daddr") || has(v6, " ip saddr") || has(v6, "ipv4_addr"));

  std::string v4 = render(svc, "IPv4");
  EXPECT_TRUE(v4.starts_with("add table ip berth-proxy\n"));
  EXPECT_TRUE(has(v4, "10.96.0.30 . tcp . 80 : goto cluster-lb-1"));
  EXPECT_TRUE(has(v4, "10.244.0.5 . 8080"));
  EXPECT_FALSE(has(v4, "fd00:") || has(v4, "2001:db8"));
}

TEST(RulesetIp6, AffinityDnatsToABracketedAddress) {
  std::string v6 = render(dualStackService("ClientIP"), "IPv6");
  EXPECT_TRUE(has(v6, "dnat to [fd00:10:244::5]:8080")) << v6;
  EXPECT_TRUE(has(v6, "{ type ipv6_addr ; flags dynamic,timeout ;")) << v6;
  EXPECT_TRUE(has(v6, "update @")) << v6;
}

TEST(RulesetIp6, AnIpv4OnlyServiceHasNoIpv6Rules) {
  auto svc = json::parse(R"({"metadata":{"namespace":"default","name":"old"},
      "spec":{"clusterIP":"10.96.0.40","ports":[{"name":"","port":80,"protocol":"TCP"}]}})")
                 .as_object();
  auto s = slices();
  std::vector<const json::object*> ptrs = {&s[0], &s[1]};
  EXPECT_TRUE(servicePorts(svc, ptrs, "IPv6").empty());
  EXPECT_EQ(servicePorts(svc, ptrs).size(), 1u);
}

TEST(RulesetIp6, ALoneIpv6ServiceCidrMakesTheOneTableIpv6) {
  RulesetConfig six;
  six.serviceCidr = "fd00:10:96::/108";
  six.clusterCidr = "fd00:10:244::/56";
  EXPECT_FALSE(splitDualStack(six));
  EXPECT_EQ(six.family, "ip6");
  EXPECT_EQ(six.clusterCidr, "fd00:10:244::/56");
  // An IPv4 cluster CIDR has no IPv6 half: every client is masqueraded.
  RulesetConfig mixed;
  mixed.serviceCidr = "fd00:10:96::/108";
  EXPECT_FALSE(splitDualStack(mixed));
  EXPECT_EQ(mixed.clusterCidr, "");
  RulesetConfig four;
  EXPECT_FALSE(splitDualStack(four));
  EXPECT_EQ(four.family, "ip");
  EXPECT_EQ(four.clusterCidr, "10.244.0.0/16");
}

}  // namespace
}  // namespace berth::proxy
