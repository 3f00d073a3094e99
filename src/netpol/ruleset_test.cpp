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
  EXPECT_EQ(rs.ingress, (std::vector<std::string>{"ip daddr != @in-isolated return", "drop"}));
  EXPECT_EQ(rs.egress, (std::vector<std::string>{"ip saddr != @eg-isolated return", "drop"}));
}

TEST(Ruleset, DefaultDenyIngressIsolatesEveryLocalPodOfTheNamespace) {
  auto s = cluster();
  s.policies.push_back(policy("demo", "deny", R"({"podSelector":{},"policyTypes":["Ingress"]})"));
  auto rs = buildRuleset(s);
  // Local pods of demo only: remote-client is isolated by its own node, other/* not at all.
  EXPECT_EQ(elems(rs, "in-isolated"),
            (std::set<std::string>{"10.244.0.2", "10.244.0.3", "10.244.0.4"}));
  EXPECT_EQ(elems(rs, "eg-isolated"), std::set<std::string>{});
  EXPECT_EQ(rs.ingress, (std::vector<std::string>{"ip daddr != @in-isolated return", "drop"}));
}

TEST(Ruleset, PolicyTypesDefaultFromTheRules) {
  auto s = cluster();
  s.policies.push_back(policy("demo", "eg", R"({"podSelector":{"matchLabels":{"app":"client"}},
      "egress":[{"to":[{"ipBlock":{"cidr":"10.0.0.0/8","except":["10.244.0.0/16"]}}]}]})"));
  auto rs = buildRuleset(s);
  EXPECT_EQ(elems(rs, "in-isolated"), std::set<std::string>{"10.244.0.3"});
  EXPECT_EQ(elems(rs, "eg-isolated"), std::set<std::string>{"10.244.0.3"});
  ASSERT_EQ(rs.egress.size(), 3u);
  EXPECT_EQ(rs.egress[1],
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
                                      "ip daddr @p0-pods ip saddr @p0-in0-peer0 return", "drop"}));
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
      "ip daddr @p0-pods meta l4proto tcp th dport 80 return",
      "ip daddr @p0-pods meta l4proto tcp th dport 8000-8100 return",
      "ip daddr @p0-pods meta l4proto udp return",
      "ip daddr @p0-pods meta l4proto sctp th dport 9 return",
      "ip daddr @p0-pods meta l4proto tcp ip daddr . th dport @port-tcp-http return",
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
  EXPECT_EQ(rs.ingress[1], "ip daddr @p0-pods return");
  EXPECT_EQ(rs.egress.size(), 6u);  // isolation check + 2 peers x 2 ports + drop
  EXPECT_EQ(rs.egress[4],
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

TEST(Render, FullScriptReplacesTheTableAtomically) {
  auto s = cluster();
  s.policies.push_back(policy("demo", "deny", R"({"podSelector":{},"policyTypes":["Ingress"]})"));
  auto script = fullScript(buildRuleset(s));
  EXPECT_EQ(script.rfind("table inet berth-netpol\ndelete table inet berth-netpol\n", 0), 0u);
  EXPECT_NE(script.find("ct state established,related accept\n    meta nfproto != ipv4 accept\n    jump egress\n    jump ingress"),
            std::string::npos);
  EXPECT_NE(script.find("set in-isolated {\n    type ipv4_addr\n    elements = { 10.244.0.2, "
                        "10.244.0.3, 10.244.0.4 }"),
            std::string::npos);
  EXPECT_NE(script.find("set eg-isolated {\n    type ipv4_addr\n  }"), std::string::npos);
}

}  // namespace
}  // namespace berth::netpol
