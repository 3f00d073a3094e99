// The service load balancer inside the real `berth server`: with a pool, LoadBalancer Services
// get distinct addresses (a requested free one honoured, a taken one refused with an event),
// released on a type change and on delete and handed to a waiting Service, kept across a
// restart; Services of another loadBalancerClass are left alone. Without a pool they show the
// nodes' addresses.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "client/testing_server.h"
#include "controllers/framework/testing_pods.h"

namespace berth::controllers::servicelb {
namespace {

namespace json = boost::json;
using client::testing::eventually;
const client::Resource kServices{"", "v1", "services", true};
const client::Resource kEvents{"", "v1", "events", true};

json::object lbService(const std::string& name, const std::string& requested = "",
                       const std::string& cls = "") {
  json::object spec{{"type", "LoadBalancer"},
                    {"selector", {{"app", name}}},
                    {"ports", json::array{{{"port", 80}}}}};
  if (!requested.empty()) spec["loadBalancerIP"] = requested;
  if (!cls.empty()) spec["loadBalancerClass"] = cls;
  return json::object{{"apiVersion", "v1"},
                      {"kind", "Service"},
                      {"metadata", {{"name", name}, {"namespace", "default"}}},
                      {"spec", std::move(spec)}};
}

std::string ingressOf(client::RestClient& c, const std::string& name) {
  auto s = c.get(kServices, "default", name);
  if (!s.ok()) return "gone";
  const auto* st = s->as_object().if_contains("status");
  const auto* lb = st ? st->as_object().if_contains("loadBalancer") : nullptr;
  const auto* ing = lb ? lb->as_object().if_contains("ingress") : nullptr;
  std::string out;
  if (ing) {
    for (const auto& i : ing->as_array()) out += (out.empty() ? "" : ",") + std::string(i.at("ip").as_string());
  }
  return out;
}

TEST(ServiceLbIntegration, PoolAddressesAreExclusiveAndReleased) {
  client::testing::TestServer server("sqlite");
  server.setExtraArgs({"--disable-scheduler", "--service-lb-pool", "192.0.2.10-192.0.2.11"});
  ASSERT_TRUE(server.start());
  auto c = server.client("servicelb-test");
  ASSERT_TRUE(c->create(kServices, "default", lbService("a", "192.0.2.11")).ok());
  ASSERT_TRUE(eventually([&] { return ingressOf(*c, "a") == "192.0.2.11"; })) << ingressOf(*c, "a");
  auto got = c->get(kServices, "default", "a");
  EXPECT_EQ(got->at("status").at("loadBalancer").at("ingress").as_array()[0].at("ipMode"), "VIP");
  ASSERT_TRUE(c->create(kServices, "default", lbService("b")).ok());
  ASSERT_TRUE(eventually([&] { return ingressOf(*c, "b") == "192.0.2.10"; })) << ingressOf(*c, "b");
  // Pool exhausted; a requested taken address is refused with an event.
  ASSERT_TRUE(c->create(kServices, "default", lbService("c")).ok());
  ASSERT_TRUE(c->create(kServices, "default", lbService("d", "192.0.2.11")).ok());
  EXPECT_TRUE(eventually([&] {
    client::ListOptions o;
    o.fieldSelector = "involvedObject.name=d,reason=AllocationFailed";
    auto l = c->list(kEvents, "default", o);
    return l.ok() && !l->at("items").as_array().empty();
  }));
  EXPECT_EQ(ingressOf(*c, "c"), "");
  EXPECT_EQ(ingressOf(*c, "d"), "");
  // Another class is not ours.
  ASSERT_TRUE(c->create(kServices, "default", lbService("e", "", "example.com/other")).ok());

  // Restart: addresses stay with their Services.
  server.stop();
  ASSERT_TRUE(server.start());
  c = server.client("servicelb-test");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(ingressOf(*c, "a"), "192.0.2.11");
  EXPECT_EQ(ingressOf(*c, "b"), "192.0.2.10");

  // a stops being a LoadBalancer: its ingress is cleared and d (which asked for it) gets it.
  auto a = c->get(kServices, "default", "a");
  ASSERT_TRUE(a.ok());
  a->as_object()["spec"].as_object()["type"] = "ClusterIP";
  a->as_object()["spec"].as_object().erase("loadBalancerIP");
  for (auto& p : a->as_object()["spec"].as_object()["ports"].as_array()) p.as_object().erase("nodePort");
  a->as_object()["spec"].as_object().erase("externalTrafficPolicy");
  a->as_object()["spec"].as_object().erase("allocateLoadBalancerNodePorts");
  auto updated = c->update(kServices, "default", *a);
  ASSERT_TRUE(updated.ok()) << updated.status().message();
  EXPECT_TRUE(eventually([&] { return ingressOf(*c, "a").empty(); })) << ingressOf(*c, "a");
  // The restarted server's controller manager may still be taking over the leader Lease.
  EXPECT_TRUE(eventually([&] { return ingressOf(*c, "d") == "192.0.2.11"; }, std::chrono::seconds(45)))
      << ingressOf(*c, "d");
  // b is deleted: c gets its address.
  ASSERT_TRUE(c->remove(kServices, "default", "b").ok());
  EXPECT_TRUE(eventually([&] { return ingressOf(*c, "c") == "192.0.2.10"; }, std::chrono::seconds(30)))
      << ingressOf(*c, "c");
  EXPECT_EQ(ingressOf(*c, "e"), "");
}

TEST(ServiceLbIntegration, WithoutPoolTheNodesAddresses) {
  client::testing::TestServer server;
  server.setExtraArgs({"--disable-scheduler"});
  ASSERT_TRUE(server.start());
  auto c = server.client("servicelb-test");
  for (auto [name, ip] : {std::pair{"n1", "10.128.0.2"}, std::pair{"n2", "10.128.0.3"}}) {
    testing::createNode(*c, name);
    // The in-process node controllers write the new Node too: retry a conflict.
    ASSERT_TRUE(eventually([&] {
      auto node = c->get(testing::kTestNodes, "", name);
      if (!node.ok()) return false;
      node->as_object()["status"] = json::object{
          {"addresses", json::array{{{"type", "InternalIP"}, {"address", ip}}}},
          {"conditions", json::array{{{"type", "Ready"}, {"status", "True"}}}}};
      return c->updateStatus(testing::kTestNodes, "", *node).ok();
    }));
  }
  ASSERT_TRUE(c->create(kServices, "default", lbService("a")).ok());
  EXPECT_TRUE(eventually([&] { return ingressOf(*c, "a") == "10.128.0.2,10.128.0.3"; }))
      << ingressOf(*c, "a");
}

}  // namespace
}  // namespace berth::controllers::servicelb
