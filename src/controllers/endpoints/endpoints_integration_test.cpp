// The Endpoints controller inside the real `berth server`: an Endpoints per selecting Service
// that follows its pods (ready / not ready / terminating left out), the trigger-time
// annotation, the API server's own `kubernetes` Endpoints untouched, deleted with the Service.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "client/testing_server.h"

namespace berth::controllers::endpoints {
namespace {

namespace json = boost::json;
using client::testing::eventually;
const client::Resource kServices{"", "v1", "services", true};
const client::Resource kEndpoints{"", "v1", "endpoints", true};
const client::Resource kPods{"", "v1", "pods", true};

bool runPod(client::RestClient& c, const std::string& name, const std::string& ip, bool ready) {
  json::object pod{{"apiVersion", "v1"},
                   {"kind", "Pod"},
                   {"metadata", {{"name", name}, {"labels", {{"app", "web"}}}}},
                   {"spec",
                    {{"nodeName", "n1"},
                     {"containers", json::array{{{"name", "c"}, {"image", "x"}}}}}}};
  auto created = c.get(kPods, "default", name);
  if (!created.ok()) created = c.create(kPods, "default", pod);
  if (!created.ok()) return false;
  created->as_object()["status"] = json::object{
      {"phase", "Running"},
      {"podIP", ip},
      {"conditions", json::array{{{"type", "Ready"}, {"status", ready ? "True" : "False"}}}}};
  return c.updateStatus(kPods, "default", *created).ok();
}

// "ready=ip,ip notReady=ip" of the Endpoints' subsets.
std::string subsetsOf(client::RestClient& c, const std::string& name) {
  auto ep = c.get(kEndpoints, "default", name);
  if (!ep.ok()) return "missing";
  std::string ready, notReady;
  if (const auto* subsets = ep->as_object().if_contains("subsets")) {
    for (const auto& s : subsets->as_array()) {
      auto add = [&](const char* f, std::string& out) {
        if (const auto* a = s.as_object().if_contains(f))
          for (const auto& e : a->as_array())
            out += (out.empty() ? "" : ",") + std::string(e.at("ip").as_string());
      };
      add("addresses", ready);
      add("notReadyAddresses", notReady);
    }
  }
  return "ready=" + ready + " notReady=" + notReady;
}

TEST(EndpointsIntegration, FollowsPodsAndGoesWithTheService) {
  client::testing::TestServer server;
  server.setExtraArgs({"--disable-scheduler"});
  ASSERT_TRUE(server.start());
  auto c = server.client("endpoints-test");
  auto kubernetesBefore = c->get(kEndpoints, "default", "kubernetes");
  ASSERT_TRUE(kubernetesBefore.ok());
  json::object svc{{"apiVersion", "v1"},
                   {"kind", "Service"},
                   {"metadata", {{"name", "web"}, {"labels", {{"tier", "front"}}}}},
                   {"spec",
                    {{"selector", {{"app", "web"}}},
                     {"ports", json::array{{{"port", 80}, {"targetPort", 8080}}}}}}};
  ASSERT_TRUE(c->create(kServices, "default", svc).ok());
  EXPECT_TRUE(eventually([&] { return subsetsOf(*c, "web") == "ready= notReady="; }));
  ASSERT_TRUE(runPod(*c, "a", "10.244.0.2", true));
  ASSERT_TRUE(runPod(*c, "b", "10.244.0.3", false));
  EXPECT_TRUE(
      eventually([&] { return subsetsOf(*c, "web") == "ready=10.244.0.2 notReady=10.244.0.3"; }))
      << subsetsOf(*c, "web");
  auto ep = c->get(kEndpoints, "default", "web");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->at("metadata").at("labels").at("tier"), "front");
  EXPECT_TRUE(ep->at("metadata").at("annotations").as_object().contains(
      "endpoints.kubernetes.io/last-change-trigger-time"));
  EXPECT_EQ(json::serialize(ep->at("subsets").as_array()[0].at("ports")),
            R"([{"port":8080,"protocol":"TCP"}])");
  // A terminating pod leaves the Endpoints (it stays in the EndpointSlice as terminating).
  ASSERT_TRUE(c->remove(kPods, "default", "a").ok());
  EXPECT_TRUE(eventually([&] { return subsetsOf(*c, "web") == "ready= notReady=10.244.0.3"; }))
      << subsetsOf(*c, "web");
  ASSERT_TRUE(c->remove(kServices, "default", "web").ok());
  EXPECT_TRUE(eventually([&] { return subsetsOf(*c, "web") == "missing"; }));
  auto kubernetesAfter = c->get(kEndpoints, "default", "kubernetes");
  ASSERT_TRUE(kubernetesAfter.ok());
  EXPECT_EQ(kubernetesAfter->at("metadata").at("resourceVersion"),
            kubernetesBefore->at("metadata").at("resourceVersion"));
}

}  // namespace
}  // namespace berth::controllers::endpoints
