// Unit tests of Indexed Job helpers: interval strings, pending indexes, the per-index pod.
#include "controllers/job/job_indexes.h"

#include <gtest/gtest.h>

#include "controllers/framework/workload_util.h"
#include "controllers/job/job_logic.h"

namespace berth::controllers::job {
namespace {

namespace json = boost::json;
using client::ObjectPtr;

ObjectPtr podWithIndex(const std::string& ix, const std::string& phase) {
  return std::make_shared<const json::value>(
      json::parse(R"({"metadata":{"annotations":{"batch.kubernetes.io/job-completion-index":")" +
                  ix + R"("}},"status":{"phase":")" + phase + R"("}})"));
}

TEST(JobIndexesTest, IntervalsRoundTrip) {
  EXPECT_EQ(formatIndexes({0, 1, 2, 4, 6, 7}), "0-2,4,6-7");
  EXPECT_EQ(formatIndexes({}), "");
  EXPECT_EQ(parseIndexes("0-2,4,6-7", 10), (std::set<long long>{0, 1, 2, 4, 6, 7}));
  EXPECT_EQ(parseIndexes("0-2,4,6-7", 5), (std::set<long long>{0, 1, 2, 4}));
  EXPECT_EQ(parseIndexes("x,3,-1,2-", 10), (std::set<long long>{3}));
  EXPECT_TRUE(parseIndexes("", 10).empty());
}

TEST(JobIndexesTest, SucceededAndPending) {
  auto job = json::parse(R"({"spec":{"completions":5},"status":{"completedIndexes":"0"}})");
  std::vector<ObjectPtr> pods{podWithIndex("2", "Succeeded"), podWithIndex("9", "Succeeded"),
                              podWithIndex("1", "Running"), podWithIndex("01", "Succeeded")};
  auto done = succeededIndexes(job, pods);
  EXPECT_EQ(done, (std::set<long long>{0, 2}));  // 9 out of range, "01" not an index
  std::vector<ObjectPtr> active{podWithIndex("1", "Running")};
  EXPECT_EQ(pendingIndexes(5, done, active, 5), (std::vector<long long>{3, 4}));
  EXPECT_EQ(pendingIndexes(5, done, active, 1), (std::vector<long long>{3}));
}

TEST(JobIndexesTest, PodCarriesItsIndex) {
  auto job = json::parse(R"({"metadata":{"name":"ix","namespace":"d","uid":"u"},
    "spec":{"completionMode":"Indexed","completions":3,"template":{"metadata":{"labels":{"a":"b"}},
      "spec":{"containers":[{"name":"c","env":[{"name":"X","value":"1"}]}]}}}})");
  EXPECT_TRUE(isIndexed(job));
  json::object pod =
      indexedPod(podTemplateFor(job), job, 2, newControllerRef(job, "batch/v1", "Job"));
  const json::object& meta = pod["metadata"].as_object();
  EXPECT_EQ(meta.at("generateName"), "ix-2-");
  EXPECT_EQ(meta.at("annotations").at(kCompletionIndexAnnotation), "2");
  EXPECT_EQ(meta.at("labels").at(kCompletionIndexAnnotation), "2");
  EXPECT_EQ(meta.at("labels").at("a"), "b");
  EXPECT_EQ(meta.at("finalizers").at(0), kTrackingFinalizer);
  EXPECT_EQ(pod["spec"].at("hostname"), "ix-2");
  const json::array& env = pod["spec"].at("containers").at(0).at("env").as_array();
  ASSERT_EQ(env.size(), 2u);
  EXPECT_EQ(env[1].at("name"), "JOB_COMPLETION_INDEX");
  EXPECT_EQ(env[1].at("valueFrom").at("fieldRef").at("fieldPath"),
            "metadata.annotations['batch.kubernetes.io/job-completion-index']");
  EXPECT_EQ(completionIndex(json::value(pod)), 2);
}

}  // namespace
}  // namespace berth::controllers::job
