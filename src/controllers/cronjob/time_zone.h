#pragma once
// TimeZone: UTC offsets of an IANA zone read from the system tz database (TZif files under
// /usr/share/zoneinfo), as Go's time.LoadLocation does for a CronJob's spec.timeZone. GCC 12's
// libstdc++ has no std::chrono::tzdb, hence this small reader: version 2+ files, 64-bit
// transition times; after the last transition the last rule's offset holds (Debian ships "fat"
// files with transitions through 2037).
//
// Thread-safety: immutable after load(); offsetAt() is safe from any thread.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace berth::controllers::cronjob {

class TimeZone {
 public:
  static TimeZone utc();
  // "Europe/Berlin", "UTC", "Local" (the host's /etc/localtime). Unknown or malformed names are
  // BadRequest: `unknown time zone X` (Go's message).
  static core::Result<TimeZone> load(std::string_view name,
                                     const std::string& root = "/usr/share/zoneinfo");
  // Parses TZif bytes (for tests and load()).
  static core::Result<TimeZone> parse(std::string_view name, std::string_view data);

  // Seconds east of UTC at the instant `unixSeconds`.
  int offsetAt(std::int64_t unixSeconds) const;
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::vector<std::int64_t> transitions_;  // ascending
  std::vector<int> offsetAfter_;           // offset in force from transitions_[i] on
  int initialOffset_ = 0;                  // before the first transition
};

}  // namespace berth::controllers::cronjob
