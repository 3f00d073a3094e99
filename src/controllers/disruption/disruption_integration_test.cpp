// The disruption controller's events against the real server (as upstream's trySync emits
// them): NoPods for a budget selecting nothing, UnmanagedPods when a scale-based budget covers a
// pod without a controller, CalculateExpectedPodCountFailed when a pod's controller is missing.
#include <gtest/gtest.h>

#include "client/testing_server.h"
#include "controllers/framework/testing_pods.h"

namespace berth::controllers {
namespace {

namespace json = boost::json;
using client::testing::eventually;
using client::testing::TestServer;
using namespace controllers::testing;

const client::Resource kPdbs{"policy", "v1", "poddisruptionbudgets", true};

json::value pdb(const std::string& name, const std::string& app, const std::string& budget) {
  return json::parse(R"({"apiVersion":"policy/v1","kind":"PodDisruptionBudget",
      "metadata":{"name":")" +
                     name + R"("},
      "spec":{)" + budget +
                     R"(,"selector":{"matchLabels":{"app":")" + app + R"("}}}})");
}

json::value pod(const std::string& name, const std::string& app, const std::string& owner = "") {
  json::value p = json::parse(R"({"apiVersion":"v1","kind":"Pod",
      "metadata":{"name":")" + name +
                              R"(","labels":{"app":")" + app + R"("}},
      "spec":{"containers":[{"name":"c","image":"img"}]}})");
  if (!owner.empty()) {
    p.as_object()["metadata"].as_object()["ownerReferences"] = json::array{json::object{
        // A kind nobody serves: the garbage collector leaves the pod alone.
        {"apiVersion", "example.com/v1"},
        {"kind", "Ghost"},
        {"name", owner},
        {"uid", "0b6f9a3c-0000-4000-8000-000000000001"},
        {"controller", true}}};
  }
  return p;
}

TEST(DisruptionIntegrationTest, EventsAsUpstreamEmitsThem) {
  TestServer server;
  ASSERT_TRUE(server.start());
  auto c = server.client("disruption-test");

  ASSERT_TRUE(c->create(kPdbs, "default", pdb("empty", "nothing", R"("minAvailable":1)")).ok());
  EXPECT_TRUE(eventually(
      [&] { return hasEvent(*c, "default", "empty", "Normal NoPods: No matching pods found"); }));

  ASSERT_TRUE(c->create(kTestPods, "default", pod("bare", "bare")).ok());
  // The controller's pod cache must hold the pod before the budget under test exists (pods and
  // budgets arrive on separate watches): a first budget's warning shows that it does.
  ASSERT_TRUE(c->create(kPdbs, "default", pdb("first", "bare", R"("maxUnavailable":1)")).ok());
  ASSERT_TRUE(eventually([&] { return hasEvent(*c, "default", "first", "Warning UnmanagedPods"); }));
  ASSERT_TRUE(c->create(kPdbs, "default", pdb("unmanaged", "bare", R"("maxUnavailable":1)")).ok());
  EXPECT_TRUE(eventually([&] {
    return hasEvent(*c, "default", "unmanaged",
                    "Warning UnmanagedPods: Pods selected by this PodDisruptionBudget (selector: "
                    "&LabelSelector{MatchLabels:map[string]string{app: bare,},MatchExpressions:[]"
                    "LabelSelectorRequirement{},}) were found to be unmanaged.");
  }));
  EXPECT_FALSE(hasEvent(*c, "default", "unmanaged", "Normal NoPods"));

  // A pod whose controller does not exist: the expected count cannot be computed.
  ASSERT_TRUE(c->create(kTestPods, "default", pod("lost", "lost", "ghost")).ok());
  ASSERT_TRUE(c->create(kPdbs, "default", pdb("failing", "lost", R"("minAvailable":"50%")")).ok());
  EXPECT_TRUE(eventually([&] {
    return hasEvent(*c, "default", "failing",
                    "Warning CalculateExpectedPodCountFailed: Failed to calculate the number of "
                    "expected pods: found no controllers for pod \"lost\"");
  }));
}

}  // namespace
}  // namespace berth::controllers
