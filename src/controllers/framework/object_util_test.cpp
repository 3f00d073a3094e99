#include "controllers/framework/object_util.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "controllers/framework/controller_ref_manager.h"
#include "controllers/framework/pod_util.h"
#include "controllers/framework/template_hash.h"

namespace berth::controllers {
namespace {

namespace json = boost::json;

TEST(ObjectUtil, ParseTimeForms) {
  auto z = parseTime("2024-03-01T12:00:00Z");
  ASSERT_TRUE(z);
  EXPECT_EQ(formatTime(*z), "2024-03-01T12:00:00Z");
  auto frac = parseTime("2024-03-01T12:00:00.250000Z");
  ASSERT_TRUE(frac);
  EXPECT_EQ(*frac - *z, std::chrono::milliseconds(250));
  auto off = parseTime("2024-03-01T14:00:00+02:00");
  ASSERT_TRUE(off);
  EXPECT_EQ(*off, *z);
  EXPECT_FALSE(parseTime(""));
  EXPECT_FALSE(parseTime("2024-03-01 12:00:00"));
  EXPECT_FALSE(parseTime("2024-03-01T12:00:00Zjunk"));
}

TEST(ObjectUtil, ControllerOfReadsOnlyTheController) {
  json::value pod = json::parse(R"({"metadata":{"ownerReferences":[
      {"apiVersion":"v1","kind":"Node","name":"n","uid":"1"},
      {"apiVersion":"apps/v1","kind":"ReplicaSet","name":"rs","uid":"2","controller":true}]}})");
  auto ref = controllerOf(pod);
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->kind, "ReplicaSet");
  EXPECT_EQ(ref->uid, "2");
  EXPECT_FALSE(controllerOf(json::parse(R"({"metadata":{}})")));
}

TEST(ObjectUtil, CanonicalJsonSortsKeys) {
  EXPECT_EQ(canonicalJson(json::parse(R"({"b":1,"a":{"d":[2,{"y":1,"x":0}],"c":"s"}})")),
            R"({"a":{"c":"s","d":[2,{"x":0,"y":1}]},"b":1})");
}

// The server may write an object's keys in another order after an update than after its create;
// a hash that followed the order gave one StatefulSet two revisions for one template (a
// flaky rolling update), so equal templates must hash equal whatever their order.
TEST(ObjectUtil, TemplateHashIgnoresKeyOrder) {
  json::value a = json::parse(
      R"({"metadata":{"labels":{"app":"web","tier":"x"}},"spec":{"containers":[{"name":"c","image":"i"}]}})");
  json::value b = json::parse(
      R"({"spec":{"containers":[{"image":"i","name":"c"}]},"metadata":{"labels":{"tier":"x","app":"web"}}})");
  EXPECT_EQ(computeHash(a, std::nullopt), computeHash(b, std::nullopt));
  EXPECT_EQ(computeHash(a, 3), computeHash(b, 3));
  EXPECT_NE(computeHash(a, std::nullopt), computeHash(a, 0));
  json::value c = json::parse(
      R"({"metadata":{"labels":{"app":"web","tier":"x"}},"spec":{"containers":[{"name":"c","image":"j"}]}})");
  EXPECT_NE(computeHash(a, std::nullopt), computeHash(c, std::nullopt));
}

TEST(ControllerRefManager, PatchBodiesCarryTheUidPrecondition) {
  json::value owner = json::parse(R"({"metadata":{"name":"web","uid":"o-1"}})");
  json::value adopt = json::parse(
      ControllerRefManager::adoptPatch(newControllerRef(owner, "apps/v1", "ReplicaSet"), "p-1"));
  EXPECT_EQ(adopt.at("metadata").at("uid"), "p-1");
  const auto& ref = adopt.at("metadata").at("ownerReferences").at(0);
  EXPECT_EQ(ref.at("uid"), "o-1");
  EXPECT_EQ(ref.at("controller"), true);
  EXPECT_EQ(ref.at("blockOwnerDeletion"), true);
  json::value release = json::parse(ControllerRefManager::releasePatch("o-1", "p-1"));
  EXPECT_EQ(release.at("metadata").at("ownerReferences").at(0).at("$patch"), "delete");
  EXPECT_EQ(release.at("metadata").at("ownerReferences").at(0).at("uid"), "o-1");
}

TEST(ControllerRefManager, JobFinalizerComesWithAdoptionAndGoesWithRelease) {
  json::value owner = json::parse(R"({"metadata":{"name":"pi","uid":"j-1"}})");
  const std::vector<std::string> finalizers{"batch.kubernetes.io/job-tracking"};
  json::value adopt = json::parse(ControllerRefManager::adoptPatch(
      newControllerRef(owner, "batch/v1", "Job"), "p-1", finalizers));
  EXPECT_EQ(adopt.at("metadata").at("finalizers"), json::array{"batch.kubernetes.io/job-tracking"});
  json::value release = json::parse(ControllerRefManager::releasePatch("j-1", "p-1", finalizers));
  EXPECT_EQ(release.at("metadata").at("$deleteFromPrimitiveList/finalizers"),
            json::array{"batch.kubernetes.io/job-tracking"});
  EXPECT_FALSE(json::parse(ControllerRefManager::releasePatch("j-1", "p-1"))
                   .at("metadata")
                   .as_object()
                   .contains("$deleteFromPrimitiveList/finalizers"));
}

TEST(PodUtil, ActiveReadyAvailable) {
  auto now = *parseTime("2024-03-01T12:00:00Z");
  json::value pod = json::parse(R"({"metadata":{},"status":{"phase":"Running","conditions":[
      {"type":"Ready","status":"True","lastTransitionTime":"2024-03-01T11:59:50Z"}]}})");
  EXPECT_TRUE(isPodActive(pod));
  EXPECT_TRUE(isPodReady(pod));
  EXPECT_TRUE(isPodAvailable(pod, 0, now));
  EXPECT_TRUE(isPodAvailable(pod, 9, now));
  EXPECT_FALSE(isPodAvailable(pod, 10, now));  // exactly minReadySeconds: not yet (strict)
  pod.as_object()["metadata"].as_object()["deletionTimestamp"] = "2024-03-01T12:00:00Z";
  EXPECT_FALSE(isPodActive(pod));
  EXPECT_FALSE(isPodActive(json::parse(R"({"status":{"phase":"Succeeded"}})")));
}

}  // namespace
}  // namespace berth::controllers

#include "controllers/framework/guarded_sync.h"

namespace berth::controllers {
namespace {

TEST(GuardedSync, AnExceptionBecomesARetryableError) {
  core::Status st = guardedSync([]() -> core::Status {
    (void)boost::json::value(1).as_string();  // throws: not a string
    return core::Status();
  });
  EXPECT_EQ(st.code(), 500);
  EXPECT_TRUE(st.message().starts_with("sync failed: ")) << st.message();
  EXPECT_TRUE(guardedSync([] { return core::Status(); }).ok());
}

}  // namespace
}  // namespace berth::controllers
