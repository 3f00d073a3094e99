#include "proxy/ruleset.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>

namespace json = boost::json;

namespace berth::proxy {
namespace {

json::object service(const std::string& name, const std::string& ip, json::object extra = {}) {
  json::object spec{{"clusterIP", ip},
                    {"type", "ClusterIP"},
                    {"ports", json::array{json::object{
                                  {"name", "http"}, {"port", 80}, {"protocol", "TCP"}}}}};
  for (auto& [k, v] : extra) spec[k] = v;
  return json::object{{"metadata", {{"namespace", "default"}, {"name", name}}}, {"spec", spec}};
}

json::object endpoint(const std::string& ip, const std::string& node, bool ready = true,
                      bool terminating = false) {
  return json::object{{"addresses", json::array{json::string(ip)}},
                      {"nodeName", node},
                      {"conditions",
                       {{"ready", ready}, {"serving", ready || terminating},
                        {"terminating", terminating}}}};
}

json::object slice(json::array endpoints, int port = 8080) {
  return json::object{
      {"addressType", "IPv4"},
      {"ports", json::array{json::object{{"name", "http"}, {"port", port}, {"protocol", "TCP"}}}},
      {"endpoints", std::move(endpoints)}};
}

RulesetConfig config() {
  RulesetConfig c;
  c.nodeName = "node-a";
  return c;
}

Contribution contributionOf(const json::object& svc, const std::vector<json::object>& slices) {
  std::vector<const json::object*> ptrs;
  for (const auto& s : slices) ptrs.push_back(&s);
  return contribute(servicePorts(svc, ptrs), config());
}

std::vector<Element> elementsOf(const Contribution& c, const std::string& set) {
  std::vector<Element> out;
  for (const auto& e : c.elements)
    if (e.set == set) out.push_back(e);
  return out;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(Ruleset, ClusterIPBalancesOverReadyEndpoints) {
  auto c = contributionOf(service("web", "10.96.0.20"),
                          {slice({endpoint("10.244.0.5", "node-a"), endpoint("10.244.1.6", "node-b"),
                                  endpoint("10.244.0.7", "node-a", false)})});
  auto ips = elementsOf(c, "service-ips");
  ASSERT_EQ(ips.size(), 1u);
  EXPECT_EQ(ips[0].key, "10.96.0.20 . tcp . 80");
  EXPECT_EQ(ips[0].value, "goto cluster-lb-2");  // the not-ready endpoint takes no traffic
  auto eps = elementsOf(c, "service-endpoints");
  ASSERT_EQ(eps.size(), 2u);
  EXPECT_EQ(eps[0].key, "10.96.0.20 . tcp . 80 . 0");
  EXPECT_EQ(eps[0].value, "10.244.0.5 . 8080");
  EXPECT_EQ(eps[1].value, "10.244.1.6 . 8080");
  EXPECT_TRUE(c.sharedChains.count("cluster-lb-2"));
  EXPECT_EQ(elementsOf(c, "cluster-ips").size(), 1u);
  EXPECT_TRUE(elementsOf(c, "no-endpoint-services").empty());
  auto rules = sharedChainRules("cluster-lb-2", config());
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_TRUE(contains(rules[0], "ip saddr != 10.244.0.0/16 meta mark set meta mark or 0x4000"));
  EXPECT_TRUE(contains(rules[1], "numgen random mod 2 map @service-endpoints"));
}

TEST(Ruleset, TerminatingServingEndpointsAreTheFallback) {
  auto c = contributionOf(service("web", "10.96.0.20"),
                          {slice({endpoint("10.244.0.5", "node-a", false, true),
                                  endpoint("10.244.0.6", "node-a", false, false)})});
  auto eps = elementsOf(c, "service-endpoints");
  ASSERT_EQ(eps.size(), 1u);
  EXPECT_EQ(eps[0].value, "10.244.0.5 . 8080");
}

TEST(Ruleset, NoEndpointsIsARejectAndLocalPolicyWithoutLocalEndpointsADrop) {
  auto none = contributionOf(service("web", "10.96.0.20"), {});
  auto reject = elementsOf(none, "no-endpoint-services");
  ASSERT_EQ(reject.size(), 1u);
  EXPECT_EQ(reject[0].value, "goto reject-chain");
  EXPECT_TRUE(elementsOf(none, "service-ips").empty());
  EXPECT_EQ(elementsOf(none, "cluster-ips").size(), 1u);

  auto local = contributionOf(service("dns", "10.96.0.10", {{"internalTrafficPolicy", "Local"}}),
                              {slice({endpoint("10.244.1.2", "node-b")})});
  auto drop = elementsOf(local, "no-endpoint-services");
  ASSERT_EQ(drop.size(), 1u);
  EXPECT_EQ(drop[0].value, "drop");

  auto mine = contributionOf(service("dns", "10.96.0.10", {{"internalTrafficPolicy", "Local"}}),
                             {slice({endpoint("10.244.1.2", "node-b"),
                                     endpoint("10.244.0.2", "node-a")})});
  auto eps = elementsOf(mine, "service-endpoints");
  ASSERT_EQ(eps.size(), 1u);
  EXPECT_EQ(eps[0].value, "10.244.0.2 . 8080");
}

TEST(Ruleset, NodePortExternalIPsAndLoadBalancerIngress) {
  auto svc = service("web", "10.96.0.20",
                     {{"type", "NodePort"},
                      {"externalIPs", json::array{"192.0.2.7"}},
                      {"ports", json::array{json::object{{"name", "http"},
                                                         {"port", 80},
                                                         {"nodePort", 30080},
                                                         {"protocol", "TCP"}}}}});
  svc["status"] = json::object{
      {"loadBalancer", {{"ingress", json::array{json::object{{"ip", "192.0.2.9"}}}}}}};
  auto c = contributionOf(svc, {slice({endpoint("10.244.0.5", "node-a"),
                                       endpoint("10.244.1.5", "node-b")})});
  auto np = elementsOf(c, "service-nodeports");
  ASSERT_EQ(np.size(), 1u);
  EXPECT_EQ(np[0].key, "tcp . 30080");
  EXPECT_EQ(np[0].value, "goto nodeport-lb-2");
  EXPECT_EQ(elementsOf(c, "nodeport-endpoints").size(), 2u);
  std::vector<std::string> keys;
  for (const auto& e : elementsOf(c, "service-ips")) keys.push_back(e.key + " -> " + e.value);
  EXPECT_NE(std::find(keys.begin(), keys.end(), "192.0.2.7 . tcp . 80 -> goto external-lb-2"),
            keys.end());
  EXPECT_NE(std::find(keys.begin(), keys.end(), "192.0.2.9 . tcp . 80 -> goto external-lb-2"),
            keys.end());
  // External traffic is masqueraded; with externalTrafficPolicy Local it is not and only local
  // endpoints serve it.
  EXPECT_TRUE(contains(sharedChainRules("nodeport-lb-2", config())[0], "meta mark set"));
  svc["spec"].as_object()["externalTrafficPolicy"] = "Local";
  auto local = contributionOf(svc, {slice({endpoint("10.244.0.5", "node-a"),
                                           endpoint("10.244.1.5", "node-b")})});
  auto lnp = elementsOf(local, "service-nodeports");
  ASSERT_EQ(lnp.size(), 1u);
  EXPECT_EQ(lnp[0].value, "goto nodeport-local-lb-1");
  for (const auto& r : sharedChainRules("nodeport-local-lb-1", config()))
    EXPECT_FALSE(contains(r, "mark"));
}

TEST(Ruleset, SessionAffinityGetsPerEndpointTimeoutSets) {
  auto c = contributionOf(
      service("sticky", "10.96.0.30",
              {{"sessionAffinity", "ClientIP"},
               {"sessionAffinityConfig", {{"clientIP", {{"timeoutSeconds", 60}}}}}}),
      {slice({endpoint("10.244.0.5", "node-a"), endpoint("10.244.0.6", "node-a")})});
  ASSERT_EQ(c.sets.size(), 2u);
  for (const auto& [name, decl] : c.sets) {
    EXPECT_EQ(name.rfind("affinity-", 0), 0u);
    EXPECT_TRUE(contains(decl, "flags dynamic,timeout ; timeout 60s"));
  }
  auto ips = elementsOf(c, "service-ips");
  ASSERT_EQ(ips.size(), 1u);
  std::string chain = ips[0].value.substr(5);  // "goto service-..."
  ASSERT_TRUE(c.chains.count(chain));
  const auto& rules = c.chains.at(chain).rules;
  int lookups = 0;
  for (const auto& r : rules) lookups += contains(r, "ip saddr @affinity-") ? 1 : 0;
  EXPECT_EQ(lookups, 2);
  EXPECT_TRUE(contains(rules.back(), "goto endpoint-"));
  EXPECT_TRUE(elementsOf(c, "service-endpoints").empty());
}

TEST(Ruleset, HeadlessAndExternalNameServicesGetNothing) {
  EXPECT_TRUE(contributionOf(service("h", "None"), {}).elements.empty());
  EXPECT_TRUE(contributionOf(service("x", "", {{"type", "ExternalName"}}), {}).elements.empty());
}

TEST(RuleState, FullSyncRecreatesTheTableAndIncrementalTouchesOnlyOneService) {
  RuleState state(config());
  std::map<std::string, Contribution> all;
  for (int i = 0; i < 3; ++i)
    all["default/s" + std::to_string(i)] = contributionOf(
        service("s" + std::to_string(i), "10.96.0." + std::to_string(10 + i)),
        {slice({endpoint("10.244.0." + std::to_string(10 + i), "node-a")})});
  std::string full = state.fullSync(all);
  EXPECT_EQ(full.rfind("add table ip berth-proxy\ndelete table ip berth-proxy\nadd table", 0), 0u);
  EXPECT_TRUE(contains(full, "type nat hook output priority -100"));
  EXPECT_TRUE(contains(full, "10.96.0.12 . tcp . 80 : goto cluster-lb-1"));
  EXPECT_EQ(state.serviceCount(), 3u);

  // Nothing changed: no transaction.
  EXPECT_EQ(state.update({{"default/s1", all["default/s1"]}}), "");
  EXPECT_TRUE(contains(full, "add chain ip berth-proxy cluster-lb-16\n"));

  // One endpoint added to s1: its elements only.
  auto next = contributionOf(service("s1", "10.96.0.11"),
                             {slice({endpoint("10.244.0.11", "node-a"),
                                     endpoint("10.244.0.99", "node-a")})});
  std::string inc = state.update({{"default/s1", next}}).value();
  EXPECT_FALSE(contains(inc, "add chain"));
  EXPECT_TRUE(contains(inc, "delete element ip berth-proxy service-ips { 10.96.0.11 . tcp . 80 }"));
  EXPECT_TRUE(contains(inc, "add element ip berth-proxy service-ips { 10.96.0.11 . tcp . 80 : goto cluster-lb-2 }"));
  EXPECT_TRUE(contains(inc, "add element ip berth-proxy service-endpoints { 10.96.0.11 . tcp . 80 . 1 : 10.244.0.99 . 8080 }"));
  EXPECT_FALSE(contains(inc, "10.96.0.10"));
  EXPECT_FALSE(contains(inc, "10.96.0.12"));
  EXPECT_FALSE(contains(inc, "delete table"));
  // The elements that stay the same are not rewritten.
  EXPECT_FALSE(contains(inc, "80 . 0"));

  // s2 deleted: its elements go, the shared chain stays.
  std::string del = state.update({{"default/s2", std::nullopt}}).value();
  EXPECT_TRUE(contains(del, "delete element ip berth-proxy cluster-ips { 10.96.0.12 }"));
  EXPECT_TRUE(contains(del, "delete element ip berth-proxy hairpin-pairs { 10.244.0.12 . 10.244.0.12 }"));
  EXPECT_FALSE(contains(del, "add "));
  EXPECT_EQ(state.serviceCount(), 2u);
}

TEST(RuleState, SharedElementsStayWhileAnotherServiceHoldsThem) {
  RuleState state(config());
  auto a = contributionOf(service("a", "10.96.0.10"), {slice({endpoint("10.244.0.5", "node-a")})});
  auto b = contributionOf(service("b", "10.96.0.11"), {slice({endpoint("10.244.0.5", "node-a")})});
  state.fullSync({{"default/a", a}, {"default/b", b}});
  std::string del = state.update({{"default/a", std::nullopt}}).value();
  EXPECT_FALSE(contains(del, "hairpin-pairs"));  // b still uses the pod
  del = state.update({{"default/b", std::nullopt}}).value();
  EXPECT_TRUE(contains(del, "delete element ip berth-proxy hairpin-pairs { 10.244.0.5 . 10.244.0.5 }"));
}

TEST(RuleState, AffinityChainsAreReplacedAndRemoved) {
  RuleState state(config());
  auto svc = service("s", "10.96.0.30", {{"sessionAffinity", "ClientIP"}});
  auto two = contributionOf(svc, {slice({endpoint("10.244.0.5", "node-a"),
                                         endpoint("10.244.0.6", "node-a")})});
  state.fullSync({{"default/s", two}});
  auto one = contributionOf(svc, {slice({endpoint("10.244.0.5", "node-a")})});
  std::string inc = state.update({{"default/s", one}}).value();
  // The service chain is rewritten; the gone endpoint's chain and set are deleted after it.
  auto flushService = inc.find("flush chain ip berth-proxy service-");
  auto deleteEndpoint = inc.find("delete chain ip berth-proxy endpoint-");
  auto deleteSet = inc.find("delete set ip berth-proxy affinity-");
  ASSERT_NE(flushService, std::string::npos);
  ASSERT_NE(deleteEndpoint, std::string::npos);
  ASSERT_NE(deleteSet, std::string::npos);
  EXPECT_LT(flushService, deleteEndpoint);
  EXPECT_LT(deleteEndpoint, deleteSet);
}

TEST(RuleState, AnEndpointCountWithoutASharedChainNeedsAFullSync) {
  RuleState state(config());
  state.fullSync({});
  json::array many;
  for (int i = 0; i < RuleState::kPrecreatedEndpoints + 1; ++i)
    many.push_back(endpoint("10.244.0." + std::to_string(10 + i), "node-a"));
  auto big = contributionOf(service("big", "10.96.0.40"), {slice(many)});
  EXPECT_FALSE(state.update({{"default/big", big}}).has_value());
  EXPECT_EQ(state.serviceCount(), 0u);  // untouched
  std::string full = state.fullSync({{"default/big", big}});
  EXPECT_TRUE(contains(full, "add chain ip berth-proxy cluster-lb-17\n"));
}

}  // namespace
}  // namespace berth::proxy
