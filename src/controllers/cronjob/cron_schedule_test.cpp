// The cron parser and next-time search: fixed cases from upstream's semantics, a property test
// against a brute-force minute scan over random schedules (UTC and a DST zone), and a fuzz-style
// check that arbitrary input never crashes.
#include "controllers/cronjob/cron_schedule.h"

#include <gtest/gtest.h>

#include <ctime>
#include <random>

namespace berth::controllers::cronjob {
namespace {

using core::tz::Location;

std::int64_t at(int y, int mo, int d, int h, int mi) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  return ::timegm(&tm);
}

std::int64_t nextOf(const std::string& spec, std::int64_t t, const Location& z = Location::utc()) {
  auto s = CronSchedule::parse(spec, z);
  EXPECT_TRUE(s.ok()) << spec << ": " << s.status().message();
  if (!s.ok()) return -1;
  return s->next(t).value_or(-1);
}

TEST(CronScheduleTest, FieldsDescriptorsAndNames) {
  auto t = at(2024, 1, 1, 10, 0);                                // a Monday
  EXPECT_EQ(nextOf("*/15 * * * *", t), at(2024, 1, 1, 10, 15));  // strictly after
  EXPECT_EQ(nextOf("30 9 * * *", t), at(2024, 1, 2, 9, 30));
  EXPECT_EQ(nextOf("@hourly", t), at(2024, 1, 1, 11, 0));
  EXPECT_EQ(nextOf("@daily", t), at(2024, 1, 2, 0, 0));
  EXPECT_EQ(nextOf("@midnight", t), at(2024, 1, 2, 0, 0));
  EXPECT_EQ(nextOf("@weekly", t), at(2024, 1, 7, 0, 0));
  EXPECT_EQ(nextOf("@monthly", t), at(2024, 2, 1, 0, 0));
  EXPECT_EQ(nextOf("@yearly", t), at(2025, 1, 1, 0, 0));
  EXPECT_EQ(nextOf("@annually", t), at(2025, 1, 1, 0, 0));
  EXPECT_EQ(nextOf("0 0 * FEB sat", t), at(2024, 2, 3, 0, 0));
  EXPECT_EQ(nextOf("0 12 * * MON-FRI", at(2024, 1, 5, 13, 0)), at(2024, 1, 8, 12, 0));
  EXPECT_EQ(nextOf("5/20 * * * *", t), at(2024, 1, 1, 10, 5));  // 5,25,45
  EXPECT_EQ(nextOf("0 0 29 2 *", t), at(2024, 2, 29, 0, 0));
  EXPECT_EQ(nextOf("@every 90s", t), t + 90);
  // Both day fields restricted: either matches (the 13th, or any Friday).
  EXPECT_EQ(nextOf("0 0 13 * 5", t), at(2024, 1, 5, 0, 0));
  // One of them starred: both must match (Friday the 13th).
  EXPECT_EQ(nextOf("0 0 13 * *", t), at(2024, 1, 13, 0, 0));
  EXPECT_EQ(nextOf("0 0 ? * 5", t), at(2024, 1, 5, 0, 0));
  // No such day within five years.
  auto never = CronSchedule::parse("0 0 30 2 *", Location::utc());
  ASSERT_TRUE(never.ok());
  EXPECT_FALSE(never->next(t));
}

TEST(CronScheduleTest, ErrorsCarryRobfigMessages) {
  auto msg = [](const char* spec) {
    auto s = CronSchedule::parse(spec, Location::utc());
    return s.ok() ? std::string("ok") : s.status().message();
  };
  EXPECT_EQ(msg("* * * *"), "expected exactly 5 fields, found 4: * * * *");
  EXPECT_EQ(msg("60 * * * *"), "end of range (60) above maximum (59): 60");
  EXPECT_EQ(msg("* * 0 * *"), "beginning of range (0) below minimum (1): 0");
  EXPECT_EQ(msg("5-1 * * * *"), "beginning of range (5) beyond end of range (1): 5-1");
  EXPECT_EQ(msg("*/0 * * * *"), "step of range should be a positive number: */0");
  EXPECT_EQ(msg("@fortnightly"), "unrecognized descriptor: @fortnightly");
  EXPECT_EQ(msg(""), "empty spec string");
  EXPECT_NE(msg("x * * * *").find("failed to parse int from x"), std::string::npos);
  EXPECT_EQ(CronSchedule::parse("* * * * *", Location::utc()).status().code(), 0);
  EXPECT_EQ(CronSchedule::parse("* * * *", Location::utc()).status().code(), 400);
}

TEST(CronScheduleTest, TimeZonesFromFieldAndPrefix) {
  auto berlin = Location::load("Europe/Berlin");
  ASSERT_TRUE(berlin.ok());
  EXPECT_EQ(berlin->offsetAt(at(2024, 1, 15, 12, 0)), 3600);
  EXPECT_EQ(berlin->offsetAt(at(2024, 7, 15, 12, 0)), 7200);
  // 09:00 Berlin is 08:00 UTC in winter, 07:00 UTC in summer.
  EXPECT_EQ(nextOf("0 9 * * *", at(2024, 1, 1, 10, 0), *berlin), at(2024, 1, 2, 8, 0));
  EXPECT_EQ(nextOf("0 9 * * *", at(2024, 7, 1, 10, 0), *berlin), at(2024, 7, 2, 7, 0));
  EXPECT_EQ(nextOf("CRON_TZ=Europe/Berlin 0 9 * * *", at(2024, 7, 1, 10, 0)), at(2024, 7, 2, 7, 0));
  EXPECT_EQ(nextOf("TZ=Asia/Kolkata 0 9 * * *", at(2024, 7, 1, 10, 0)), at(2024, 7, 2, 3, 30));
  // The spring-forward gap: 02:30 does not exist in Berlin on 2024-03-31.
  EXPECT_EQ(nextOf("30 2 * * *", at(2024, 3, 30, 12, 0), *berlin), at(2024, 4, 1, 0, 30));
  // Go's time.LoadLocation messages, as upstream's controller reports them.
  auto unknown = Location::load("Mars/Olympus");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(), "unknown time zone Mars/Olympus");
  for (const char* bad : {"../etc/passwd", "/etc/localtime", "Europe/../../x"}) {
    auto z = Location::load(bad);
    ASSERT_FALSE(z.ok()) << bad;
    EXPECT_EQ(z.status().message(), "time: invalid location name") << bad;
  }
  auto prefixed = CronSchedule::parse("TZ=Nowhere/None * * * * *", Location::utc());
  ASSERT_FALSE(prefixed.ok());
  EXPECT_EQ(prefixed.status().message(),
            "provided bad location Nowhere/None: unknown time zone Nowhere/None");
}

// Debian's tzdata files list explicit transitions only through 2037; later instants follow the
// POSIX rule in the file's footer ("EST5EDT,M3.2.0,M11.1.0"). A reader that kept the last
// transition's offset would put every later summer in EST and fire an hour late.
TEST(CronScheduleTest, FarFutureDaylightTimeFromTheFooterRule) {
  auto ny = Location::load("America/New_York");
  ASSERT_TRUE(ny.ok()) << ny.status().message() << " (is tzdata installed?)";
  // 12:00 EDT on 2040-07-01 is 16:00 UTC; 12:00 EST on 2040-12-01 is 17:00 UTC.
  EXPECT_EQ(nextOf("0 12 1 7 *", at(2040, 6, 30, 0, 0), *ny), at(2040, 7, 1, 16, 0));
  EXPECT_EQ(nextOf("0 12 1 12 *", at(2040, 11, 30, 0, 0), *ny), at(2040, 12, 1, 17, 0));
  // The spring-forward day of 2045 (second Sunday of March: the 12th): 02:30 does not exist,
  // so a daily 02:30 run next fires on the 13th at 02:30 EDT (06:30 UTC).
  EXPECT_EQ(nextOf("30 2 * * *", at(2045, 3, 11, 12, 0), *ny), at(2045, 3, 13, 6, 30));
  // Far past the last transition of the file too: 2100's summer is still daylight time.
  EXPECT_EQ(nextOf("0 9 4 7 *", at(2100, 7, 1, 0, 0), *ny), at(2100, 7, 4, 13, 0));
}

// A random field: *, a value, a range, a list, or steps, within bounds.
std::string randomField(std::mt19937& rng, int lo, int hi) {
  auto pick = [&](int a, int b) { return std::uniform_int_distribution<int>(a, b)(rng); };
  switch (pick(0, 5)) {
    case 0:
      return "*";
    case 1:
      return std::to_string(pick(lo, hi));
    case 2: {
      int a = pick(lo, hi);
      return std::to_string(a) + "-" + std::to_string(pick(a, hi));
    }
    case 3:
      return std::to_string(pick(lo, hi)) + "," + std::to_string(pick(lo, hi));
    case 4:
      return "*/" + std::to_string(pick(1, hi - lo + 1));
    default:
      return std::to_string(pick(lo, hi)) + "/" + std::to_string(pick(1, 10));
  }
}

// Reference semantics: scan every minute and check each field by its textual definition.
bool fieldMatches(const std::string& field, int v, int lo, int hi) {
  size_t start = 0;
  while (start <= field.size()) {
    size_t comma = field.find(',', start);
    std::string term =
        field.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    int a = lo, b = hi, step = 1;
    size_t slash = term.find('/');
    std::string range = term.substr(0, slash);
    if (slash != std::string::npos) step = std::stoi(term.substr(slash + 1));
    if (range != "*") {
      size_t dash = range.find('-');
      a = std::stoi(range.substr(0, dash));
      b = dash == std::string::npos ? (slash != std::string::npos ? hi : a)
                                    : std::stoi(range.substr(dash + 1));
    }
    if (v >= a && v <= b && (v - a) % step == 0) return true;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return false;
}

TEST(CronScheduleTest, PropertyNextMatchesBruteForce) {
  std::mt19937 rng(20240601);
  auto berlin = Location::load("Europe/Berlin");
  ASSERT_TRUE(berlin.ok());
  for (int iter = 0; iter < 400; ++iter) {
    std::string f[5] = {randomField(rng, 0, 59), randomField(rng, 0, 23), randomField(rng, 1, 31),
                        randomField(rng, 1, 12), randomField(rng, 0, 6)};
    std::string spec = f[0] + " " + f[1] + " " + f[2] + " " + f[3] + " " + f[4];
    const Location& zone = iter % 2 ? *berlin : Location::utc();
    auto s = CronSchedule::parse(spec, zone);
    ASSERT_TRUE(s.ok()) << spec << ": " << s.status().message();
    std::int64_t from = at(2024, 1 + iter % 12, 1 + iter % 28, iter % 24, iter % 60);
    auto got = s->next(from);
    // Brute force over at most ~400 days of minutes (enough for every generated schedule
    // except rare impossible dates, which both must agree on).
    // robfig keeps the "star" mark only for * and */1 (a step above 1 clears it).
    bool domStar = f[2] == "*" || f[2] == "*/1";
    bool dowStar = f[4] == "*" || f[4] == "*/1";
    std::optional<std::int64_t> want;
    // Both zones have whole-hour offsets, so a local hour that does not match can be skipped
    // to the next UTC hour.
    for (std::int64_t t = (from / 60 + 1) * 60; t < from + 60LL * 86400;) {
      time_t local = static_cast<time_t>(t + zone.offsetAt(t));
      std::tm tm{};
      ::gmtime_r(&local, &tm);
      bool dom = fieldMatches(f[2], tm.tm_mday, 1, 31), dow = fieldMatches(f[4], tm.tm_wday, 0, 6);
      bool day = (domStar || dowStar) ? dom && dow : dom || dow;
      if (!(fieldMatches(f[1], tm.tm_hour, 0, 23) && day &&
            fieldMatches(f[3], tm.tm_mon + 1, 1, 12))) {
        t = (t / 3600 + 1) * 3600;
        continue;
      }
      if (fieldMatches(f[0], tm.tm_min, 0, 59)) {
        want = t;
        break;
      }
      t += 60;
    }
    if (want) {
      ASSERT_TRUE(got) << spec;
      EXPECT_EQ(*got, *want) << spec << " from " << from << " zone " << zone.name();
    } else if (got) {
      EXPECT_GE(*got, from + 60LL * 86400) << spec;
    }
  }
}

TEST(CronScheduleTest, FuzzNeverCrashes) {
  std::mt19937 rng(7);
  const std::string alphabet = "0123456789*/,-? @abcdefhlmnorsTZ=EuropeBerlinJANMONxyz\t";
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    int len = std::uniform_int_distribution<int>(0, 30)(rng);
    for (int j = 0; j < len; ++j) s += alphabet[rng() % alphabet.size()];
    auto r = CronSchedule::parse(s, Location::utc());
    if (r.ok()) {
      ++parsed;
      auto n = r->next(1700000000);
      if (n) EXPECT_GT(*n, 1700000000);
    } else {
      EXPECT_EQ(r.status().code(), 400);
      EXPECT_FALSE(r.status().message().empty());
    }
  }
  // Mutations of valid schedules hit the accepting paths too.
  const char* seeds[] = {"*/5 1-3 * JAN,mar 1-5", "@every 1h30m", "0 0 1 1 *", "TZ=UTC 5 * * * *"};
  for (int i = 0; i < 5000; ++i) {
    std::string s = seeds[i % 4];
    s[rng() % s.size()] = alphabet[rng() % alphabet.size()];
    auto r = CronSchedule::parse(s, Location::utc());
    if (r.ok()) {
      ++parsed;
      (void)r->next(0);
    }
  }
  EXPECT_GT(parsed, 100);
}

}  // namespace
}  // namespace berth::controllers::cronjob
