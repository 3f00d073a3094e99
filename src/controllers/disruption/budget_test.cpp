#include "controllers/disruption/budget.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace berth::controllers::disruption {
namespace {

namespace json = boost::json;

core::Result<int> noScale() { return core::Status::internal("scale must not be needed"); }

TEST(Budget, ScaledValuesRoundAsUpstream) {
  EXPECT_EQ(*scaledValue(json::value(3), 10, true), 3);
  EXPECT_EQ(*scaledValue(json::value("50%"), 5, true), 3);
  EXPECT_EQ(*scaledValue(json::value("50%"), 5, false), 2);
  EXPECT_FALSE(scaledValue(json::value("50"), 5, true).ok());
  EXPECT_FALSE(scaledValue(json::value("x%"), 5, true).ok());
}

TEST(Budget, IntMinAvailableCountsPodsWithoutAskingForScale) {
  auto e = expectation(json::parse(R"({"minAvailable":2})").as_object(), 3, noScale);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->expectedCount, 3);
  EXPECT_EQ(e->desiredHealthy, 2);
}

TEST(Budget, PercentagesAndMaxUnavailableUseTheControllersScale) {
  auto four = [] { return core::Result<int>(4); };
  auto e = expectation(json::parse(R"({"maxUnavailable":"50%"})").as_object(), 3, four);
  EXPECT_EQ(e->expectedCount, 4);
  EXPECT_EQ(e->desiredHealthy, 2);
  e = expectation(json::parse(R"({"minAvailable":"30%"})").as_object(), 3, four);
  EXPECT_EQ(e->desiredHealthy, 2);  // 1.2 rounded up
  e = expectation(json::parse(R"({"maxUnavailable":9})").as_object(), 3, four);
  EXPECT_EQ(e->desiredHealthy, 0);  // never negative
  EXPECT_FALSE(expectation(json::parse(R"({"maxUnavailable":1})").as_object(), 3, noScale).ok());
}

TEST(Budget, DisruptedPodsCountAsUnhealthyUntilTheyExpire) {
  auto t0 = parseRfc3339("2026-01-01T00:00:00Z");
  ASSERT_TRUE(t0);
  std::vector<PodState> pods{{"a", true, false}, {"b", true, false}, {"c", true, true}};
  auto dp = json::parse(R"({"a":"2026-01-01T00:00:00Z","c":"2026-01-01T00:00:00Z",
                            "gone":"2026-01-01T00:00:00Z"})")
                .as_object();
  auto kept = keptDisruptedPods(pods, &dp, *t0 + std::chrono::seconds(30));
  EXPECT_EQ(kept.entries.size(), 1u);  // c is terminating, "gone" has no pod
  EXPECT_EQ(kept.recheckAt, *t0 + kDeletionTimeout);
  EXPECT_EQ(countHealthy(pods, kept), 1);  // b only
  auto expired = keptDisruptedPods(pods, &dp, *t0 + std::chrono::seconds(121));
  EXPECT_TRUE(expired.entries.empty());
  EXPECT_EQ(countHealthy(pods, expired), 2);
}

TEST(Budget, StatusAllowsNothingWithoutExpectedPods) {
  json::object old;
  auto s = statusFor(old, 3, 2, {0, 0}, {}, "2026-01-01T00:00:00Z");
  EXPECT_EQ(s.at("disruptionsAllowed").as_int64(), 0);
  EXPECT_EQ(s.at("observedGeneration").as_int64(), 3);
  EXPECT_EQ(s.at("conditions").as_array()[0].at("reason").as_string(), "InsufficientPods");
  auto ok = statusFor(s, 3, 3, {3, 2}, {}, "2026-01-01T00:01:00Z");
  EXPECT_EQ(ok.at("disruptionsAllowed").as_int64(), 1);
  const auto& c = ok.at("conditions").as_array()[0].as_object();
  EXPECT_EQ(c.at("status").as_string(), "True");
  EXPECT_EQ(c.at("lastTransitionTime").as_string(), "2026-01-01T00:01:00Z");
  // Recomputing the same state gives the same object (no write).
  EXPECT_EQ(statusFor(ok, 3, 3, {3, 2}, {}, "2026-01-01T00:02:00Z"), ok);
  auto failed = failSafeStatus(ok, 3, "found no controllers for pod \"x\"", "2026-01-01T00:03:00Z");
  EXPECT_EQ(failed.at("disruptionsAllowed").as_int64(), 0);
  EXPECT_EQ(failed.at("conditions").as_array()[0].at("reason").as_string(), "SyncFailed");
}

TEST(Budget, SelectorPrintsAsGoPrintsALabelSelector) {
  json::value sel = json::parse(R"({"matchLabels":{"b":"2","a":"1"},
      "matchExpressions":[{"key":"tier","operator":"In","values":["x","y"]}]})");
  EXPECT_EQ(
      goSelectorString(&sel),
      "&LabelSelector{MatchLabels:map[string]string{a: 1,b: 2,},MatchExpressions:[]"
      "LabelSelectorRequirement{LabelSelectorRequirement{Key:tier,Operator:In,Values:[x y],},},}");
  EXPECT_EQ(goSelectorString(nullptr), "nil");
}

}  // namespace
}  // namespace berth::controllers::disruption
