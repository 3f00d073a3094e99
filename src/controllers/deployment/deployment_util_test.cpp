#include "controllers/deployment/deployment_util.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace berth::controllers::deployment {
namespace {

namespace json = boost::json;

const SystemTime kNow = *parseTime("2024-03-01T12:00:00Z");

json::value deploymentWith(long long replicas, json::value surge, json::value unavailable,
                           std::string type = "RollingUpdate") {
  json::object strategy{{"type", type}};
  if (type == "RollingUpdate")
    strategy["rollingUpdate"] = {{"maxSurge", surge}, {"maxUnavailable", unavailable}};
  return json::object{
      {"metadata", {{"name", "web"}, {"namespace", "ns"}, {"uid", "d-uid"}, {"generation", 2}}},
      {"spec",
       {{"replicas", replicas},
        {"strategy", strategy},
        {"progressDeadlineSeconds", 600},
        {"revisionHistoryLimit", 10},
        {"template",
         {{"metadata", {{"labels", {{"app", "web"}}}}},
          {"spec", {{"containers", json::array{{{"name", "c"}, {"image", "v1"}}}}}}}}}},
      {"status", json::object{}}};
}

client::ObjectPtr replicaSet(const std::string& name, long long replicas, long long available,
                             json::object annotations = {},
                             const std::string& created = "2024-03-01T10:00:00Z") {
  return std::make_shared<const json::value>(json::object{
      {"metadata",
       {{"name", name},
        {"uid", "uid-" + name},
        {"creationTimestamp", created},
        {"annotations", annotations}}},
      {"spec", {{"replicas", replicas}}},
      {"status",
       {{"replicas", replicas}, {"readyReplicas", available}, {"availableReplicas", available}}}});
}

// ---- fenceposts ----

TEST(Fenceposts, PercentagesRoundSurgeUpAndUnavailableDown) {
  json::value surge("25%"), unavailable("25%");
  auto f = resolveFenceposts(&surge, &unavailable, 10);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->first, 3);   // ceil(2.5)
  EXPECT_EQ(f->second, 2);  // floor(2.5)
  f = resolveFenceposts(&surge, &unavailable, 1);
  EXPECT_EQ(*f, (std::pair<long long, long long>{1, 0}));
}

TEST(Fenceposts, BothZeroAllowsOneUnavailable) {
  json::value surge("0%"), unavailable("1%");
  auto f = resolveFenceposts(&surge, &unavailable, 2);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, (std::pair<long long, long long>{0, 1}));
}

TEST(Fenceposts, IntsPassThroughAndGarbageIsAnError) {
  json::value surge(3), unavailable(2), bad("ten");
  EXPECT_EQ(*resolveFenceposts(&surge, &unavailable, 10), (std::pair<long long, long long>{3, 2}));
  EXPECT_FALSE(resolveFenceposts(&bad, &unavailable, 10).ok());
  EXPECT_FALSE(scaledValue(&bad, 10, true).ok());
}

TEST(Fenceposts, MaxUnavailableIsCappedAndZeroForRecreate) {
  EXPECT_EQ(maxUnavailable(deploymentWith(2, 1, 5)), 2);
  EXPECT_EQ(maxUnavailable(deploymentWith(0, 1, 5)), 0);
  EXPECT_EQ(maxUnavailable(deploymentWith(3, 0, 0, "Recreate")), 0);
  EXPECT_EQ(maxSurge(deploymentWith(3, 0, 0, "Recreate")), 0);
  EXPECT_EQ(maxSurge(deploymentWith(10, "25%", "25%")), 3);
}

// ---- sizing ----

TEST(NewReplicas, SurgesUpToTheLimit) {
  json::value d = deploymentWith(10, 3, 2);
  auto old = replicaSet("old", 10, 10), fresh = replicaSet("new", 0, 0);
  EXPECT_EQ(*newRSNewReplicas(d, {old, fresh}, *fresh), 3);  // 13 - 10
  auto old8 = replicaSet("old", 8, 8), new5 = replicaSet("new", 5, 0);
  EXPECT_EQ(*newRSNewReplicas(d, {old8, new5}, *new5), 5);  // at 13 already: no room
  auto old1 = replicaSet("old", 1, 1), new9 = replicaSet("new", 9, 9);
  EXPECT_EQ(*newRSNewReplicas(d, {old1, new9}, *new9), 10);  // never above spec.replicas
  EXPECT_EQ(*newRSNewReplicas(deploymentWith(4, 0, 0, "Recreate"), {fresh}, *fresh), 4);
}

TEST(Proportion, ScalingMidRolloutSplitsBySize) {
  // 10 replicas, surge 3: old 8 + new 5 = 13 (max-replicas 13). Scale to 15: 18 allowed, 5 more.
  json::value d = deploymentWith(15, 3, 2);
  auto old = replicaSet("old", 8, 8, {{"deployment.kubernetes.io/max-replicas", "13"}});
  auto fresh = replicaSet("new", 5, 0, {{"deployment.kubernetes.io/max-replicas", "13"}});
  long long a = getProportion(*old, d, 5, 0);
  EXPECT_EQ(a, 3);  // round(8*18/13) - 8
  long long b = getProportion(*fresh, d, 5, a);
  EXPECT_EQ(b, 2);  // round(5*18/13) - 5, within what is left
  // Scaling down to 5 (8 allowed): its share is round(8*8/13) - 8, never more than asked.
  json::value small = deploymentWith(5, 3, 2);
  EXPECT_EQ(getProportion(*old, small, -5, 0), -3);
  EXPECT_EQ(getProportion(*old, small, -2, 0), -2);
}

TEST(Proportion, ScalingToZeroTakesEverything) {
  json::value d = deploymentWith(0, 3, 2);
  auto rs = replicaSet("old", 4, 4);
  EXPECT_EQ(getProportion(*rs, d, -7, 0), -4);
}

TEST(Sizing, SaturatedNeedsSizeAnnotationAndAvailability) {
  json::value d = deploymentWith(3, 1, 1);
  EXPECT_TRUE(
      isSaturated(d, replicaSet("n", 3, 3, {{"deployment.kubernetes.io/desired-replicas", "3"}})));
  EXPECT_FALSE(
      isSaturated(d, replicaSet("n", 3, 2, {{"deployment.kubernetes.io/desired-replicas", "3"}})));
  EXPECT_FALSE(isSaturated(d, replicaSet("n", 3, 3)));
}

TEST(Sizing, ActiveOrLatest) {
  auto a = replicaSet("a", 0, 0, {}, "2024-03-01T09:00:00Z");
  auto b = replicaSet("b", 0, 0, {}, "2024-03-01T10:00:00Z");
  auto c = replicaSet("c", 2, 2, {}, "2024-03-01T08:00:00Z");
  EXPECT_EQ(findActiveOrLatest(nullptr, {a, b}), b);  // none active: the newest
  EXPECT_EQ(findActiveOrLatest(nullptr, {a, c}), c);  // the one active
  EXPECT_EQ(findActiveOrLatest(replicaSet("n", 1, 1), {c}), nullptr);
}

// ---- templates and hash ----

TEST(TemplateHash, StableAcrossKeyOrderAndBuilds) {
  json::value t1 = json::parse(R"({"metadata":{"labels":{"app":"web"}},
      "spec":{"containers":[{"name":"c","image":"nginx:1.25"}],"restartPolicy":"Always"}})");
  json::value t2 = json::parse(R"({"spec":{"restartPolicy":"Always",
      "containers":[{"image":"nginx:1.25","name":"c"}]},"metadata":{"labels":{"app":"web"}}})");
  EXPECT_EQ(computeHash(t1, std::nullopt), computeHash(t2, std::nullopt));
  // Pinned: a change here renames every Deployment's ReplicaSet (and rolls it) on upgrade.
  EXPECT_EQ(computeHash(t1, std::nullopt), "675f9499cd");
  for (char c : computeHash(t1, 7))
    EXPECT_NE(std::string_view("bcdfghjklmnpqrstvwxz2456789").find(c), std::string::npos);
}

TEST(TemplateHash, ChangesWithTemplateAndCollisionCount) {
  json::value t1 = json::parse(R"({"spec":{"containers":[{"name":"c","image":"nginx:1.25"}]}})");
  json::value t2 = json::parse(R"({"spec":{"containers":[{"name":"c","image":"nginx:1.26"}]}})");
  EXPECT_NE(computeHash(t1, std::nullopt), computeHash(t2, std::nullopt));
  EXPECT_NE(computeHash(t1, std::nullopt), computeHash(t1, 0));
  EXPECT_NE(computeHash(t1, 1), computeHash(t1, 2));
}

TEST(TemplateHash, EqualIgnoreHash) {
  json::value d = json::parse(R"({"metadata":{"labels":{"app":"web"}},"spec":{"x":1}})");
  json::value rs = json::parse(
      R"({"metadata":{"labels":{"pod-template-hash":"abc","app":"web"}},"spec":{"x":1}})");
  json::value other = json::parse(R"({"metadata":{"labels":{"app":"web"}},"spec":{"x":2}})");
  EXPECT_TRUE(equalIgnoreHash(d, rs));
  EXPECT_FALSE(equalIgnoreHash(other, rs));
  // Only the hash label in one and no labels in the other: equal (nil and empty maps).
  EXPECT_TRUE(equalIgnoreHash(json::parse(R"({"metadata":{"labels":{"pod-template-hash":"a"}}})"),
                              json::parse(R"({"metadata":{}})")));
}

// ---- annotations ----

TEST(Annotations, NewReplicaSetGetsRevisionSizesAndCopies) {
  json::value d = deploymentWith(4, 1, 0);
  d.as_object()["metadata"].as_object()["annotations"] = {
      {"kubernetes.io/change-cause", "set image"},
      {"deployment.kubernetes.io/revision", "9"},
      {"kubectl.kubernetes.io/last-applied-configuration", "{}"}};
  json::object rs{{"metadata", json::object{}}};
  EXPECT_TRUE(setNewReplicaSetAnnotations(d, rs, 3, false));
  const json::object& ann = rs["metadata"].as_object()["annotations"].as_object();
  EXPECT_EQ(ann.at("deployment.kubernetes.io/revision"), "3");
  EXPECT_EQ(ann.at("deployment.kubernetes.io/desired-replicas"), "4");
  EXPECT_EQ(ann.at("deployment.kubernetes.io/max-replicas"), "5");
  EXPECT_EQ(ann.at("kubernetes.io/change-cause"), "set image");
  EXPECT_FALSE(ann.contains("kubectl.kubernetes.io/last-applied-configuration"));
  EXPECT_FALSE(setNewReplicaSetAnnotations(d, rs, 3, true));  // nothing left to change
}

TEST(Annotations, RollbackKeepsRevisionHistory) {
  json::value d = deploymentWith(1, 1, 0);
  json::object rs{{"metadata", {{"annotations", {{"deployment.kubernetes.io/revision", "1"}}}}}};
  EXPECT_TRUE(setNewReplicaSetAnnotations(d, rs, 3, true));
  EXPECT_TRUE(setNewReplicaSetAnnotations(d, rs, 5, true));
  const json::object& ann = rs["metadata"].as_object()["annotations"].as_object();
  EXPECT_EQ(ann.at("deployment.kubernetes.io/revision"), "5");
  EXPECT_EQ(ann.at("deployment.kubernetes.io/revision-history"), "1,3");
  // A lower revision never replaces a higher one.
  EXPECT_FALSE(setNewReplicaSetAnnotations(d, rs, 4, true));
}

TEST(Annotations, RevisionsAndOrder) {
  auto r1 = replicaSet("a", 0, 0, {{"deployment.kubernetes.io/revision", "2"}});
  auto r2 = replicaSet("b", 0, 0, {{"deployment.kubernetes.io/revision", "10"}});
  auto bad = replicaSet("c", 0, 0, {{"deployment.kubernetes.io/revision", "x"}});
  EXPECT_EQ(maxRevision({r1, r2, bad}), 10);
  RSList l = {r2, r1};
  sortByRevision(l);
  EXPECT_EQ(l.front(), r1);
}

// ---- conditions and status ----

TEST(Conditions, SameStatusAndReasonIsANoOpAndTransitionTimeSticks) {
  json::object status;
  SystemTime t0 = kNow - std::chrono::hours(1);
  setCondition(status, newCondition("Progressing", "True", "A", "m", t0));
  setCondition(status, newCondition("Progressing", "True", "A", "other", kNow));
  EXPECT_EQ(stringAt(*getCondition(status, "Progressing"), {"message"}), "m");
  setCondition(status, newCondition("Progressing", "True", "B", "m2", kNow));
  const json::object* c = getCondition(status, "Progressing");
  EXPECT_EQ(stringAt(*c, {"reason"}), "B");
  EXPECT_EQ(stringAt(*c, {"lastTransitionTime"}), formatTime(t0));
  EXPECT_EQ(stringAt(*c, {"lastUpdateTime"}), formatTime(kNow));
  setCondition(status, newCondition("Progressing", "False", "C", "m3", kNow));
  EXPECT_EQ(stringAt(*getCondition(status, "Progressing"), {"lastTransitionTime"}),
            formatTime(kNow));
  removeCondition(status, "Progressing");
  EXPECT_EQ(getCondition(status, "Progressing"), nullptr);
}

TEST(Conditions, TimedOutAfterTheDeadlineUnlessComplete) {
  json::value d = deploymentWith(1, 1, 0);
  json::object status;
  setCondition(status, newCondition("Progressing", "True", kReplicaSetUpdatedReason, "m",
                                    kNow - std::chrono::seconds(601)));
  EXPECT_TRUE(deploymentTimedOut(d, status, kNow));
  EXPECT_FALSE(deploymentTimedOut(d, status, kNow - std::chrono::seconds(10)));
  json::object done;
  setCondition(done, newCondition("Progressing", "True", kNewRSAvailableReason, "m",
                                  kNow - std::chrono::hours(5)));
  EXPECT_FALSE(deploymentTimedOut(d, done, kNow));
}

TEST(Status, CountsAndAvailableCondition) {
  json::value d = deploymentWith(4, 1, 1);  // minAvailable 3
  auto old = replicaSet("old", 1, 1), fresh = replicaSet("new", 3, 2);
  json::object s = calculateStatus({old, fresh}, fresh, d, kNow);
  EXPECT_EQ(intAt(s, {"replicas"}), 4);
  EXPECT_EQ(intAt(s, {"updatedReplicas"}), 3);
  EXPECT_EQ(intAt(s, {"availableReplicas"}), 3);
  EXPECT_EQ(intAt(s, {"unavailableReplicas"}), 1);
  EXPECT_EQ(intAt(s, {"observedGeneration"}), 2);
  EXPECT_EQ(stringAt(*getCondition(s, "Available"), {"reason"}), kMinimumReplicasAvailable);
  auto worse = replicaSet("new", 3, 1);
  s = calculateStatus({old, worse}, worse, d, kNow);
  EXPECT_EQ(stringAt(*getCondition(s, "Available"), {"status"}), "False");
  EXPECT_FALSE(deploymentComplete(d, s));
  auto done = replicaSet("new", 4, 4);
  s = calculateStatus({done}, done, d, kNow);
  EXPECT_TRUE(deploymentComplete(d, s));
}

}  // namespace
}  // namespace berth::controllers::deployment
