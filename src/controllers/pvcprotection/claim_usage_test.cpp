#include "controllers/pvcprotection/claim_usage.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "controllers/framework/finalizer_util.h"

namespace berth::controllers::pvcprotection {
namespace {

namespace json = boost::json;

json::value claim(const std::string& name, const std::string& ownerUid = "") {
  json::object meta{{"name", name}, {"namespace", "d"}};
  if (!ownerUid.empty())
    meta["ownerReferences"] = json::array{json::object{{"apiVersion", "v1"},
                                                       {"kind", "Pod"},
                                                       {"name", "p"},
                                                       {"uid", ownerUid},
                                                       {"controller", true}}};
  return json::object{{"metadata", meta}};
}

json::value pod(const std::string& extraStatus = "", const std::string& extraMeta = "",
                const std::string& node = "n1") {
  return json::parse(R"({"metadata":{"name":"p","namespace":"d","uid":"u1")" + extraMeta +
                     R"(},"spec":{"nodeName":")" + node + R"(","volumes":[
      {"name":"data","persistentVolumeClaim":{"claimName":"c"}},
      {"name":"scratch","ephemeral":{"volumeClaimTemplate":{"spec":{}}}},
      {"name":"tmp","emptyDir":{}}]},"status":{"phase":"Running")" +
                     extraStatus + "}}");
}

TEST(ClaimUsage, ClaimNamesIncludeGenericEphemeralVolumes) {
  EXPECT_EQ(claimNamesOf(pod()), (std::vector<std::string>{"c", "p-scratch"}));
  EXPECT_TRUE(claimNamesOf(json::parse(R"({"metadata":{"name":"x"}})")).empty());
}

TEST(ClaimUsage, ScheduledRunningPodHoldsItsClaims) {
  EXPECT_TRUE(podUsesClaim(pod(), claim("c")));
  EXPECT_FALSE(podUsesClaim(pod(), claim("other")));
  // An ephemeral claim counts only when this pod controls it.
  EXPECT_TRUE(podUsesClaim(pod(), claim("p-scratch", "u1")));
  EXPECT_FALSE(podUsesClaim(pod(), claim("p-scratch", "someone-else")));
  EXPECT_FALSE(podUsesClaim(pod(), claim("p-scratch")));
}

TEST(ClaimUsage, UnscheduledOrTerminatedPodsDoNotHoldClaims) {
  EXPECT_FALSE(podUsesClaim(pod("", "", ""), claim("c")));
  auto succeeded = pod();
  succeeded.as_object()["status"].as_object()["phase"] = "Succeeded";
  EXPECT_TRUE(podIsTerminated(succeeded));
  EXPECT_FALSE(podUsesClaim(succeeded, claim("c")));
  auto failed = pod();
  failed.as_object()["status"].as_object()["phase"] = "Failed";
  EXPECT_FALSE(podUsesClaim(failed, claim("c")));
  EXPECT_FALSE(podUsesClaim(failed, claim("p-scratch", "u1")));

  // Being deleted: still holds the claim while a container runs, not once all have stopped.
  const std::string deleting = R"(,"deletionTimestamp":"2026-01-01T00:00:00Z")";
  auto stopping = pod(R"(,"containerStatuses":[{"name":"a","state":{"running":{}}}])", deleting);
  EXPECT_FALSE(podIsTerminated(stopping));
  EXPECT_TRUE(podUsesClaim(stopping, claim("c")));
  auto stopped =
      pod(R"(,"containerStatuses":[{"name":"a","state":{"terminated":{"exitCode":0}}}])", deleting);
  EXPECT_TRUE(podIsTerminated(stopped));
  EXPECT_FALSE(podUsesClaim(stopped, claim("c")));
}

TEST(ClaimUsage, ShutDownPodReleasesEphemeralClaims) {
  auto gone = pod(R"(,"containerStatuses":[{"name":"a","state":{"running":{}}}])",
                  R"(,"deletionTimestamp":"2026-01-01T00:00:00Z","deletionGracePeriodSeconds":0)");
  EXPECT_TRUE(podIsShutDown(gone));
  EXPECT_FALSE(podUsesClaim(gone, claim("p-scratch", "u1")));
  EXPECT_TRUE(podUsesClaim(gone, claim("c")));  // direct claims wait for the pod to go
  EXPECT_FALSE(podIsShutDown(pod()));
}

TEST(ClaimUsage, WhichPodEventsMayReleaseClaims) {
  EXPECT_FALSE(podEventMayReleaseClaims(pod(), false));
  EXPECT_TRUE(podEventMayReleaseClaims(pod(), true));
  EXPECT_TRUE(podEventMayReleaseClaims(pod("", "", ""), false));
  auto done = pod();
  done.as_object()["status"].as_object()["phase"] = "Succeeded";
  EXPECT_TRUE(podEventMayReleaseClaims(done, false));
}

TEST(FinalizerUtil, AddRemoveAndDecide) {
  auto c = claim("c");
  EXPECT_TRUE(needToAddFinalizer(c, kFinalizer));
  EXPECT_FALSE(isDeletionCandidate(c, kFinalizer));
  auto with = withFinalizer(c, kFinalizer);
  EXPECT_TRUE(hasFinalizer(with, kFinalizer));
  EXPECT_EQ(withFinalizer(with, kFinalizer), with);  // added once
  EXPECT_FALSE(needToAddFinalizer(with, kFinalizer));
  with.as_object()["metadata"].as_object()["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  with.as_object()["metadata"].as_object()["finalizers"].as_array().emplace_back("x/keep");
  EXPECT_TRUE(isDeletionCandidate(with, kFinalizer));
  auto without = withoutFinalizer(with, kFinalizer);
  EXPECT_FALSE(isDeletionCandidate(without, kFinalizer));
  EXPECT_FALSE(needToAddFinalizer(without, kFinalizer));  // being deleted: never re-added
  EXPECT_EQ(without.at("metadata").at("finalizers"), json::parse(R"(["x/keep"])"));
}

}  // namespace
}  // namespace berth::controllers::pvcprotection
