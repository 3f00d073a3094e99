#pragma once
// Named time zones, read from the system's TZif files (RFC 8536; /usr/share/zoneinfo, Debian's
// tzdata), because GCC 12's libstdc++ has no std::chrono::tzdb. Used by CEL's timestamp
// accessors (ts.getHours('America/New_York')) and a CronJob's spec.timeZone, both of which
// upstream resolves with Go's time.LoadLocation. A zone is its transitions plus the POSIX TZ
// rule of the file's footer, which covers the instants after the last transition (fat files end
// in 2037, slim ones earlier). Names are resolved as LoadLocation does: "UTC" and "" are UTC,
// "Local" is the process's zone (as Go's time.Local: $TZ, else /etc/localtime, else UTC), ".."
// and absolute paths are refused, anything else is a file under the zoneinfo directory.
//
// Thread-safety: parse functions are pure; loadZone() caches zones behind a mutex and returns
// immutable shared zones; Location is an immutable value.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/result.h"

namespace berth::core::tz {

// A POSIX TZ rule (the TZif footer, e.g. "EST5EDT,M3.2.0,M11.1.0"): a standard offset and,
// optionally, a daylight offset with the dates it starts and ends. Offsets are seconds east of
// UTC (the POSIX text counts west, its sign is flipped here).
struct PosixRule {
  // One date of a rule: Jn (1..365, Feb 29 never counted), n (0..365, counted) or Mm.w.d.
  struct Date {
    enum class Kind { kJulian1, kJulian0, kMonthWeekDay } kind = Kind::kMonthWeekDay;
    int day = 0;  // Jn / n; Mm.w.d: the weekday d (0 = Sunday)
    int month = 0, week = 0;
    int32_t time = 7200;  // seconds after local midnight (may be negative or past 24h)
  };
  int32_t stdOffset = 0;
  bool hasDst = false;
  int32_t dstOffset = 0;
  Date start, end;
};

struct LocalType {
  int32_t utcOffset = 0;  // seconds east of UTC
  bool dst = false;
};

struct Zone {
  std::vector<int64_t> transitions;  // UTC seconds, ascending
  std::vector<uint8_t> typeOfTransition;
  std::vector<LocalType> types;
  std::optional<PosixRule> footer;
};

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t daysFromCivil(int64_t y, int64_t m, int64_t d);

// Parses a POSIX TZ rule; nullopt when malformed.
std::optional<PosixRule> parsePosixRule(std::string_view text);
// The offset of `rule` at UTC second `t`.
int32_t posixOffsetAt(const PosixRule& rule, int64_t t);

// Parses TZif data (versions 1 to 4; the 64-bit part when present); a message when malformed.
std::variant<Zone, std::string> parseTzif(std::string_view data);

// The offset from UTC, in seconds east, at UTC second `t`.
int32_t offsetAt(const Zone& zone, int64_t t);

// The named zone from `dir` (default: $ZONEINFO, else /usr/share/zoneinfo), cached; the error
// is Go's text ("unknown time zone Mars/Base", "time: invalid location name").
std::variant<std::shared_ptr<const Zone>, std::string> loadZone(const std::string& name,
                                                                const std::string& dir = "");

// A loaded zone with its name, as Go's *time.Location: what a CronJob's schedule is read in.
class Location {
 public:
  static Location utc();
  // loadZone() as a Result: its error text as a BadRequest.
  static Result<Location> load(const std::string& name, const std::string& dir = "");

  // Seconds east of UTC at the instant `unixSeconds`.
  int32_t offsetAt(int64_t unixSeconds) const { return tz::offsetAt(*zone_, unixSeconds); }
  const std::string& name() const { return name_; }

 private:
  Location(std::string name, std::shared_ptr<const Zone> zone)
      : name_(std::move(name)), zone_(std::move(zone)) {}
  std::string name_;
  std::shared_ptr<const Zone> zone_;
};

}  // namespace berth::core::tz
