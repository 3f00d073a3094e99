// Unit tests of the backoff limit per index: which failures fail an index, the failure counts a
// replacement pod carries, the per-index backoff delay, and the conditions failed indexes lead to.
#include "controllers/job/index_backoff.h"

#include <gtest/gtest.h>

#include "controllers/job/job_indexes.h"

namespace berth::controllers::job {
namespace {

namespace json = boost::json;
using client::ObjectPtr;

json::value indexedJob(std::string_view extra = "", std::string_view status = "{}") {
  return json::parse(std::string(R"({"metadata":{"name":"j","namespace":"d","uid":"ju"},"spec":{
        "completionMode":"Indexed","completions":3,"parallelism":3,"backoffLimitPerIndex":1,
        "podReplacementPolicy":"Failed")") +
                     std::string(extra) + R"(},"status":)" + std::string(status) + "}");
}

// A pod of `index` in `phase` whose index failed `failures` times before it; `exitCode` (if not
// 0) is its container's, finished at `finishedAt`.
ObjectPtr pod(long long index, const std::string& phase, long long failures, int exitCode = 1,
              const std::string& finishedAt = "2024-01-01T00:00:00Z", long long ignored = 0) {
  json::object annotations{{kCompletionIndexAnnotation, std::to_string(index)},
                           {kIndexFailureCountAnnotation, std::to_string(failures)}};
  if (ignored > 0) annotations[kIndexIgnoredFailureCountAnnotation] = std::to_string(ignored);
  json::object meta{{"name", "j-" + std::to_string(index) + "-" + std::to_string(failures)},
                    {"namespace", "d"},
                    {"uid", "u" + std::to_string(index) + std::to_string(failures)},
                    {"creationTimestamp", "2023-12-31T23:59:00Z"},
                    {"annotations", annotations},
                    {"finalizers", json::array{kTrackingFinalizer}}};
  json::object status{{"phase", phase}};
  if (phase == "Failed") {
    status["containerStatuses"] = json::array{
        {{"name", "c"},
         {"state", {{"terminated", {{"exitCode", exitCode}, {"finishedAt", finishedAt}}}}}}};
  }
  return std::make_shared<const json::value>(
      json::object{{"metadata", meta}, {"spec", json::object{}}, {"status", status}});
}

TEST(IndexBackoffTest, OnlyIndexedJobsWithTheFieldUseIt) {
  EXPECT_TRUE(hasBackoffLimitPerIndex(indexedJob()));
  EXPECT_FALSE(hasBackoffLimitPerIndex(
      json::parse(R"({"spec":{"completionMode":"NonIndexed","backoffLimitPerIndex":1}})")));
  EXPECT_FALSE(hasBackoffLimitPerIndex(json::parse(R"({"spec":{"completionMode":"Indexed"}})")));
}

TEST(IndexBackoffTest, AnIndexFailsOnceItsFailuresExceedTheLimit) {
  auto job = indexedJob();
  // backoffLimitPerIndex 1: the first failure (count 0) is retried, the second (count 1) is not.
  EXPECT_FALSE(isIndexFailed(job, *pod(1, "Failed", 0)));
  EXPECT_TRUE(isIndexFailed(job, *pod(1, "Failed", 1)));
  EXPECT_FALSE(isIndexFailed(job, *pod(1, "Running", 1)));
  EXPECT_FALSE(isIndexFailed(job, *pod(1, "Succeeded", 1)));
  std::vector<ObjectPtr> pods{pod(0, "Succeeded", 0), pod(1, "Failed", 0), pod(1, "Failed", 1),
                              pod(2, "Failed", 0)};
  EXPECT_EQ(formatIndexes(failedIndexes(job, pods)), "1");
  // Recorded indexes stay failed even when their pods are gone.
  EXPECT_EQ(formatIndexes(failedIndexes(indexedJob("", R"({"failedIndexes":"0,2"})"), {})), "0,2");
}

TEST(IndexBackoffTest, PodFailurePolicyFailIndexAndIgnore) {
  auto job = indexedJob(R"(,"podFailurePolicy":{"rules":[
      {"action":"FailIndex","onExitCodes":{"operator":"In","values":[42]}},
      {"action":"Ignore","onExitCodes":{"operator":"In","values":[7]}}]})");
  EXPECT_TRUE(isIndexFailed(job, *pod(2, "Failed", 0, 42)));  // at its first failure
  EXPECT_FALSE(isIndexFailed(job, *pod(2, "Failed", 5, 7)));  // ignored failures never count
  EXPECT_FALSE(isIndexFailed(job, *pod(2, "Failed", 0, 3)));  // counted, limit not reached
  EXPECT_TRUE(isIndexFailed(job, *pod(2, "Failed", 1, 3)));

  // A replacement carries the counts of the pod it replaces, plus that pod's failure.
  json::object next;
  annotateFailureCounts(next, job, pod(2, "Failed", 0, 3).get());
  EXPECT_EQ(strAt(objAt(next, "metadata", "annotations"), kIndexFailureCountAnnotation), "1");
  EXPECT_FALSE(
      objAt(next, "metadata", "annotations").contains(kIndexIgnoredFailureCountAnnotation));
  json::object afterIgnored;
  annotateFailureCounts(afterIgnored, job, pod(2, "Failed", 1, 7, "2024-01-01T00:00:00Z", 2).get());
  const json::object& a = objAt(afterIgnored, "metadata", "annotations");
  EXPECT_EQ(strAt(a, kIndexFailureCountAnnotation), "1");
  EXPECT_EQ(strAt(a, kIndexIgnoredFailureCountAnnotation), "3");
  json::object first;
  annotateFailureCounts(first, job, nullptr);
  EXPECT_EQ(strAt(objAt(first, "metadata", "annotations"), kIndexFailureCountAnnotation), "0");
}

TEST(IndexBackoffTest, ReplacementWaitsExponentiallyFromTheLastFailure) {
  auto job = indexedJob();
  std::vector<ObjectPtr> pods{pod(1, "Failed", 0, 1, "2024-01-01T00:00:00Z"),
                              pod(1, "Failed", 2, 1, "2024-01-01T00:01:00Z"),
                              pod(0, "Failed", 5, 1, "2024-01-01T00:02:00Z")};
  ObjectPtr last = lastFailedPod(job, pods, 1);
  ASSERT_TRUE(last);
  EXPECT_EQ(indexFailureCount(*last), 2);
  EXPECT_FALSE(lastFailedPod(job, pods, 2));
  SystemTime finished = *parseTime("2024-01-01T00:01:00Z");
  EXPECT_EQ(finishedTime(*last), finished);
  // Third failure of the index: 10 s * 2^2 = 40 s after it finished.
  EXPECT_EQ(remainingBackoff(*last, finished), std::chrono::seconds(40));
  EXPECT_EQ(remainingBackoff(*last, finished + std::chrono::seconds(40)), std::chrono::seconds(0));
  // Capped at 6 minutes.
  EXPECT_EQ(remainingBackoff(*pod(0, "Failed", 20, 1, "2024-01-01T00:00:00Z"),
                             *parseTime("2024-01-01T00:00:00Z")),
            std::chrono::seconds(360));
}

TEST(IndexBackoffTest, FailedIndexesFailTheJob) {
  auto job = indexedJob();
  EXPECT_FALSE(perIndexFailureCondition(job, 0, 3));
  EXPECT_FALSE(perIndexFailureCondition(job, 1, 1));  // index 2 still to go
  auto c = perIndexFailureCondition(job, 1, 2);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->type, "FailureTarget");
  EXPECT_EQ(c->reason, "FailedIndexes");
  EXPECT_EQ(c->message, "Job has failed indexes");
  auto capped = indexedJob(R"(,"maxFailedIndexes":1)");
  EXPECT_FALSE(perIndexFailureCondition(capped, 1, 0));
  c = perIndexFailureCondition(capped, 2, 0);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->reason, "MaxFailedIndexesExceeded");
  EXPECT_EQ(c->message, "Job has exceeded the specified maximal number of failed indexes");
}

TEST(IndexBackoffTest, LastFailedPodOfAPendingIndexKeepsItsFinalizerUntilReplaced) {
  auto job = indexedJob();
  ObjectPtr older = pod(1, "Failed", 0, 1, "2024-01-01T00:00:00Z");
  ObjectPtr newer = pod(1, "Failed", 1, 1, "2024-01-01T00:01:00Z");
  ObjectPtr other = pod(2, "Failed", 0);
  std::vector<ObjectPtr> pods{older, newer, other, pod(0, "Succeeded", 0)};
  // Index 1 is settled (failed) and index 0 succeeded: only index 2's pod waits.
  EXPECT_EQ(podsWithDelayedDeletion(job, pods, {0, 1}), (std::set<std::string>{uidOf(*other)}));
  EXPECT_EQ(podsWithDelayedDeletion(job, pods, {0}),
            (std::set<std::string>{uidOf(*newer), uidOf(*other)}));
  // Once index 2 runs again, its failed pod may go.
  pods.push_back(pod(2, "Running", 1));
  EXPECT_EQ(podsWithDelayedDeletion(job, pods, {0, 1}), std::set<std::string>{});

  // A held pod is neither recorded nor released while the job runs; a finishing job takes it.
  std::set<std::string> held{uidOf(*other)};
  std::vector<ObjectPtr> failedOnly{other};
  json::object status;
  EXPECT_TRUE(recordUncounted(status, job, failedOnly, {}, false, false, true, held).empty());
  EXPECT_EQ(uncountedCount(status), 0);
  EXPECT_EQ(recordUncounted(status, job, failedOnly, {}, true, true, true, held).size(), 1u);
  EXPECT_EQ(uncountedCount(status), 1);
}

}  // namespace
}  // namespace berth::controllers::job
