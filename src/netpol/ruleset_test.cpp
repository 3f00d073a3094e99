#include "netpol/ruleset.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>

#include "netpol/render.h"

namespace json = boost::json;

namespace berth::netpol {
namespace {

PodInfo pod(std::string ns, std::string name, std::string ip, core::Labels labels,
            bool local = true, std::vector<ContainerPort> ports = {}) {
  PodInfo p;
  p.ns = std::move(ns);
  p.name = std::move(name);
  p.ip = std::move(ip);
  p.labels = std::move(labels);
  p.local = local;
  p.ports = std::move(ports);
  return p;
}

json::object policy(const std::string& ns, const std::string& name, const std::string& spec) {
  return json::object{{"metadata", {{"namespace", ns}, {"name", name}}},
                      {"spec", json::parse(spec)}};
}

const NftSet* findSet(const Ruleset& rs, const std::string& name) {
  for (const auto& s : rs.sets)
    if (s.name == name) return &s;
  return nullptr;
}

std::set<std::string> elems(const Ruleset& rs, const std::string& name) {
  const auto* s = findSet(rs, name);
  return s ? s->elements : std::set<std::string>{"<no set " + name + ">"};
}

ClusterState cluster() {
  ClusterState s;
  s.namespaces = {{"demo", {{"team", "a"}}}, {"other", {{"team", "b"}}}};
  s.pods = {
      pod("demo", "server", "10.244.0.2", {{"app", "server"}}, true,
          {{"http", 8080, "TCP"}, {"dns", 53, "UDP"}}),
      pod("demo", "client", "10.244.0.3", {{"app", "client"}}),
      pod("demo", "remote-client", "10.244.1.3", {{"app", "client"}}, false),
      pod("demo", "intruder", "10.244.0.4", {{"app", "intruder"}}),
      pod("other", "client", "10.244.1.5", {{"app", "client"}}, false, {{"http", 9090, "TCP"}})};
  return s;
}

TEST(Ruleset, NoPoliciesIsolatesNothing) {
  auto rs = buildRuleset(cluster());
  EXPECT_EQ(elems(rs, "in-isolated"), std::set<std::string>{});
  EXPECT_EQ(elems(rs, "eg-isolated"), std::set<std::string>{});
  EXPECT_EQ(rs.ingress, (std::vector<std::string>{"ip daddr != @in-isolated return",
                                                  "ip6 daddr != @in-isolated-6 return", "drop"}));
  EXPECT_EQ(rs.egress, (std::vector<std::string>{"ip saddr != @eg-isolated return",
                                                 "ip6 saddr != @eg-isolated-6 return", "drop"}));
}

TEST(Ruleset, DefaultDenyIngressIsolatesEveryLocalPodOfTheNamespace) {
  auto s = cluster();
  s.policies.push_back(policy("demo", "deny", R"({"podSelector":{},"policyTypes":["Ingress"]})"));
  auto rs = buildRuleset(s);
  // Local pods of demo only: remote-client is isolated by its own node, other/* not at all.
  EXPECT_EQ(elems(rs, "in-isolated"),
            (std::set<std::string>{"10.244.0.2", "10.244.0.3", "10.244.0.4"}));
  EXPECT_EQ(elems(rs, "eg-isolated"), std::set<std::string>{});
  EXPECT_EQ(rs.ingress, (std::vector<std::string>{"ip daddr != @in-isolated return",
                                                  "ip6 daddr != @in-isolated-6 return", "drop"}));
}

TEST(Ruleset, PolicyTypesDefaultFromTheRules) {
  auto s = cluster();
  s.policies.push_back(policy("demo", "eg", R"({"podSelector":{"matchLabels":{"app":"client"}},
      "egress":[{"to":[{"ipBlock":{"cidr":"10.0.0.0/8","except":["10.244.0.0/16"]}}]}]})"));
  auto rs = buildRuleset(s);
  EXPECT_EQ(elems(rs, "in-isolated"), std::set<std::string>{"10.244.0.3"});
  EXPECT_EQ(elems(rs, "eg-isolated"), std::set<std::string>{"10.244.0.3"});
  ASSERT_EQ(rs.egress.size(), 4u);  // an IPv4 block has no IPv6 rule
  EXPECT_EQ(rs.egress[2],
            "ip saddr @p0-pods ip daddr 10.0.0.0/8 ip daddr != { 10.244.0.0/16 } return");
}

TEST(Ruleset, PodSelectorPeersAreTheNamespacesPodsOnEveryNode) {
  auto s = cluster();
  s.policies.push_back(
      policy("demo", "allow-client", R"({"podSelector":{"matchLabels":{"app":"server"}},
      "policyTypes":["Ingress"],"ingress":[{"from":[{"podSelector":{"matchLabels":{"app":"client"}}}]}]})"));
  auto rs = buildRuleset(s);
  EXPECT_EQ(elems(rs, "p0-pods"), std::set<std::string>{"10.244.0.2"});
  EXPECT_EQ(elems(rs, "p0-in0-peer0"), (std::set<std::string>{"10.244.0.3", "10.244.1.3"}));
  EXPECT_EQ(rs.ingress,
            (std::vector<std::string>{"ip daddr != @in-isolated return",
                                      "ip6 daddr != @in-isolated-6 return",
                                      "ip daddr @p0-pods ip saddr @p0-in0-peer0 return",
                                      "ip6 daddr @p0-pods-6 ip6 saddr @p0-in0-peer0-6 return",
                                      "drop"}));
}

TEST(Ruleset, NamespaceSelectorAloneAndCombined) {
  auto s = cluster();
  s.policies.push_back(policy("demo", "ns", R"({"podSelector":{},"ingress":[{"from":[
      {"namespaceSelector":{"matchLabels":{"team":"b"}}},
      {"namespaceSelector":{},"podSelector":{"matchLabels":{"app":"client"}}}]}]})"));
  auto rs = buildRuleset(s);
  EXPECT_EQ(elems(rs, "p0-in0-peer0"), std::set<std::string>{"10.244.1.5"});
  EXPECT_EQ(elems(rs, "p0-in0-peer1"),
            (std::set<std::string>{"10.244.0.3", "10.244.1.3", "10.244.1.5"}));
}

TEST(Ruleset, PortsByNumberRangeProtocolAndName) {
  auto s = cluster();
  s.policies.push_back(policy("demo", "ports", R"({"podSelector":{},"ingress":[{"ports":[
      {"protocol":"TCP","port":80},{"protocol":"TCP","port":8000,"endPort":8100},
      {"protocol":"UDP"},{"protocol":"SCTP","port":9},{"protocol":"TCP","port":"http"}]}]})"));
  auto rs = buildRuleset(s);
  std::vector<std::string> want{
      "ip daddr != @in-isolated return",
      "ip6 daddr != @in-isolated-6 return",
      "ip daddr @p0-pods meta l4proto tcp th dport 80 return",
      "ip daddr @p0-pods meta l4proto tcp th dport 8000-8100 return",
      "ip daddr @p0-pods meta l4proto udp return",
      "ip daddr @p0-pods meta l4proto sctp th dport 9 return",
      "ip daddr @p0-pods meta l4proto tcp ip daddr . th dport @port-tcp-http return",
      "ip6 daddr @p0-pods-6 meta l4proto tcp th dport 80 return",
      "ip6 daddr @p0-pods-6 meta l4proto tcp th dport 8000-8100 return",
      "ip6 daddr @p0-pods-6 meta l4proto udp return",
      "ip6 daddr @p0-pods-6 meta l4proto sctp th dport 9 return",
      "ip6 daddr @p0-pods-6 meta l4proto tcp ip6 daddr . th dport @port6-tcp-http return",
      "drop"};
  EXPECT_EQ(rs.ingress, want);
  // The name resolves per pod: server's http is 8080, other/client's 9090; dns is UDP.
  EXPECT_EQ(elems(rs, "port-tcp-http"),
            (std::set<std::string>{"10.244.0.2 . 8080", "10.244.1.5 . 9090"}));
  EXPECT_EQ(findSet(rs, "port-tcp-http")->type, "ipv4_addr . inet_service");
}

TEST(Ruleset, EmptyRuleAllowsEverythingAndPeersTimesPorts) {
  auto s = cluster();
  s.policies.push_back(policy("demo", "all", R"({"podSelector":{},"ingress":[{}],
      "egress":[{"to":[{"podSelector":{}},{"ipBlock":{"cidr":"192.168.0.0/16"}}],
                 "ports":[{"protocol":"TCP","port":1},{"protocol":"UDP","port":2}]}]})"));
  auto rs = buildRuleset(s);
  EXPECT_EQ(rs.ingress[2], "ip daddr @p0-pods return");
  EXPECT_EQ(rs.ingress[3], "ip6 daddr @p0-pods-6 return");
  // Isolation checks + IPv4: 2 peers x 2 ports + IPv6: the pod peer x 2 ports + drop.
  EXPECT_EQ(rs.egress.size(), 9u);
  EXPECT_EQ(rs.egress[5],
            "ip saddr @p0-pods ip daddr 192.168.0.0/16 meta l4proto udp th dport 2 return");
}

TEST(Ruleset, PodChangesAreElementChangesOnly) {
  auto s = cluster();
  s.policies.push_back(
      policy("demo", "allow-client", R"({"podSelector":{"matchLabels":{"app":"server"}},
      "ingress":[{"from":[{"podSelector":{"matchLabels":{"app":"client"}}}],"ports":[{"port":"http"}]}]})"));
  auto before = buildRuleset(s);
  s.pods.push_back(pod("demo", "client2", "10.244.0.9", {{"app", "client"}}));
  s.pods.erase(s.pods.begin() + 1);  // demo/client goes
  auto after = buildRuleset(s);
  ASSERT_TRUE(before.sameStructure(after));
  EXPECT_EQ(elementScript(before, after),
            "delete element inet berth-netpol p0-in0-peer0 { 10.244.0.3 }\n"
            "add element inet berth-netpol p0-in0-peer0 { 10.244.0.9 }\n");
  EXPECT_EQ(elementScript(after, after), "");
  // A policy change is a structural one.
  s.policies.push_back(policy("demo", "deny", R"({"podSelector":{},"policyTypes":["Egress"]})"));
  EXPECT_FALSE(after.sameStructure(buildRuleset(s)));
}

TEST(Ruleset, PodInfoFromTheApiObject) {
  auto p = json::parse(R"({"metadata":{"namespace":"demo","name":"web","labels":{"app":"web"}},
      "spec":{"nodeName":"node-a","containers":[{"name":"c","ports":[
        {"name":"http","containerPort":8080},{"containerPort":9000},
        {"name":"dns","containerPort":53,"protocol":"UDP"}]}]},
      "status":{"phase":"Running","podIP":"10.244.0.7"}})")
               .as_object();
  auto info = podInfo(p, "node-a");
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->local);
  EXPECT_EQ(info->ip, "10.244.0.7");
  EXPECT_EQ(info->labels.at("app"), "web");
  ASSERT_EQ(info->ports.size(), 2u);  // unnamed ports cannot be referred to by name
  EXPECT_EQ(info->ports[1].protocol, "UDP");
  EXPECT_FALSE(podInfo(p, "node-b")->local);
  auto ended = p;
  ended["status"].as_object()["phase"] = "Succeeded";
  EXPECT_FALSE(podInfo(ended, "node-a"));
  auto host = p;
  host["spec"].as_object()["hostNetwork"] = true;
  EXPECT_FALSE(podInfo(host, "node-a"));
  auto noIp = p;
  noIp["status"].as_object().erase("podIP");
  EXPECT_FALSE(podInfo(noIp, "node-a"));
}

// Dual-stack pods (status.podIPs of both families): every set of pod addresses has its IPv6
// twin, and ipBlocks only match their own family.
ClusterState dualStackCluster() {
  auto s = cluster();
  const char* v6[] = {"fd00:10:244::2", "fd00:10:244::3", "fd00:10:244:1::3", "fd00:10:244::4",
                      "fd00:10:244:1::5"};
  for (size_t i = 0; i < s.pods.size(); ++i) s.pods[i].ip6 = v6[i];
  return s;
}

TEST(Ruleset, Ipv6AddressesOfDualStackPodsAreIsolatedAndAllowedLikeIpv4) {
  auto s = dualStackCluster();
  s.policies.push_back(
      policy("demo", "allow-client", R"({"podSelector":{"matchLabels":{"app":"server"}},
      "ingress":[{"from":[{"podSelector":{"matchLabels":{"app":"client"}}}],"ports":[{"port":"http"}]}]})"));
  auto rs = buildRuleset(s);
  EXPECT_EQ(elems(rs, "in-isolated"), std::set<std::string>{"10.244.0.2"});
  EXPECT_EQ(elems(rs, "in-isolated-6"), std::set<std::string>{"fd00:10:244::2"});
  EXPECT_EQ(findSet(rs, "in-isolated-6")->type, "ipv6_addr");
  EXPECT_EQ(elems(rs, "p0-pods-6"), std::set<std::string>{"fd00:10:244::2"});
  EXPECT_EQ(elems(rs, "p0-in0-peer0-6"),
            (std::set<std::string>{"fd00:10:244::3", "fd00:10:244:1::3"}));
  EXPECT_EQ(elems(rs, "port6-tcp-http"),
            (std::set<std::string>{"fd00:10:244::2 . 8080", "fd00:10:244:1::5 . 9090"}));
  EXPECT_EQ(findSet(rs, "port6-tcp-http")->type, "ipv6_addr . inet_service");
  EXPECT_EQ(rs.ingress[2], "ip daddr @p0-pods ip saddr @p0-in0-peer0 meta l4proto tcp ip daddr . "
                           "th dport @port-tcp-http return");
  EXPECT_EQ(rs.ingress[3], "ip6 daddr @p0-pods-6 ip6 saddr @p0-in0-peer0-6 meta l4proto tcp ip6 "
                           "daddr . th dport @port6-tcp-http return");
}

TEST(Ruleset, IpBlocksMatchOnlyTheirOwnFamily) {
  auto s = dualStackCluster();
  s.policies.push_back(policy("demo", "blocks", R"({"podSelector":{"matchLabels":{"app":"client"}},
      "policyTypes":["Egress"],"egress":[{"to":[
        {"ipBlock":{"cidr":"fd00:10:244::/56","except":["fd00:10:244:1::/64","10.244.1.0/24"]}},
        {"ipBlock":{"cidr":"10.244.0.0/16","except":["10.244.1.0/24"]}}]}]})"));
  auto rs = buildRuleset(s);
  EXPECT_EQ(elems(rs, "eg-isolated-6"), std::set<std::string>{"fd00:10:244::3"});
  EXPECT_EQ(rs.egress,
            (std::vector<std::string>{
                "ip saddr != @eg-isolated return", "ip6 saddr != @eg-isolated-6 return",
                "ip saddr @p0-pods ip daddr 10.244.0.0/16 ip daddr != { 10.244.1.0/24 } return",
                "ip6 saddr @p0-pods-6 ip6 daddr fd00:10:244::/56 ip6 daddr != { "
                "fd00:10:244:1::/64 } return",
                "drop"}));
  // An IPv6-only rule allows no IPv4 traffic: the isolated pod's IPv4 packets reach the drop.
  s.policies[0] = policy("demo", "blocks", R"({"podSelector":{"matchLabels":{"app":"client"}},
      "policyTypes":["Egress"],"egress":[{"to":[{"ipBlock":{"cidr":"::/0"}}]}]})");
  rs = buildRuleset(s);
  EXPECT_EQ(rs.egress, (std::vector<std::string>{"ip saddr != @eg-isolated return",
                                                 "ip6 saddr != @eg-isolated-6 return",
                                                 "ip6 saddr @p0-pods-6 ip6 daddr ::/0 return",
                                                 "drop"}));
}

TEST(Ruleset, PodInfoTakesBothFamiliesFromPodIps) {
  auto p = json::parse(R"({"metadata":{"namespace":"demo","name":"web"},
      "spec":{"nodeName":"node-a","containers":[{"name":"c"}]},
      "status":{"phase":"Running","podIP":"fd00:10:244:0::7",
                "podIPs":[{"ip":"fd00:10:244:0::7"},{"ip":"10.244.0.7"}]}})")
               .as_object();
  auto info = podInfo(p, "node-a");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->ip, "10.244.0.7");
  EXPECT_EQ(info->ip6, "fd00:10:244::7");  // canonical text, as nft lists set elements
  auto v6only = p;
  v6only["status"].as_object()["podIPs"] = json::array{json::object{{"ip", "fd00:10:244::7"}}};
  EXPECT_TRUE(podInfo(v6only, "node-a")->ip.empty());
  EXPECT_EQ(podInfo(v6only, "node-a")->ip6, "fd00:10:244::7");
}

TEST(Render, FullScriptReplacesTheTableAtomically) {
  auto s = cluster();
  s.policies.push_back(policy("demo", "deny", R"({"podSelector":{},"policyTypes":["Ingress"]})"));
  auto script = fullScript(buildRuleset(s));
  EXPECT_EQ(script.rfind("table inet berth-netpol\ndelete table inet berth-netpol\n", 0), 0u);
  EXPECT_NE(script.find("ct state established,related accept\n    icmpv6 type { nd-neighbor-solicit, "
                        "nd-neighbor-advert, nd-router-solicit, nd-router-advert } accept\n"
                        "    jump egress\n    jump ingress"),
            std::string::npos);
  EXPECT_EQ(script.find("nfproto"), std::string::npos) << "IPv6 is not let through unpoliced";
  EXPECT_NE(script.find("set in-isolated-6 {\n    type ipv6_addr\n  }"), std::string::npos);
  EXPECT_NE(script.find("set in-isolated {\n    type ipv4_addr\n    elements = { 10.244.0.2, "
                        "10.244.0.3, 10.244.0.4 }"),
            std::string::npos);
  EXPECT_NE(script.find("set eg-isolated {\n    type ipv4_addr\n  }"), std::string::npos);
}

}  // namespace
}  // namespace berth::netpol
