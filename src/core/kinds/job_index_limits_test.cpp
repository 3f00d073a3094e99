// Job spec.backoffLimitPerIndex / maxFailedIndexes validation and defaulting: field paths,
// reasons and messages as upstream's validateJobSpec words them.
#include "core/kinds/test_util.h"

namespace berth::core::kinds {
namespace {

using namespace testing;

json::object jobWithSpec(const std::string& spec) {
  return json::parse(R"({"metadata":{"name":"ix","namespace":"default","uid":"1"},
      "spec":{)" + spec +
                     R"(
        "template":{"spec":{"restartPolicy":"Never",
          "containers":[{"name":"main","image":"i"}]}}}})")
      .as_object();
}

TEST(JobIndexLimits, PerIndexBackoffIsValidForIndexedJobsAndLiftsTheGlobalLimit) {
  const auto& rt = resource("batch", "v1", "jobs");
  auto job = jobWithSpec(
      R"("completionMode":"Indexed","completions":3,"backoffLimitPerIndex":1,
         "maxFailedIndexes":3,)");
  EXPECT_VALID(create(rt, job));
  EXPECT_EQ(at(job, "spec.backoffLimit"), json::value(2147483647));
  // Upstream's largest valid shapes: 10^5 completions with 10^5 failed indexes, and beyond the
  // soft limit with parallelism and maxFailedIndexes at 10^4.
  auto big = jobWithSpec(R"("completionMode":"Indexed","completions":100000,
      "parallelism":100000,"backoffLimitPerIndex":1,"maxFailedIndexes":100000,)");
  EXPECT_VALID(create(rt, big));
  auto huge = jobWithSpec(R"("completionMode":"Indexed","completions":1000000000,
      "parallelism":10000,"backoffLimitPerIndex":1,"maxFailedIndexes":10000,)");
  EXPECT_VALID(create(rt, huge));
  auto plain = jobWithSpec("");
  EXPECT_VALID(create(rt, plain));
  EXPECT_EQ(at(plain, "spec.backoffLimit"), json::value(6));
}

TEST(JobIndexLimits, RejectsWhatUpstreamRejects) {
  const auto& rt = resource("batch", "v1", "jobs");
  auto nonIndexed = jobWithSpec(R"("backoffLimitPerIndex":1,"maxFailedIndexes":1,)");
  auto errs = create(rt, nonIndexed);
  EXPECT_CAUSE(errs, "spec.backoffLimitPerIndex", "FieldValueInvalid",
               "Invalid value: 1: requires indexed completion mode");
  EXPECT_CAUSE(errs, "spec.maxFailedIndexes", "FieldValueInvalid",
               "Invalid value: 1: requires indexed completion mode");

  auto negative = jobWithSpec(
      R"("completionMode":"Indexed","completions":3,"backoffLimitPerIndex":-1,
         "maxFailedIndexes":-2,)");
  errs = create(rt, negative);
  EXPECT_CAUSE(errs, "spec.backoffLimitPerIndex", "FieldValueInvalid",
               "Invalid value: -1: must be greater than or equal to 0");
  EXPECT_CAUSE(errs, "spec.maxFailedIndexes", "FieldValueInvalid",
               "Invalid value: -2: must be greater than or equal to 0");

  auto noPerIndex = jobWithSpec(R"("completionMode":"Indexed","completions":3,
      "maxFailedIndexes":1,)");
  EXPECT_CAUSE(create(rt, noPerIndex), "spec.backoffLimitPerIndex", "FieldValueRequired",
               "Required value: when maxFailedIndexes is specified");

  auto tooMany = jobWithSpec(R"("completionMode":"Indexed","completions":10,
      "backoffLimitPerIndex":1,"maxFailedIndexes":11,)");
  EXPECT_CAUSE(create(rt, tooMany), "spec.maxFailedIndexes", "FieldValueInvalid",
               "Invalid value: 11: must be less than or equal to completions");

  auto high = jobWithSpec(R"("completionMode":"Indexed","completions":100001,
      "parallelism":50000,"backoffLimitPerIndex":1,"maxFailedIndexes":100001,)");
  errs = create(rt, high);
  EXPECT_CAUSE(errs, "spec.maxFailedIndexes", "FieldValueInvalid",
               "Invalid value: 100001: must be less than or equal to 100000");
  EXPECT_CAUSE(errs, "spec.maxFailedIndexes", "FieldValueInvalid",
               "Invalid value: 100001: must be less than or equal to 10000 when completions are "
               "above 100000 and used with backoff limit per index");
  EXPECT_CAUSE(errs, "spec.parallelism", "FieldValueInvalid",
               "Invalid value: 50000: must be less than or equal to 10000 when completions are "
               "above 100000 and used with backoff limit per index");

  auto unbounded = jobWithSpec(R"("completionMode":"Indexed","completions":100001,
      "backoffLimitPerIndex":1,)");
  EXPECT_CAUSE(create(rt, unbounded), "spec.maxFailedIndexes", "FieldValueRequired",
               "Required value: must be specified when completions is above 100000");

  auto wide = jobWithSpec(R"("completionMode":"Indexed","completions":3,"parallelism":100001,)");
  EXPECT_CAUSE(create(rt, wide), "spec.parallelism", "FieldValueInvalid",
               "Invalid value: 100001: must be less than or equal to 100000 when completion mode "
               "is Indexed");
}

TEST(JobIndexLimits, BackoffLimitPerIndexIsImmutableButMaxFailedIndexesIsNot) {
  const auto& rt = resource("batch", "v1", "jobs");
  auto old = jobWithSpec(R"("completionMode":"Indexed","completions":3,"backoffLimitPerIndex":1,
      "maxFailedIndexes":1,)");
  ASSERT_TRUE(create(rt, old).empty());
  auto raised = old;
  raised["spec"].as_object()["maxFailedIndexes"] = 2;
  EXPECT_VALID(update(rt, raised, old));
  auto changed = old;
  changed["spec"].as_object()["backoffLimitPerIndex"] = 2;
  EXPECT_CAUSE(update(rt, changed, old), "spec.backoffLimitPerIndex", "FieldValueInvalid", "");
}

}  // namespace
}  // namespace berth::core::kinds
