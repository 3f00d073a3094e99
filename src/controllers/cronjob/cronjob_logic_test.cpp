// Unit tests of the CronJob controller's time arithmetic and job construction.
#include "controllers/cronjob/cronjob_logic.h"

#include <gtest/gtest.h>

#include "controllers/framework/workload_util.h"

namespace berth::controllers::cronjob {
namespace {

using core::tz::Location;

namespace json = boost::json;

json::value cronJob(const std::string& extraSpec, const std::string& status = "{}") {
  return json::parse(R"({"metadata":{"name":"cj","namespace":"ns","uid":"u",
    "creationTimestamp":"2024-01-01T00:00:00Z"},"spec":{)" +
                     extraSpec +
                     R"("schedule":"*/10 * * * *","jobTemplate":{"metadata":{"labels":{"a":"b"},
      "annotations":{"x":"y"}},"spec":{"template":{"spec":{"restartPolicy":"Never"}}}}},
      "status":)" + status +
                     "}");
}

std::int64_t t(const char* rfc) {
  return std::chrono::duration_cast<std::chrono::seconds>(parseTime(rfc)->time_since_epoch())
      .count();
}

TEST(CronJobLogicTest, MostRecentAndMissed) {
  auto sched = CronSchedule::parse("*/10 * * * *", Location::utc());
  ASSERT_TRUE(sched.ok());
  // Nothing due before the first tick after creation.
  Due d = mostRecentScheduleTime(cronJob(""), t("2024-01-01T00:05:00Z"), *sched, true);
  EXPECT_FALSE(d.mostRecent);
  // One due.
  d = mostRecentScheduleTime(cronJob(""), t("2024-01-01T00:12:00Z"), *sched, true);
  ASSERT_TRUE(d.mostRecent);
  EXPECT_EQ(*d.mostRecent, t("2024-01-01T00:10:00Z"));
  EXPECT_EQ(d.missed, 1);
  // Many missed: only the most recent is returned, the count says how many.
  d = mostRecentScheduleTime(cronJob(""), t("2024-01-02T00:05:00Z"), *sched, true);
  EXPECT_EQ(*d.mostRecent, t("2024-01-02T00:00:00Z"));
  EXPECT_EQ(d.missed, 144);
  // From lastScheduleTime, not creation.
  d = mostRecentScheduleTime(cronJob("", R"({"lastScheduleTime":"2024-01-02T00:00:00Z"})"),
                             t("2024-01-02T00:05:00Z"), *sched, true);
  EXPECT_FALSE(d.mostRecent);
  // startingDeadlineSeconds bounds how far back the search starts.
  d = mostRecentScheduleTime(cronJob(R"("startingDeadlineSeconds":300,)"),
                             t("2024-01-02T00:07:00Z"), *sched, true);
  EXPECT_FALSE(d.mostRecent);
  d = mostRecentScheduleTime(cronJob(R"("startingDeadlineSeconds":300,)"),
                             t("2024-01-02T00:03:00Z"), *sched, true);
  ASSERT_TRUE(d.mostRecent);
  EXPECT_EQ(*d.mostRecent, t("2024-01-02T00:00:00Z"));
  EXPECT_EQ(d.missed, 1);
  // Requeue: until the next tick.
  EXPECT_EQ(secondsUntilNext(cronJob(""), t("2024-01-01T00:12:00Z"), *sched), 8 * 60 + 1);
}

TEST(CronJobLogicTest, JobFromTemplate) {
  auto berlin = Location::load("Europe/Berlin");
  ASSERT_TRUE(berlin.ok());
  std::int64_t when = t("2024-01-01T10:00:00Z");
  EXPECT_EQ(jobName("cj", when), "cj-28401720");  // minutes since the epoch
  json::object job = jobFromTemplate(cronJob(""), when, *berlin);
  const json::object& meta = job["metadata"].as_object();
  EXPECT_EQ(meta.at("name"), "cj-28401720");
  EXPECT_EQ(meta.at("namespace"), "ns");
  EXPECT_EQ(meta.at("labels").at("a"), "b");
  EXPECT_EQ(meta.at("annotations").at("x"), "y");
  EXPECT_EQ(meta.at("annotations").at(kScheduledTimestampAnnotation), "2024-01-01T11:00:00+01:00");
  EXPECT_EQ(meta.at("ownerReferences").at(0).at("kind"), "CronJob");
  EXPECT_EQ(meta.at("ownerReferences").at(0).at("controller"), true);
  EXPECT_EQ(job["spec"].at("template").at("spec").at("restartPolicy"), "Never");
  EXPECT_EQ(formatInZone(when, Location::utc()), "2024-01-01T10:00:00Z");
  // Past the tz file's explicit transitions (2037) the footer rule gives daylight time.
  auto ny = Location::load("America/New_York");
  ASSERT_TRUE(ny.ok());
  EXPECT_EQ(formatInZone(t("2040-07-01T16:00:00Z"), *ny), "2040-07-01T12:00:00-04:00");
}

}  // namespace
}  // namespace berth::controllers::cronjob
