#pragma once
// The CronJob controller's time arithmetic and job construction (upstream
// pkg/controller/cronjob/utils.go): which scheduled time is due, how many were missed, the
// deterministic job name "<cronjob>-<scheduled minutes since the epoch>" that keeps one
// scheduled time from creating two jobs, and the job built from spec.jobTemplate.
//
// Thread-safety: stateless free functions.
#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "controllers/cronjob/cron_schedule.h"
#include "core/status.h"

namespace berth::controllers::cronjob {

inline constexpr const char* kScheduledTimestampAnnotation =
    "batch.kubernetes.io/cronjob-scheduled-timestamp";

struct Due {
  std::int64_t earliest = 0;               // where the search started
  std::optional<std::int64_t> mostRecent;  // the latest scheduled time <= now, if any
  long long missed = 0;                    // scheduled times in (earliest, now], estimated
  core::Status error;                      // a schedule firing twice within a second
};

// upstream mostRecentScheduleTime: from the last schedule time (or creation), optionally no
// earlier than now - startingDeadlineSeconds.
Due mostRecentScheduleTime(const boost::json::value& cronJob, std::int64_t now,
                           const CronSchedule& schedule, bool includeStartingDeadline);

// Seconds from now until the next scheduled time (plus upstream's 100 ms slack, rounded up).
std::int64_t secondsUntilNext(const boost::json::value& cronJob, std::int64_t now,
                              const CronSchedule& schedule);

std::string jobName(const std::string& cronJobName, std::int64_t scheduled);

// RFC 3339 in the zone ("2024-01-01T10:00:00+01:00", "Z" for UTC), as Go formats time.RFC3339.
std::string formatInZone(std::int64_t t, const core::tz::Location& zone);

// The Job for one scheduled time: the template's labels, annotations (plus the scheduled
// timestamp annotation) and spec, the controller reference, the deterministic name.
boost::json::object jobFromTemplate(const boost::json::value& cronJob, std::int64_t scheduled,
                                    const core::tz::Location& zone);

}  // namespace berth::controllers::cronjob
