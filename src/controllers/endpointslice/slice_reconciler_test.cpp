// The slice reconciler on its own: endpoint conditions (ready/serving/terminating,
// publishNotReadyAddresses), named ports resolved per pod, at most N per slice, endpoints that
// stay in their slice, the placeholder, and slices of another owner or address type deleted.
#include "controllers/endpointslice/slice_reconciler.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace berth::controllers::endpointslice {
namespace {

namespace json = boost::json;

json::value service(json::array ports, bool publishNotReady = false) {
  return json::object{
      {"metadata",
       {{"name", "web"}, {"namespace", "ns"}, {"uid", "svc-uid"}, {"labels", {{"app", "web"}}}}},
      {"spec",
       {{"selector", {{"app", "web"}}},
        {"clusterIP", "10.96.0.20"},
        {"ports", std::move(ports)},
        {"publishNotReadyAddresses", publishNotReady}}}};
}

client::ObjectPtr pod(const std::string& name, const std::string& ip, bool ready,
                      bool deleting = false, int httpPort = 8080) {
  json::object meta{{"name", name}, {"namespace", "ns"}, {"uid", name + "-uid"}};
  if (deleting) meta["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  return std::make_shared<const json::value>(json::object{
      {"metadata", std::move(meta)},
      {"spec",
       {{"nodeName", "node-a"},
        {"containers",
         json::array{{{"name", "c"},
                      {"ports", json::array{{{"name", "http"}, {"containerPort", httpPort}}}}}}}}},
      {"status",
       {{"phase", "Running"},
        {"podIP", ip},
        {"conditions",
         json::array{{{"type", "Ready"}, {"status", ready ? "True" : "False"}}}}}}});
}

const json::object& conditionsOf(const json::object& slice, size_t i) {
  return slice.at("endpoints").as_array()[i].at("conditions").as_object();
}

TEST(SliceReconciler, ConditionsPortsAndLabels) {
  json::value svc = service(json::array{{{"name", "http"}, {"port", 80}, {"targetPort", "http"},
                                         {"protocol", "TCP"}}});
  SliceInputs in;
  in.service = &svc;
  in.pods = {pod("a", "10.244.0.2", true), pod("b", "10.244.0.3", false),
             pod("c", "10.244.0.4", true, /*deleting=*/true)};
  in.zoneOf = [](const std::string&) { return std::string("zone-1"); };
  SlicePlan plan = reconcileSlices(in);
  ASSERT_EQ(plan.creates.size(), 1u);
  const json::object& s = plan.creates[0];
  EXPECT_EQ(s.at("addressType"), "IPv4");
  const auto& labels = s.at("metadata").at("labels").as_object();
  EXPECT_EQ(labels.at("kubernetes.io/service-name"), "web");
  EXPECT_EQ(labels.at("endpointslice.kubernetes.io/managed-by"), "endpointslice-controller.k8s.io");
  EXPECT_EQ(labels.at("app"), "web");
  const auto& owner = s.at("metadata").at("ownerReferences").as_array()[0].as_object();
  EXPECT_EQ(owner.at("uid"), "svc-uid");
  EXPECT_EQ(owner.at("controller"), true);
  EXPECT_EQ(json::serialize(s.at("ports")),
            R"([{"name":"http","port":8080,"protocol":"TCP"}])");
  ASSERT_EQ(s.at("endpoints").as_array().size(), 3u);
  // Sorted by address: a (ready), b (not ready), c (terminating: serving but not ready).
  EXPECT_EQ(json::serialize(conditionsOf(s, 0)),
            R"({"ready":true,"serving":true,"terminating":false})");
  EXPECT_EQ(json::serialize(conditionsOf(s, 1)),
            R"({"ready":false,"serving":false,"terminating":false})");
  EXPECT_EQ(json::serialize(conditionsOf(s, 2)),
            R"({"ready":false,"serving":true,"terminating":true})");
  const auto& ep = s.at("endpoints").as_array()[0].as_object();
  EXPECT_EQ(ep.at("nodeName"), "node-a");
  EXPECT_EQ(ep.at("zone"), "zone-1");
  EXPECT_EQ(ep.at("targetRef").at("name"), "a");
  EXPECT_EQ(ep.at("targetRef").at("kind"), "Pod");
}

TEST(SliceReconciler, PublishNotReadyAddressesMakesEveryEndpointReady) {
  json::value svc = service(json::array{{{"port", 80}, {"targetPort", 80}}}, true);
  SliceInputs in;
  in.service = &svc;
  in.pods = {pod("b", "10.244.0.3", false), pod("c", "10.244.0.4", false, true)};
  SlicePlan plan = reconcileSlices(in);
  ASSERT_EQ(plan.creates.size(), 1u);
  EXPECT_EQ(json::serialize(conditionsOf(plan.creates[0], 0)),
            R"({"ready":true,"serving":true,"terminating":false})");
  EXPECT_EQ(json::serialize(conditionsOf(plan.creates[0], 1)),
            R"({"ready":true,"serving":true,"terminating":true})");
}

TEST(SliceReconciler, NamedPortsGroupPodsBySlice) {
  json::value svc = service(json::array{{{"port", 80}, {"targetPort", "http"}}});
  SliceInputs in;
  in.service = &svc;
  in.pods = {pod("a", "10.244.0.2", true, false, 8080), pod("b", "10.244.0.3", true, false, 9090)};
  SlicePlan plan = reconcileSlices(in);
  ASSERT_EQ(plan.creates.size(), 2u);
  std::set<std::string> ports;
  for (const auto& s : plan.creates) {
    EXPECT_EQ(s.at("endpoints").as_array().size(), 1u);
    ports.insert(json::serialize(s.at("ports").as_array()[0].at("port")));
  }
  EXPECT_EQ(ports, (std::set<std::string>{"8080", "9090"}));
}

TEST(SliceReconciler, AtMostNPerSliceAndEndpointsStayPut) {
  json::value svc = service(json::array{{{"port", 80}, {"targetPort", 8080}}});
  SliceInputs in;
  in.service = &svc;
  in.maxEndpointsPerSlice = 2;
  for (int i = 0; i < 5; ++i)
    in.pods.push_back(pod("p" + std::to_string(i), "10.244.0." + std::to_string(10 + i), true));
  SlicePlan first = reconcileSlices(in);
  ASSERT_EQ(first.creates.size(), 3u);
  // Store them as the server would and drop one pod: only its slice changes.
  std::vector<client::ObjectPtr> stored;
  int n = 0;
  for (auto s : first.creates) {
    s["metadata"].as_object()["name"] = "web-" + std::to_string(n++);
    s["metadata"].as_object()["resourceVersion"] = "7";
    stored.push_back(std::make_shared<const json::value>(std::move(s)));
  }
  in.ownedSlices = stored;
  EXPECT_TRUE(reconcileSlices(in).updates.empty()) << "no change, no write";
  in.pods.erase(in.pods.begin());  // 10.244.0.10, in web-0
  SlicePlan second = reconcileSlices(in);
  EXPECT_TRUE(second.creates.empty());
  EXPECT_TRUE(second.deletes.empty());
  ASSERT_EQ(second.updates.size(), 1u);
  EXPECT_EQ(second.updates[0].at("metadata").at("name"), "web-0");
  EXPECT_EQ(second.updates[0].at("endpoints").as_array().size(), 1u);
  // A new pod fills the slice with room instead of making a fourth.
  in.pods.push_back(pod("q", "10.244.0.99", true));
  in.ownedSlices[0] = std::make_shared<const json::value>(second.updates[0]);
  SlicePlan third = reconcileSlices(in);
  EXPECT_TRUE(third.creates.empty());
  ASSERT_EQ(third.updates.size(), 1u);
  EXPECT_EQ(third.updates[0].at("endpoints").as_array().size(), 2u);
}

TEST(SliceReconciler, PlaceholderWhenEmptyAndForeignSlicesGo) {
  json::value svc = service(json::array{{{"port", 80}, {"targetPort", 8080}}});
  SliceInputs in;
  in.service = &svc;
  SlicePlan plan = reconcileSlices(in);
  ASSERT_EQ(plan.creates.size(), 1u);
  EXPECT_TRUE(plan.creates[0].at("endpoints").as_array().empty());
  EXPECT_FALSE(plan.creates[0].contains("ports"));
  // A slice owned by an earlier Service of this name is deleted; the placeholder is made anew.
  json::object stale = plan.creates[0];
  stale["metadata"].as_object()["name"] = "web-old";
  stale["metadata"].as_object()["ownerReferences"].as_array()[0].as_object()["uid"] = "old";
  in.ownedSlices = {std::make_shared<const json::value>(stale)};
  SlicePlan again = reconcileSlices(in);
  EXPECT_EQ(again.deletes, std::vector<std::string>{"web-old"});
  EXPECT_EQ(again.creates.size(), 1u);
}

TEST(SliceReconciler, PodsWithoutIpOrFinishedAreLeftOut) {
  json::value svc = service(json::array{{{"port", 80}, {"targetPort", 8080}}});
  SliceInputs in;
  in.service = &svc;
  json::value noIp = *pod("a", "", true);
  json::value done = *pod("b", "10.244.0.3", true);
  done.as_object()["status"].as_object()["phase"] = "Succeeded";
  in.pods = {std::make_shared<const json::value>(noIp), std::make_shared<const json::value>(done)};
  SlicePlan plan = reconcileSlices(in);
  ASSERT_EQ(plan.creates.size(), 1u);
  EXPECT_TRUE(plan.creates[0].at("endpoints").as_array().empty());
}

}  // namespace
}  // namespace berth::controllers::endpointslice
