#include "controllers/replicaset/replica_set_status.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace berth::controllers::replicaset {
namespace {

namespace json = boost::json;

const SystemTime kNow = *parseTime("2024-03-01T12:00:00Z");

json::value rs(long long replicas, long long minReady = 0) {
  return json::parse(R"({"metadata":{"name":"web","generation":3},
    "spec":{"replicas":)" +
                     std::to_string(replicas) + R"(,"minReadySeconds":)" +
                     std::to_string(minReady) + R"(,
      "template":{"metadata":{"labels":{"app":"web","tier":"fe"}}}},
    "status":{"replicas":0,"observedGeneration":3}})");
}

client::ObjectPtr pod(bool ready, const std::string& since, bool fullyLabeled = true) {
  json::object labels{{"app", "web"}};
  if (fullyLabeled) labels["tier"] = "fe";
  json::object p{{"metadata", {{"labels", labels}}},
                 {"status",
                  {{"phase", "Running"},
                   {"conditions", json::array{{{"type", "Ready"},
                                               {"status", ready ? "True" : "False"},
                                               {"lastTransitionTime", since}}}}}}};
  return std::make_shared<const json::value>(std::move(p));
}

TEST(ReplicaSetStatus, CountsLabeledReadyAndAvailable) {
  std::vector<client::ObjectPtr> pods = {
      pod(true, "2024-03-01T11:00:00Z"),         // available long since
      pod(true, "2024-03-01T11:59:55Z"),         // ready 5 s: not yet available at 10 s
      pod(false, "2024-03-01T11:00:00Z", false)  // not ready, missing the tier label
  };
  json::object s = calculateStatus(rs(3, 10), pods, core::Status(), kNow);
  EXPECT_EQ(intAt(s, {"replicas"}), 3);
  EXPECT_EQ(intAt(s, {"fullyLabeledReplicas"}), 2);
  EXPECT_EQ(intAt(s, {"readyReplicas"}), 2);
  EXPECT_EQ(intAt(s, {"availableReplicas"}), 1);
  // Without minReadySeconds every ready pod is available.
  s = calculateStatus(rs(3, 0), pods, core::Status(), kNow);
  EXPECT_EQ(intAt(s, {"availableReplicas"}), 2);
}

TEST(ReplicaSetStatus, ZeroCountsAreOmittedButReplicasKept) {
  json::object s = calculateStatus(rs(0), {}, core::Status(), kNow);
  EXPECT_TRUE(s.contains("replicas"));
  EXPECT_FALSE(s.contains("readyReplicas"));
  EXPECT_FALSE(s.contains("availableReplicas"));
}

TEST(ReplicaSetStatus, ReplicaFailureSetOnErrorAndClearedOnSuccess) {
  core::Status quota = core::Status::forbidden("exceeded quota: pods");
  json::object failed = calculateStatus(rs(2), {}, quota, kNow);
  ASSERT_TRUE(failed.contains("conditions"));
  const auto& c = failed.at("conditions").as_array().at(0);
  EXPECT_EQ(stringAt(c, {"type"}), "ReplicaFailure");
  EXPECT_EQ(stringAt(c, {"reason"}), "FailedCreate");
  EXPECT_EQ(stringAt(c, {"message"}), "exceeded quota: pods");

  json::value withFailure = rs(2);
  withFailure.as_object()["status"] = failed;
  json::object ok = calculateStatus(withFailure, {}, core::Status(), kNow);
  EXPECT_FALSE(ok.contains("conditions"));
}

TEST(ReplicaSetStatus, NeedsUpdateOnlyOnChange) {
  json::value r = rs(1);
  json::object same = calculateStatus(r, {}, core::Status(), kNow);
  EXPECT_FALSE(statusNeedsUpdate(r, same));
  json::object more = calculateStatus(r, {pod(true, "2024-03-01T11:00:00Z")}, core::Status(), kNow);
  EXPECT_TRUE(statusNeedsUpdate(r, more));
  // A new generation not yet observed needs a write even with equal counts.
  r.as_object()["metadata"].as_object()["generation"] = 4;
  EXPECT_TRUE(statusNeedsUpdate(r, same));
}

}  // namespace
}  // namespace berth::controllers::replicaset
