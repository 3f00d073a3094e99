// The CronJob controller against the real server. A schedule that fires every minute would make
// the test wait; instead the test moves status.lastScheduleTime back (through the status
// subresource), which makes earlier ticks due at once, as after a controller outage.
#include <gtest/gtest.h>

#include "client/testing_server.h"
#include "controllers/framework/workload_util.h"

namespace berth::controllers {
namespace {

namespace json = boost::json;
using client::testing::eventually;
using client::testing::TestServer;

const client::Resource kCronJobs{"batch", "v1", "cronjobs", true};
const client::Resource kJobs{"batch", "v1", "jobs", true};
const client::Resource kEvents{"", "v1", "events", true};

json::value cronJob(const std::string& name, const std::string& extraSpec) {
  return json::parse(R"({"apiVersion":"batch/v1","kind":"CronJob",
    "metadata":{"name":")" +
                     name + R"(","namespace":"default"},
    "spec":{)" + extraSpec +
                     R"("schedule":"* * * * *","jobTemplate":{"spec":{"template":{"spec":{
      "restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}}})");
}

std::vector<json::value> jobsOf(client::RestClient& c, const std::string& cj) {
  std::vector<json::value> out;
  auto r = c.list(kJobs, "default");
  if (!r.ok()) return out;
  for (auto& j : r->at("items").as_array()) {
    const json::object* ref = controllerRefOf(j);
    if (ref && strAt(*ref, "name") == cj && !isBeingDeleted(j)) out.push_back(j);
  }
  return out;
}

// Pretends the last run was `minutesAgo` minutes ago.
bool rewind(client::RestClient& c, const std::string& name, int minutesAgo) {
  auto cj = c.get(kCronJobs, "default", name);
  if (!cj.ok()) return false;
  cj->as_object()["status"].as_object()["lastScheduleTime"] =
      formatTime(std::chrono::system_clock::now() - std::chrono::minutes(minutesAgo));
  return c.updateStatus(kCronJobs, "default", *cj).ok();
}

bool hasEvent(client::RestClient& c, const std::string& reason, const std::string& object) {
  auto r = c.list(kEvents, "default");
  if (!r.ok()) return false;
  for (auto& e : r->at("items").as_array()) {
    if (strAt(e.as_object(), "reason") == reason &&
        strAt(objAt(e, "involvedObject"), "name") == object) {
      return true;
    }
  }
  return false;
}

bool completeOnce(client::RestClient& c, json::value job, int startedMinutesAgo) {
  auto now = std::chrono::system_clock::now();
  job.as_object()["status"] =
      json::object{{"startTime", formatTime(now - std::chrono::minutes(startedMinutesAgo))},
                   {"completionTime", formatTime(now)},
                   {"succeeded", 1},
                   {"conditions", json::array{{{"type", "SuccessCriteriaMet"}, {"status", "True"}},
                                              {{"type", "Complete"}, {"status", "True"}}}}};
  auto r = c.updateStatus(kJobs, "default", job);
  EXPECT_TRUE(r.ok() || r.status().isConflict()) << r.status().message();
  return r.ok();
}

// The Job controller also writes the job's status, so start from the newest version and retry.
bool markComplete(client::RestClient& c, const json::value& stale, int startedMinutesAgo = 0) {
  for (int attempt = 0; attempt < 10; ++attempt) {
    auto job = c.get(kJobs, "default", strAt(metaOf(stale), "name"));
    if (!job.ok()) return false;
    if (completeOnce(c, *job, startedMinutesAgo)) return true;
  }
  return false;
}

// A job of the CronJob from an earlier run (as if created by the controller before), recorded
// as active, with the last run `minutesAgo` back so that a newer tick is due.
json::value earlierRun(client::RestClient& c, const std::string& cj, int minutesAgo) {
  auto owner = c.get(kCronJobs, "default", cj);
  EXPECT_TRUE(owner.ok());
  json::value job = json::parse(R"({"apiVersion":"batch/v1","kind":"Job","metadata":{"name":")" +
                                cj + R"(-earlier","namespace":"default"},"spec":{"template":{
      "spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}})");
  job.as_object()["metadata"].as_object()["ownerReferences"] =
      json::array{newControllerRef(*owner, "batch/v1", "CronJob")};
  auto created = c.create(kJobs, "default", job);
  EXPECT_TRUE(created.ok()) << created.status().message();
  json::object& status = owner->as_object()["status"].as_object();
  status["active"] = json::array{{{"kind", "Job"},
                                  {"apiVersion", "batch/v1"},
                                  {"namespace", "default"},
                                  {"name", cj + "-earlier"},
                                  {"uid", uidOf(*created)}}};
  status["lastScheduleTime"] =
      formatTime(std::chrono::system_clock::now() - std::chrono::minutes(minutesAgo));
  EXPECT_TRUE(c.updateStatus(kCronJobs, "default", *owner).ok());
  return *created;
}

std::vector<std::string> activeNames(client::RestClient& c, const std::string& cj) {
  std::vector<std::string> out;
  auto got = c.get(kCronJobs, "default", cj);
  if (!got.ok()) return out;
  const json::value* a = statusOf(*got).if_contains("active");
  if (a && a->is_array()) {
    for (auto& r : a->get_array()) out.push_back(strAt(r.as_object(), "name"));
  }
  return out;
}

TEST(CronJobIntegrationTest, SchedulesConcurrencyHistoryAndStatus) {
  TestServer server;
  ASSERT_TRUE(server.start());
  auto c = server.client("cronjob-test");

  // A due tick creates one job named after that minute, annotated with the scheduled time, and
  // recorded in status.
  ASSERT_TRUE(c->create(kCronJobs, "default", cronJob("tick", "")).ok());
  ASSERT_TRUE(rewind(*c, "tick", 3));
  ASSERT_TRUE(eventually([&] { return jobsOf(*c, "tick").size() == 1; }));
  json::value first = jobsOf(*c, "tick")[0];
  auto minute = std::chrono::duration_cast<std::chrono::minutes>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  std::string firstName = strAt(metaOf(first), "name");
  long long named = std::stoll(firstName.substr(std::string("tick-").size()));
  EXPECT_TRUE(named == minute || named == minute - 1) << firstName;
  EXPECT_FALSE(strAt(objAt(first, "metadata", "annotations"),
                     "batch.kubernetes.io/cronjob-scheduled-timestamp")
                   .empty());
  ASSERT_TRUE(
      eventually([&] { return activeNames(*c, "tick") == std::vector<std::string>{firstName}; }));
  // The same tick again creates nothing (the job of that minute is active).
  ASSERT_TRUE(rewind(*c, "tick", 3));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(jobsOf(*c, "tick").size(), 1u);

  // Forbid: an earlier run still active blocks the due one.
  ASSERT_TRUE(
      c->create(kCronJobs, "default",
                cronJob("solo", R"("concurrencyPolicy":"Forbid","successfulJobsHistoryLimit":1,)"))
          .ok());
  json::value earlier = earlierRun(*c, "solo", 3);
  ASSERT_TRUE(eventually([&] { return hasEvent(*c, "JobAlreadyActive", "solo"); }));
  EXPECT_EQ(jobsOf(*c, "solo").size(), 1u);
  // Once it completes: out of active, lastSuccessfulTime set, and the due run starts.
  ASSERT_TRUE(markComplete(*c, earlier, 10));
  ASSERT_TRUE(eventually([&] { return jobsOf(*c, "solo").size() == 2; }));
  ASSERT_TRUE(eventually([&] {
    auto cj = c->get(kCronJobs, "default", "solo");
    auto names = activeNames(*c, "solo");
    return names.size() == 1 && names[0] != "solo-earlier" &&
           statusOf(*cj).contains("lastSuccessfulTime");
  }));
  EXPECT_TRUE(hasEvent(*c, "SawCompletedJob", "solo"));
  // History limit 1: when the new run completes too, the older finished job is deleted.
  for (auto& j : jobsOf(*c, "solo")) {
    if (strAt(metaOf(j), "name") != "solo-earlier") ASSERT_TRUE(markComplete(*c, j));
  }
  ASSERT_TRUE(eventually([&] {
    auto jobs = jobsOf(*c, "solo");
    return jobs.size() == 1 && strAt(metaOf(jobs[0]), "name") != "solo-earlier";
  }));

  // Replace: the running earlier job is deleted for the new one.
  ASSERT_TRUE(
      c->create(kCronJobs, "default", cronJob("swap", R"("concurrencyPolicy":"Replace",)")).ok());
  earlierRun(*c, "swap", 3);
  ASSERT_TRUE(eventually([&] {
    auto jobs = jobsOf(*c, "swap");
    auto names = activeNames(*c, "swap");
    return jobs.size() == 1 && strAt(metaOf(jobs[0]), "name") != "swap-earlier" &&
           names.size() == 1 && names[0] == strAt(metaOf(jobs[0]), "name");
  }));

  // Suspend: nothing is created however late it is.
  ASSERT_TRUE(c->create(kCronJobs, "default", cronJob("paused", R"("suspend":true,)")).ok());
  ASSERT_TRUE(rewind(*c, "paused", 10));
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_TRUE(jobsOf(*c, "paused").empty());

  // More than 100 missed runs: an event, and still only the most recent run is started.
  ASSERT_TRUE(c->create(kCronJobs, "default", cronJob("late", "")).ok());
  ASSERT_TRUE(rewind(*c, "late", 300));
  ASSERT_TRUE(eventually([&] { return hasEvent(*c, "TooManyMissedTimes", "late"); }));
  ASSERT_TRUE(eventually([&] { return jobsOf(*c, "late").size() == 1; }));

  // An unknown time zone is reported, nothing runs.
  ASSERT_TRUE(
      c->create(kCronJobs, "default", cronJob("nowhere", R"("timeZone":"Mars/Olympus",)")).ok());
  ASSERT_TRUE(rewind(*c, "nowhere", 10));
  ASSERT_TRUE(eventually([&] { return hasEvent(*c, "UnknownTimeZone", "nowhere"); }));
  EXPECT_TRUE(jobsOf(*c, "nowhere").empty());
}

}  // namespace
}  // namespace berth::controllers
