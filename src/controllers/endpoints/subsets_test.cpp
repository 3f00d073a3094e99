// Endpoints subsets as upstream's endpoints controller writes them: ready and not-ready
// addresses, terminating pods left out (kept with publishNotReadyAddresses), subsets per resolved
// port set, headless Services without ports, and truncation above the capacity.
#include "controllers/endpoints/subsets.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace berth::controllers::endpoints {
namespace {

namespace json = boost::json;

json::value service(json::value ports, bool publishNotReady = false,
                    const std::string& clusterIp = "10.96.0.30") {
  return json::object{{"metadata", {{"name", "web"}, {"namespace", "ns"}}},
                      {"spec",
                       {{"selector", {{"app", "web"}}},
                        {"clusterIP", clusterIp},
                        {"ports", std::move(ports)},
                        {"publishNotReadyAddresses", publishNotReady}}}};
}

client::ObjectPtr pod(const std::string& name, const std::string& ip, bool ready,
                      bool deleting = false, int port = 8080) {
  json::object meta{{"name", name}, {"namespace", "ns"}, {"uid", name}};
  if (deleting) meta["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  return std::make_shared<const json::value>(json::object{
      {"metadata", std::move(meta)},
      {"spec",
       {{"nodeName", "n1"},
        {"hostname", name},
        {"subdomain", "web"},
        {"containers",
         json::array{{{"ports", json::array{{{"name", "http"}, {"containerPort", port}}}}}}}}},
      {"status",
       {{"phase", "Running"},
        {"podIP", ip},
        {"conditions", json::array{{{"type", "Ready"}, {"status", ready ? "True" : "False"}}}}}}});
}

std::string ips(const json::value& subset, const char* field) {
  std::string out;
  if (const auto* a = subset.as_object().if_contains(field)) {
    for (const auto& e : a->as_array()) out += std::string(e.at("ip").as_string()) + " ";
  }
  return out;
}

TEST(EndpointsSubsets, ReadyNotReadyAndTerminating) {
  json::value svc = service(json::array{{{"name", "http"}, {"port", 80}, {"targetPort", "http"}}});
  auto out = computeSubsets(svc, {pod("a", "10.0.0.2", true), pod("b", "10.0.0.1", false),
                                  pod("c", "10.0.0.3", true, true)});
  ASSERT_EQ(out.subsets.size(), 1u);
  EXPECT_EQ(ips(out.subsets[0], "addresses"), "10.0.0.2 ");
  EXPECT_EQ(ips(out.subsets[0], "notReadyAddresses"), "10.0.0.1 ");
  EXPECT_EQ(json::serialize(out.subsets[0].at("ports")),
            R"([{"name":"http","port":8080,"protocol":"TCP"}])");
  const auto& a = out.subsets[0].at("addresses").as_array()[0].as_object();
  EXPECT_EQ(a.at("nodeName"), "n1");
  EXPECT_EQ(a.at("hostname"), "a");  // subdomain names the Service
  EXPECT_EQ(a.at("targetRef").at("kind"), "Pod");
  EXPECT_FALSE(out.truncated);

  auto published = computeSubsets(service(json::array{{{"port", 80}, {"targetPort", 8080}}}, true),
                                  {pod("b", "10.0.0.1", false), pod("c", "10.0.0.3", true, true)});
  ASSERT_EQ(published.subsets.size(), 1u);
  EXPECT_EQ(ips(published.subsets[0], "addresses"), "10.0.0.1 10.0.0.3 ");
}

TEST(EndpointsSubsets, OneSubsetPerPortSetAndHeadlessWithoutPorts) {
  json::value svc = service(json::array{{{"port", 80}, {"targetPort", "http"}}});
  auto out = computeSubsets(svc, {pod("a", "10.0.0.2", true, false, 8080),
                                  pod("b", "10.0.0.3", true, false, 9090),
                                  pod("c", "10.0.0.4", true, false, 8080)});
  ASSERT_EQ(out.subsets.size(), 2u);
  auto headless = computeSubsets(service(json::array(), false, "None"), {pod("a", "10.0.0.2", true)});
  ASSERT_EQ(headless.subsets.size(), 1u);
  EXPECT_FALSE(headless.subsets[0].as_object().contains("ports"));
  auto portless = computeSubsets(service(json::array()), {pod("a", "10.0.0.2", true)});
  EXPECT_TRUE(portless.subsets.empty());
}

TEST(EndpointsSubsets, TruncatedAboveCapacityKeepingReadyFirst) {
  json::value svc = service(json::array{{{"port", 80}, {"targetPort", 8080}}});
  std::vector<client::ObjectPtr> pods;
  for (int i = 0; i < 8; ++i)
    pods.push_back(pod("p" + std::to_string(i), "10.0.1." + std::to_string(i), i < 3));
  auto out = computeSubsets(svc, pods, 5);
  EXPECT_TRUE(out.truncated);
  ASSERT_EQ(out.subsets.size(), 1u);
  EXPECT_EQ(ips(out.subsets[0], "addresses"), "10.0.1.0 10.0.1.1 10.0.1.2 ");
  EXPECT_EQ(out.subsets[0].at("notReadyAddresses").as_array().size(), 2u);
}

}  // namespace
}  // namespace berth::controllers::endpoints
