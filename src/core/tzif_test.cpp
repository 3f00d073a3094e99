// The TZif reader: known offsets, glibc's localtime_r as an oracle for random instants in real
// zones (the property test), and mutated or random files that never crash the parser.
#include "core/tzif.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>

namespace berth::core::tz {
namespace {

constexpr const char* kZoneDir = "/usr/share/zoneinfo";

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::shared_ptr<const Zone> zone(const std::string& name) {
  auto z = loadZone(name, kZoneDir);
  if (auto* err = std::get_if<std::string>(&z)) {
    ADD_FAILURE() << name << ": " << *err << " (is tzdata installed?)";
    return nullptr;
  }
  return std::get<0>(z);
}

TEST(Tzif, KnownOffsets) {
  auto ny = zone("America/New_York");
  ASSERT_TRUE(ny);
  EXPECT_EQ(offsetAt(*ny, 1704067200), -5 * 3600);  // 2024-01-01T00:00Z: EST
  EXPECT_EQ(offsetAt(*ny, 1719792000), -4 * 3600);  // 2024-07-01T00:00Z: EDT
  // 2024-03-10T07:00Z is 03:00 EDT, the first instant of DST; a second earlier is EST.
  EXPECT_EQ(offsetAt(*ny, 1710054000), -4 * 3600);
  EXPECT_EQ(offsetAt(*ny, 1710053999), -5 * 3600);
  // 2100-07-01: past the file's transitions, from the footer's rule.
  EXPECT_EQ(offsetAt(*ny, 4118083200), -4 * 3600);
  auto kolkata = zone("Asia/Kolkata");
  ASSERT_TRUE(kolkata);
  EXPECT_EQ(offsetAt(*kolkata, 1704067200), 5 * 3600 + 1800);
  auto utc = loadZone("UTC");
  ASSERT_TRUE(std::holds_alternative<std::shared_ptr<const Zone>>(utc));
  EXPECT_EQ(offsetAt(*std::get<0>(utc), 1704067200), 0);
}

TEST(Tzif, NamesAsGoLoadLocation) {
  EXPECT_EQ(std::get<std::string>(loadZone("Mars/Olympus_Mons", kZoneDir)),
            "unknown time zone Mars/Olympus_Mons");
  EXPECT_EQ(std::get<std::string>(loadZone("../etc/passwd", kZoneDir)),
            "time: invalid location name");
  EXPECT_EQ(std::get<std::string>(loadZone("/etc/passwd", kZoneDir)),
            "time: invalid location name");
  // A directory or a file that is not TZif is no zone.
  EXPECT_EQ(std::get<std::string>(loadZone("America", kZoneDir)), "unknown time zone America");
  EXPECT_EQ(std::get<std::string>(loadZone("zone.tab", kZoneDir)), "unknown time zone zone.tab");
}

// Go's time.Local: $TZ names the zone (a leading ':' dropped; absolute paths read as files);
// empty, "UTC" or a zone that cannot be loaded is UTC; unset reads /etc/localtime.
TEST(Tzif, LocalAsGoTimeLocal) {
  const char* old = std::getenv("TZ");
  std::string saved = old ? old : "";
  auto localOffset = [](int64_t t) {
    auto z = loadZone("Local", kZoneDir);
    return offsetAt(*std::get<std::shared_ptr<const Zone>>(z), t);
  };
  setenv("TZ", "Asia/Kolkata", 1);
  EXPECT_EQ(localOffset(1704067200), 5 * 3600 + 1800);
  setenv("TZ", ":America/New_York", 1);
  EXPECT_EQ(localOffset(1719792000), -4 * 3600);
  setenv("TZ", (std::string(kZoneDir) + "/Europe/Berlin").c_str(), 1);
  EXPECT_EQ(localOffset(1719792000), 2 * 3600);
  for (const char* utc : {"", "UTC", "Mars/Base", "../../etc/passwd"}) {
    setenv("TZ", utc, 1);
    EXPECT_EQ(localOffset(1719792000), 0) << utc;
  }
  if (old) {
    setenv("TZ", saved.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
}

TEST(Tzif, LocationCarriesNameAndGoErrors) {
  auto ny = Location::load("America/New_York", kZoneDir);
  ASSERT_TRUE(ny.ok());
  EXPECT_EQ(ny->name(), "America/New_York");
  EXPECT_EQ(ny->offsetAt(4118083200), -4 * 3600);  // 2100-07-01, from the footer rule
  EXPECT_EQ(Location::utc().name(), "UTC");
  EXPECT_EQ(Location::utc().offsetAt(1719792000), 0);
  auto bad = Location::load("Nowhere/None", kZoneDir);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), 400);
  EXPECT_EQ(bad.status().message(), "unknown time zone Nowhere/None");
  EXPECT_EQ(Location::load("a/../b", kZoneDir).status().message(), "time: invalid location name");
}

TEST(Tzif, PosixRules) {
  auto us = parsePosixRule("EST5EDT,M3.2.0,M11.1.0");
  ASSERT_TRUE(us);
  EXPECT_EQ(us->stdOffset, -5 * 3600);
  EXPECT_EQ(us->dstOffset, -4 * 3600);
  EXPECT_EQ(posixOffsetAt(*us, 4118083200), -4 * 3600);  // 2100-07-01
  auto southern = parsePosixRule("<+13>-13");
  ASSERT_TRUE(southern);
  EXPECT_FALSE(southern->hasDst);
  EXPECT_EQ(southern->stdOffset, 13 * 3600);
  // Southern hemisphere: DST spans the new year (Sydney).
  auto sydney = parsePosixRule("AEST-10AEDT,M10.1.0,M4.1.0/3");
  ASSERT_TRUE(sydney);
  EXPECT_EQ(posixOffsetAt(*sydney, 1704067200), 11 * 3600);  // January: AEDT
  EXPECT_EQ(posixOffsetAt(*sydney, 1719792000), 10 * 3600);  // July: AEST
  auto julian = parsePosixRule("XXX3YYY,J60/2,300");
  ASSERT_TRUE(julian);
  for (const char* bad : {"", "E5", "EST", "EST5EDT,M13.1.0,M11.1.0", "EST5EDT,M3.2.0",
                          "EST5EDT,M3.2.0,M11.1.0junk", "<AB>5", "EST999"}) {
    EXPECT_FALSE(parsePosixRule(bad)) << bad;
  }
}

// glibc reads the same files: for random instants in 1901..2300, our offset is its tm_gmtoff.
TEST(TzifProperty, AgreesWithGlibc) {
  const char* zones[] = {"America/New_York",  "Europe/London",     "Australia/Sydney",
                         "Asia/Kolkata",      "America/Sao_Paulo", "Pacific/Chatham",
                         "Africa/Casablanca", "America/St_Johns",  "Europe/Dublin",
                         "Pacific/Apia",      "Asia/Tehran",       "America/Santiago"};
  const char* oldTz = std::getenv("TZ");
  std::string saved = oldTz ? oldTz : "";
  std::mt19937_64 rng(20261130);
  for (const char* name : zones) {
    auto z = zone(name);
    ASSERT_TRUE(z) << name;
    setenv("TZ", (std::string(":") + kZoneDir + "/" + name).c_str(), 1);
    tzset();
    for (int i = 0; i < 3000; ++i) {
      // -2147483648 .. 10413792000 (1901-12-13 .. 2300-01-01)
      int64_t t = -2147483648LL + static_cast<int64_t>(rng() % 12561275648ULL);
      time_t tt = static_cast<time_t>(t);
      struct tm local {};
      ASSERT_TRUE(localtime_r(&tt, &local));
      ASSERT_EQ(offsetAt(*z, t), local.tm_gmtoff) << name << " at " << t;
    }
  }
  if (oldTz) {
    setenv("TZ", saved.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
}

TEST(TzifProperty, MutatedFilesNeverCrash) {
  std::string ny = readFile(std::string(kZoneDir) + "/America/New_York");
  ASSERT_GT(ny.size(), 44u);
  ASSERT_TRUE(std::holds_alternative<Zone>(parseTzif(ny)));
  std::mt19937 rng(7);
  for (int iter = 0; iter < 20000; ++iter) {
    std::string data = ny;
    int edits = 1 + static_cast<int>(rng() % 8);
    for (int k = 0; k < edits; ++k) {
      switch (rng() % 3) {
        case 0:
          data[rng() % data.size()] = static_cast<char>(rng());
          break;
        case 1:
          data.resize(rng() % (data.size() + 1));
          if (data.empty()) data = "TZif";
          break;
        default:
          data.insert(rng() % data.size(), 1, static_cast<char>(rng()));
      }
    }
    auto parsed = parseTzif(data);
    if (auto* z = std::get_if<Zone>(&parsed)) {
      ASSERT_FALSE(z->types.empty());
      for (int64_t t : {INT64_MIN / 4, int64_t{0}, int64_t{1719792000}, INT64_MAX / 4})
        (void)offsetAt(*z, t);  // any offset, never a crash
    }
  }
  for (int iter = 0; iter < 5000; ++iter) {
    std::string junk(rng() % 200, '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    if (iter % 2) junk.replace(0, std::min<size_t>(4, junk.size()), "TZif");
    (void)parseTzif(junk);
    (void)parsePosixRule(junk.substr(0, 30));
  }
}

}  // namespace
}  // namespace berth::core::tz
