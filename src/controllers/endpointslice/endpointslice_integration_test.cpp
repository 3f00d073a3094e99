// The EndpointSlice controller inside the real `berth server`: slices follow pods as they get
// IPs, become ready, terminate (deleted with a grace period, they linger as terminating) and go;
// a slice of another manager is left alone; deleting the Service removes its slices.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "client/testing_server.h"
#include "controllers/framework/testing_pods.h"

namespace berth::controllers::endpointslice {
namespace {

namespace json = boost::json;
using client::testing::eventually;
const client::Resource kServices{"", "v1", "services", true};
const client::Resource kSlices{"discovery.k8s.io", "v1", "endpointslices", true};
const client::Resource kPods{"", "v1", "pods", true};

json::value servicePorts() {
  return json::array{{{"name", "http"}, {"port", 80}, {"targetPort", "web"}}};
}

json::value makePod(const std::string& name, int port) {
  return json::object{
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", {{"app", "web"}}}}},
      {"spec",
       {{"nodeName", "node-a"},
        {"terminationGracePeriodSeconds", 30},
        {"containers", json::array{{{"name", "c"},
                                    {"image", "x"},
                                    {"ports", json::array{{{"name", "web"},
                                                           {"containerPort", port}}}}}}}}}};
}

// Pod status as a kubelet writes it: Running, an IP, Ready as given.
bool runPod(client::RestClient& c, const std::string& name, const std::string& ip, bool ready) {
  auto p = c.get(kPods, "default", name);
  if (!p.ok()) return false;
  json::object status{{"phase", "Running"},
                      {"podIP", ip},
                      {"podIPs", json::array{{{"ip", ip}}}},
                      {"conditions", json::array{{{"type", "Ready"},
                                                  {"status", ready ? "True" : "False"},
                                                  {"lastTransitionTime", "2026-01-01T00:00:00Z"}}}}};
  p->as_object()["status"] = std::move(status);
  return c.updateStatus(kPods, "default", *p).ok();
}

// "ip:ready/serving/terminating@port ..." of the Service's managed slices, sorted by ip.
std::string endpointsOf(client::RestClient& c, const std::string& svc) {
  client::ListOptions o;
  o.labelSelector = "kubernetes.io/service-name=" + svc +
                    ",endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io";
  auto list = c.list(kSlices, "default", o);
  if (!list.ok()) return "error";
  std::vector<std::string> out;
  for (const auto& s : list->at("items").as_array()) {
    std::string port;
    if (const auto* ports = s.as_object().if_contains("ports"); ports && ports->is_array())
      port = json::serialize(ports->as_array()[0].at("port"));
    for (const auto& e : s.at("endpoints").as_array()) {
      const auto& cond = e.at("conditions").as_object();
      auto b = [&](const char* k) { return cond.at(k).as_bool() ? "1" : "0"; };
      out.push_back(std::string(e.at("addresses").as_array()[0].as_string()) + ":" + b("ready") +
                    b("serving") + b("terminating") + "@" + port);
    }
  }
  std::sort(out.begin(), out.end());
  std::string joined;
  for (const auto& s : out) joined += (joined.empty() ? "" : " ") + s;
  return joined;
}

TEST(EndpointSliceIntegration, SlicesFollowPods) {
  client::testing::TestServer server;
  server.setExtraArgs({"--disable-scheduler"});
  ASSERT_TRUE(server.start());
  auto c = server.client("endpointslice-test");
  ASSERT_TRUE(c);
  testing::createNode(*c, "node-a", json::object{{"topology.kubernetes.io/zone", "z1"}});
  json::object svc{{"apiVersion", "v1"},
                   {"kind", "Service"},
                   {"metadata", {{"name", "web"}, {"namespace", "default"}}},
                   {"spec", {{"selector", {{"app", "web"}}}, {"ports", servicePorts()}}}};
  ASSERT_TRUE(c->create(kServices, "default", svc).ok());
  // No pods: one placeholder slice, owned by the Service.
  ASSERT_TRUE(eventually([&] {
    client::ListOptions o;
    o.labelSelector = "kubernetes.io/service-name=web";
    auto l = c->list(kSlices, "default", o);
    return l.ok() && l->at("items").as_array().size() == 1;
  }));
  EXPECT_EQ(endpointsOf(*c, "web"), "");

  ASSERT_TRUE(c->create(kPods, "default", makePod("a", 8080)).ok());
  ASSERT_TRUE(c->create(kPods, "default", makePod("b", 9090)).ok());
  EXPECT_TRUE(runPod(*c, "a", "10.244.0.2", true));
  EXPECT_TRUE(runPod(*c, "b", "10.244.0.3", false));
  // The named targetPort resolves per pod.
  EXPECT_TRUE(eventually(
      [&] { return endpointsOf(*c, "web") == "10.244.0.2:110@8080 10.244.0.3:000@9090"; }))
      << endpointsOf(*c, "web");
  EXPECT_TRUE(runPod(*c, "b", "10.244.0.3", true));
  EXPECT_TRUE(eventually(
      [&] { return endpointsOf(*c, "web") == "10.244.0.2:110@8080 10.244.0.3:110@9090"; }))
      << endpointsOf(*c, "web");

  // Graceful delete: the pod lingers (no kubelet finishes it) and shows as terminating.
  ASSERT_TRUE(c->remove(kPods, "default", "b").ok());
  EXPECT_TRUE(eventually(
      [&] { return endpointsOf(*c, "web") == "10.244.0.2:110@8080 10.244.0.3:011@9090"; }))
      << endpointsOf(*c, "web");
  json::value now{{"gracePeriodSeconds", 0}};
  ASSERT_TRUE(c->remove(kPods, "default", "b", &now).ok());
  EXPECT_TRUE(eventually([&] { return endpointsOf(*c, "web") == "10.244.0.2:110@8080"; }))
      << endpointsOf(*c, "web");

  // Zone, nodeName and targetRef on the endpoint.
  client::ListOptions o;
  o.labelSelector = "kubernetes.io/service-name=web";
  auto l = c->list(kSlices, "default", o);
  ASSERT_TRUE(l.ok());
  bool found = false;
  for (const auto& s : l->at("items").as_array()) {
    for (const auto& e : s.at("endpoints").as_array()) {
      found = true;
      EXPECT_EQ(e.at("zone"), "z1");
      EXPECT_EQ(e.at("nodeName"), "node-a");
      EXPECT_EQ(e.at("targetRef").at("name"), "a");
    }
  }
  EXPECT_TRUE(found);

  // A slice another manager writes for this Service is never touched.
  json::object foreign{{"apiVersion", "discovery.k8s.io/v1"},
                       {"kind", "EndpointSlice"},
                       {"metadata",
                        {{"name", "web-node-agent"},
                         {"namespace", "default"},
                         {"labels",
                          {{"kubernetes.io/service-name", "web"},
                           {"endpointslice.kubernetes.io/managed-by", "someone-else"}}}}},
                       {"addressType", "IPv4"},
                       {"endpoints", json::array{{{"addresses", json::array{"10.1.1.1"}}}}}};
  ASSERT_TRUE(c->create(kSlices, "default", foreign).ok());
  ASSERT_TRUE(runPod(*c, "a", "10.244.0.2", false));  // a change makes the controller sync
  EXPECT_TRUE(eventually([&] { return endpointsOf(*c, "web") == "10.244.0.2:000@8080"; }));
  EXPECT_TRUE(c->get(kSlices, "default", "web-node-agent").ok());

  // The Service goes: so do its managed slices, not the foreign one.
  ASSERT_TRUE(c->remove(kServices, "default", "web").ok());
  EXPECT_TRUE(eventually([&] {
    client::ListOptions o2;
    o2.labelSelector = "kubernetes.io/service-name=web";
    auto l2 = c->list(kSlices, "default", o2);
    return l2.ok() && l2->at("items").as_array().size() == 1;
  }));
  EXPECT_TRUE(c->get(kSlices, "default", "web-node-agent").ok());
}

}  // namespace
}  // namespace berth::controllers::endpointslice
