#pragma once
// CronSchedule: a CronJob's spec.schedule, as upstream parses it (robfig/cron's ParseStandard):
// five fields "minute hour day-of-month month day-of-week" with `*`, `?`, lists, ranges, steps
// (`N/step` means N through the maximum), month and weekday names (JAN-DEC, SUN-SAT, any case);
// the descriptors @yearly/@annually, @monthly, @weekly, @daily/@midnight, @hourly and
// `@every <duration>`; and an optional `TZ=<zone>` / `CRON_TZ=<zone>` prefix. When both
// day-of-month and day-of-week are restricted, a day matching either one matches (cron's rule);
// otherwise both must.
//
// Times are Unix seconds; fields are matched in the schedule's time zone.
//
// Thread-safety: immutable after parse; next() is safe from any thread.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/tzif.h"
#include "core/result.h"

namespace berth::controllers::cronjob {

class CronSchedule {
 public:
  // Errors are BadRequest with robfig's messages ("expected exactly 5 fields, found 4: ...").
  // `zone` applies unless the spec carries its own TZ= prefix (zoneFromSpec() says which).
  static core::Result<CronSchedule> parse(std::string_view spec, const core::tz::Location& zone);

  // The first activation strictly after `unixSeconds`; nullopt when none within five years
  // (e.g. "0 0 30 2 *"), as robfig returns the zero time.
  std::optional<std::int64_t> next(std::int64_t unixSeconds) const;

  bool zoneFromSpec() const { return zoneFromSpec_; }
  const core::tz::Location& zone() const { return zone_; }

 private:
  std::uint64_t minute_ = 0, hour_ = 0, dom_ = 0, month_ = 0, dow_ = 0;
  bool domStar_ = false, dowStar_ = false;
  std::int64_t every_ = 0;  // @every: seconds between runs
  core::tz::Location zone_ = core::tz::Location::utc();
  bool zoneFromSpec_ = false;
};

}  // namespace berth::controllers::cronjob
