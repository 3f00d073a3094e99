#include "controllers/cronjob/cronjob_logic.h"

#include <cmath>
#include <ctime>

#include "controllers/framework/workload_util.h"

namespace berth::controllers::cronjob {

namespace json = boost::json;

namespace {
std::int64_t unixOf(std::string_view rfc3339) {
  auto t = parseTime(rfc3339);
  return t ? std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count() : 0;
}
}  // namespace

Due mostRecentScheduleTime(const json::value& cj, std::int64_t now, const CronSchedule& schedule,
                           bool includeStartingDeadline) {
  Due d;
  d.earliest = unixOf(strAt(metaOf(cj), "creationTimestamp"));
  std::string last = strAt(statusOf(cj), "lastScheduleTime");
  if (!last.empty()) d.earliest = unixOf(last);
  if (auto deadline = intAt(specOf(cj), "startingDeadlineSeconds");
      includeStartingDeadline && deadline && now - *deadline > d.earliest) {
    d.earliest = now - *deadline;  // nothing before this may start any more
  }
  auto t1 = schedule.next(d.earliest);
  if (!t1 || now < *t1) return d;
  auto t2 = schedule.next(*t1);
  if (!t2 || now < *t2) {
    d.mostRecent = *t1;
    d.missed = 1;
    return d;
  }
  std::int64_t between = *t2 - *t1;
  if (between < 1) {
    d.error =
        core::Status::badRequest("time difference between two schedules is less than 1 second");
    return d;
  }
  // The count is an estimate (schedules are not evenly spaced); the most recent time is exact:
  // start two intervals before the estimate and walk forward.
  d.missed = (now - *t1) / between + 1;
  std::int64_t t = *t1 + (d.missed - 2) * between;
  for (auto n = schedule.next(t); n && *n <= now; n = schedule.next(*n)) d.mostRecent = *n;
  if (!d.mostRecent) d.mostRecent = *t1;
  return d;
}

std::int64_t secondsUntilNext(const json::value& cj, std::int64_t now,
                              const CronSchedule& schedule) {
  Due d = mostRecentScheduleTime(cj, now, schedule, false);
  if (!d.error.ok()) return 1;
  std::int64_t from = d.mostRecent ? *d.mostRecent : std::max(d.earliest, now);
  auto next = schedule.next(from);
  if (!next) return 3600;  // nothing within five years: look again in an hour
  return std::max<std::int64_t>(1, *next - now + 1);
}

std::string jobName(const std::string& cronJobName, std::int64_t scheduled) {
  return cronJobName + "-" + std::to_string(scheduled / 60);
}

std::string formatInZone(std::int64_t t, const core::tz::Location& zone) {
  int offset = zone.offsetAt(t);
  time_t local = static_cast<time_t>(t + offset);
  std::tm tm{};
  ::gmtime_r(&local, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (offset == 0) return out + "Z";
  int a = std::abs(offset);
  char tz[8];
  std::snprintf(tz, sizeof tz, "%c%02d:%02d", offset < 0 ? '-' : '+', a / 3600, (a / 60) % 60);
  return out + tz;
}

json::object jobFromTemplate(const json::value& cj, std::int64_t scheduled,
                             const core::tz::Location& zone) {
  const json::object& tmplMeta = objAt(cj, "spec", "jobTemplate", "metadata");
  json::object meta;
  meta["name"] = jobName(strAt(metaOf(cj), "name"), scheduled);
  meta["namespace"] = strAt(metaOf(cj), "namespace");
  if (const json::value* l = tmplMeta.if_contains("labels"); l && l->is_object()) {
    meta["labels"] = *l;
  }
  json::object annotations;
  if (const json::value* a = tmplMeta.if_contains("annotations"); a && a->is_object()) {
    annotations = a->get_object();
  }
  annotations[kScheduledTimestampAnnotation] = formatInZone(scheduled, zone);
  meta["annotations"] = std::move(annotations);
  meta["ownerReferences"] = json::array{newControllerRef(cj, "batch/v1", "CronJob")};
  return json::object{{"apiVersion", "batch/v1"},
                      {"kind", "Job"},
                      {"metadata", std::move(meta)},
                      {"spec", objAt(cj, "spec", "jobTemplate", "spec")}};
}

}  // namespace berth::controllers::cronjob
