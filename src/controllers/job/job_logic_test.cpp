// Unit tests of the Job controller's pure decisions: how many pods to run, when a job fails,
// and the finalizer-based counting of finished pods.
#include "controllers/job/job_logic.h"

#include <gtest/gtest.h>

namespace berth::controllers::job {
namespace {

namespace json = boost::json;
using client::ObjectPtr;

json::value jobWith(std::string_view spec, std::string_view status = "{}") {
  return json::parse(std::string(R"({"metadata":{"name":"j","namespace":"d","uid":"ju"},"spec":)") +
                     std::string(spec) + R"(,"status":)" + std::string(status) + "}");
}

ObjectPtr pod(const std::string& uid, const std::string& phase, bool finalizer = true,
              bool deleting = false, int restarts = 0) {
  json::object meta{{"name", "p-" + uid},
                    {"namespace", "d"},
                    {"uid", uid},
                    {"creationTimestamp", "2024-01-01T00:00:0" + uid.substr(0, 1) + "Z"}};
  if (finalizer) meta["finalizers"] = json::array{kTrackingFinalizer};
  if (deleting) meta["deletionTimestamp"] = "2024-01-01T00:01:00Z";
  json::object status{{"phase", phase},
                      {"containerStatuses", json::array{{{"restartCount", restarts}}}}};
  return std::make_shared<const json::value>(
      json::object{{"metadata", meta}, {"spec", json::object{}}, {"status", status}});
}

TEST(JobLogicTest, WantActive) {
  EXPECT_EQ(wantActive(jobWith(R"({"completions":5,"parallelism":2})"), 0, 0), 2);
  EXPECT_EQ(wantActive(jobWith(R"({"completions":5,"parallelism":2})"), 2, 4), 1);
  EXPECT_EQ(wantActive(jobWith(R"({"completions":5,"parallelism":2})"), 0, 7), 0);
  // Work queue style (no completions): parallelism until the first success, then no new pods.
  EXPECT_EQ(wantActive(jobWith(R"({"parallelism":3})"), 1, 0), 3);
  EXPECT_EQ(wantActive(jobWith(R"({"parallelism":3})"), 2, 1), 2);
}

TEST(JobLogicTest, BackoffLimitAndDeadline) {
  auto now = std::chrono::system_clock::now();
  auto job = jobWith(R"({"backoffLimit":1})");
  EXPECT_FALSE(failureCondition(job, {}, 1, now));
  auto c = failureCondition(job, {}, 2, now);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->type, "FailureTarget");
  EXPECT_EQ(c->reason, "BackoffLimitExceeded");
  // OnFailure: container restarts of running pods count against the limit.
  auto onFailure =
      jobWith(R"({"backoffLimit":2,"template":{"spec":{"restartPolicy":"OnFailure"}}})");
  EXPECT_FALSE(failureCondition(onFailure, {pod("1", "Running", true, false, 1)}, 0, now));
  EXPECT_TRUE(failureCondition(onFailure, {pod("1", "Running", true, false, 2)}, 0, now));
  // Deadline counts from status.startTime; suspended jobs do not time out.
  std::string start = formatTime(now - std::chrono::seconds(10));
  auto dl = jobWith(R"({"activeDeadlineSeconds":5})", R"({"startTime":")" + start + R"("})");
  c = failureCondition(dl, {}, 0, now);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->reason, "DeadlineExceeded");
  EXPECT_FALSE(failureCondition(jobWith(R"({"activeDeadlineSeconds":5,"suspend":true})",
                                        R"({"startTime":")" + start + R"("})"),
                                {}, 0, now));
  EXPECT_FALSE(failureCondition(
      jobWith(R"({"activeDeadlineSeconds":50})", R"({"startTime":")" + start + R"("})"), {}, 0,
      now));
  // A FailureTarget already recorded turns into Failed with its reason.
  auto target = jobWith("{}", R"({"conditions":[{"type":"FailureTarget","status":"True",
      "reason":"DeadlineExceeded","message":"m"}]})");
  c = failureCondition(target, {}, 0, now);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->type, "Failed");
  EXPECT_EQ(c->reason, "DeadlineExceeded");
}

TEST(JobLogicTest, FinishedPodsAreRecordedThenCountedOnce) {
  auto job = jobWith(R"({"completions":3})", R"({"uncountedTerminatedPods":{}})");
  std::vector<ObjectPtr> pods{pod("1", "Succeeded"), pod("2", "Failed"), pod("3", "Running"),
                              pod("4", "Running", true, /*deleting=*/true),
                              pod("5", "Succeeded", /*finalizer=*/false)};
  NewFinished fresh = newFinishedPods(job, pods, {});
  EXPECT_EQ(fresh.succeeded.size(), 1u);  // 5 has no finalizer: counted before
  EXPECT_EQ(fresh.failed.size(), 2u);     // deleted before success counts as failed
  json::object status = statusOf(job);
  auto toRemove = recordUncounted(status, job, pods, {}, false, false);
  EXPECT_EQ(toRemove.size(), 3u);
  EXPECT_EQ(uncountedCount(status), 3);
  // Recording again adds nothing.
  recordUncounted(status, job, pods, {}, false, false);
  EXPECT_EQ(uncountedCount(status), 3);
  // Finalizers of 1 and 2 removed, 4's not yet: only those two move into the counters.
  EXPECT_TRUE(countUncounted(status, {"3", "4"}));
  EXPECT_EQ(status["succeeded"], 1);
  EXPECT_EQ(status["failed"], 1);
  EXPECT_EQ(uncountedCount(status), 1);
  EXPECT_FALSE(countUncounted(status, {"3", "4"}));
  EXPECT_TRUE(countUncounted(status, {"3"}));
  EXPECT_EQ(status["failed"], 2);
  EXPECT_EQ(json::serialize(status["uncountedTerminatedPods"]), "{}");
}

TEST(JobLogicTest, FailingJobCountsRunningPodsAsFailed) {
  auto job = jobWith("{}", R"({"uncountedTerminatedPods":{}})");
  std::vector<ObjectPtr> pods{pod("1", "Running")};
  json::object status = statusOf(job);
  EXPECT_TRUE(recordUncounted(status, job, pods, {}, false, false).empty());
  EXPECT_EQ(recordUncounted(status, job, pods, {}, true, true).size(), 1u);
  countUncounted(status, {});
  EXPECT_EQ(status["failed"], 1);
  // Pods whose finalizer removal is in flight are skipped.
  json::object again = statusOf(job);
  EXPECT_TRUE(recordUncounted(again, job, pods, {"1"}, true, true).empty());
}

TEST(JobLogicTest, ConditionsTransitionAndNeverAppendFalse) {
  json::object status;
  EXPECT_FALSE(ensureCondition(status, {"Suspended", "JobResumed", "Job resumed"}, "False", "t0"));
  EXPECT_FALSE(status.contains("conditions"));
  EXPECT_TRUE(
      ensureCondition(status, {"Suspended", "JobSuspended", "Job suspended"}, "True", "t1"));
  EXPECT_FALSE(
      ensureCondition(status, {"Suspended", "JobSuspended", "Job suspended"}, "True", "t2"));
  EXPECT_TRUE(ensureCondition(status, {"Suspended", "JobResumed", "Job resumed"}, "False", "t3"));
  const json::object& c = status["conditions"].as_array()[0].as_object();
  EXPECT_EQ(c.at("status"), "False");
  EXPECT_EQ(c.at("lastTransitionTime"), "t3");
  EXPECT_EQ(c.at("reason"), "JobResumed");
}

TEST(JobLogicTest, TemplateGetsTrackingFinalizerAndRemovalOrder) {
  auto job = jobWith(R"({"template":{"metadata":{"labels":{"job-name":"j"}},"spec":{}}})");
  json::object t = podTemplateFor(job);
  EXPECT_EQ(json::serialize(t["metadata"].at("finalizers")),
            R"(["batch.kubernetes.io/job-tracking"])");
  EXPECT_EQ(t["metadata"].at("labels").at("job-name"), "j");
  // Pending before running; younger first.
  auto victims = podsForRemoval({pod("1", "Running"), pod("2", "Pending"), pod("3", "Pending")}, 2);
  ASSERT_EQ(victims.size(), 2u);
  EXPECT_EQ(uidOf(*victims[0]), "3");
  EXPECT_EQ(uidOf(*victims[1]), "2");
}

}  // namespace
}  // namespace berth::controllers::job
