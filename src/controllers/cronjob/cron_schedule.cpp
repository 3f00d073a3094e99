#include "controllers/cronjob/cron_schedule.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <vector>

namespace berth::controllers::cronjob {

namespace {

struct Bounds {
  int min, max;
  const char* const* names;  // index = value - nameBase
  int nameBase, nameCount;
};

const char* const kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                               "jul", "aug", "sep", "oct", "nov", "dec"};
const char* const kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
const Bounds kMinute{0, 59, nullptr, 0, 0}, kHour{0, 23, nullptr, 0, 0}, kDom{1, 31, nullptr, 0, 0},
    kMonth{1, 12, kMonths, 1, 12}, kDow{0, 6, kDays, 0, 7};

core::Status bad(std::string message) { return core::Status::badRequest(std::move(message)); }

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.emplace_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

core::Result<int> parseValue(const std::string& text, const Bounds& b) {
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  for (int i = 0; i < b.nameCount; ++i) {
    if (lower == b.names[i]) return b.nameBase + i;
  }
  if (text.empty() || text.size() > 9 ||
      !std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return bad("failed to parse int from " + text + ": strconv.Atoi: parsing \"" + text +
               "\": invalid syntax");
  }
  return std::stoi(text);
}

// One comma-separated term: `*`/`?`, N, N-M, with an optional /step (robfig getRange).
core::Status parseRange(const std::string& expr, const Bounds& b, std::uint64_t& bits, bool& star) {
  std::vector<std::string> rangeAndStep = split(expr, '/');
  std::vector<std::string> lowHigh = split(rangeAndStep[0], '-');
  bool single = lowHigh.size() == 1;
  int start, end, step = 1;
  bool isStar = false;
  if (lowHigh[0] == "*" || lowHigh[0] == "?") {
    if (lowHigh.size() > 1) return bad("too many hyphens: " + expr);
    start = b.min;
    end = b.max;
    isStar = true;
  } else {
    auto lo = parseValue(lowHigh[0], b);
    if (!lo.ok()) return lo.status();
    start = end = *lo;
    if (lowHigh.size() == 2) {
      auto hi = parseValue(lowHigh[1], b);
      if (!hi.ok()) return hi.status();
      end = *hi;
    } else if (lowHigh.size() > 2) {
      return bad("too many hyphens: " + expr);
    }
  }
  if (rangeAndStep.size() == 2) {
    auto s = parseValue(rangeAndStep[1], Bounds{0, 0, nullptr, 0, 0});
    if (!s.ok()) return s.status();
    step = *s;
    if (single && !isStar) end = b.max;  // "N/step" means N through the maximum
    if (step > 1) isStar = false;
  } else if (rangeAndStep.size() > 2) {
    return bad("too many slashes: " + expr);
  }
  if (start < b.min) {
    return bad("beginning of range (" + std::to_string(start) + ") below minimum (" +
               std::to_string(b.min) + "): " + expr);
  }
  if (end > b.max) {
    return bad("end of range (" + std::to_string(end) + ") above maximum (" +
               std::to_string(b.max) + "): " + expr);
  }
  if (start > end) {
    return bad("beginning of range (" + std::to_string(start) + ") beyond end of range (" +
               std::to_string(end) + "): " + expr);
  }
  if (step == 0) return bad("step of range should be a positive number: " + expr);
  for (int v = start; v <= end; v += step) bits |= 1ULL << v;
  star = star || isStar;
  return core::Status();
}

core::Status parseField(const std::string& field, const Bounds& b, std::uint64_t& bits,
                        bool& star) {
  bits = 0;
  star = false;
  for (const std::string& term : split(field, ',')) {
    if (core::Status st = parseRange(term, b, bits, star); !st.ok()) return st;
  }
  return core::Status();
}

// Go's time.ParseDuration for the units a schedule uses (h, m, s, ms, us, ns; decimals).
core::Result<std::int64_t> parseEvery(std::string_view text) {
  double total = 0;
  size_t i = 0;
  if (text.empty()) return bad("time: invalid duration \"\"");
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
      ++i;
    if (start == i) return bad("time: invalid duration \"" + std::string(text) + "\"");
    double v = std::strtod(std::string(text.substr(start, i - start)).c_str(), nullptr);
    size_t u = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(u, i - u);
    double scale = unit == "h"                      ? 3600
                   : unit == "m"                    ? 60
                   : unit == "s"                    ? 1
                   : unit == "ms"                   ? 1e-3
                   : (unit == "us" || unit == "µs") ? 1e-6
                   : unit == "ns"                   ? 1e-9
                                                    : -1;
    if (scale < 0)
      return bad("time: unknown unit \"" + std::string(unit) + "\" in duration \"" +
                 std::string(text) + "\"");
    total += v * scale;
  }
  if (total > 1e12) return bad("time: invalid duration \"" + std::string(text) + "\"");
  // robfig rounds @every down to whole seconds, at least one.
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(total));
}

}  // namespace

core::Result<CronSchedule> CronSchedule::parse(std::string_view specIn,
                                               const core::tz::Location& zone) {
  CronSchedule s;
  s.zone_ = zone;
  std::string spec(specIn);
  // Trim and collapse whitespace as strings.Fields does.
  std::vector<std::string> fields;
  {
    std::string cur;
    for (char c : spec) {
      if (std::isspace(static_cast<unsigned char>(c))) {
        if (!cur.empty()) fields.push_back(std::move(cur));
        cur.clear();
      } else {
        cur += c;
      }
    }
    if (!cur.empty()) fields.push_back(std::move(cur));
  }
  if (fields.empty()) return bad("empty spec string");
  for (const char* prefix : {"TZ=", "CRON_TZ="}) {
    if (fields[0].starts_with(prefix)) {
      auto z = core::tz::Location::load(fields[0].substr(std::string_view(prefix).size()));
      if (!z.ok())
        return bad("provided bad location " + fields[0].substr(std::string_view(prefix).size()) +
                   ": " + z.status().message());
      s.zone_ = std::move(z).value();
      s.zoneFromSpec_ = true;
      fields.erase(fields.begin());
      break;
    }
  }
  if (fields.empty()) return bad("empty spec string");
  if (fields[0].starts_with("@")) {
    static const std::pair<const char*, const char*> kDescriptors[] = {
        {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
        {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
        {"@hourly", "0 * * * *"}};
    if (fields[0] == "@every") {
      if (fields.size() != 2) return bad("failed to parse duration " + spec);
      auto d = parseEvery(fields[1]);
      if (!d.ok()) return bad("failed to parse duration " + spec + ": " + d.status().message());
      s.every_ = *d;
      return s;
    }
    for (const auto& [name, expansion] : kDescriptors) {
      if (fields[0] == name && fields.size() == 1) {
        auto expanded = parse(expansion, s.zone_);
        if (!expanded.ok()) return expanded;
        expanded->zoneFromSpec_ = s.zoneFromSpec_;
        return expanded;
      }
    }
    return bad("unrecognized descriptor: " + fields[0]);
  }
  if (fields.size() != 5) {
    return bad("expected exactly 5 fields, found " + std::to_string(fields.size()) + ": " + spec);
  }
  bool ignored = false;
  core::Status st;
  if (!(st = parseField(fields[0], kMinute, s.minute_, ignored)).ok()) return st;
  if (!(st = parseField(fields[1], kHour, s.hour_, ignored)).ok()) return st;
  if (!(st = parseField(fields[2], kDom, s.dom_, s.domStar_)).ok()) return st;
  if (!(st = parseField(fields[3], kMonth, s.month_, ignored)).ok()) return st;
  if (!(st = parseField(fields[4], kDow, s.dow_, s.dowStar_)).ok()) return st;
  return s;
}

std::optional<std::int64_t> CronSchedule::next(std::int64_t t) const {
  if (every_ > 0) return t + every_;
  std::int64_t cur = (t >= 0 ? t / 60 : (t - 59) / 60) * 60 + 60;  // the next whole minute
  const std::int64_t limit = cur + std::int64_t{5} * 366 * 86400;
  while (cur < limit) {
    time_t local = static_cast<time_t>(cur + zone_.offsetAt(cur));
    std::tm tm{};
    ::gmtime_r(&local, &tm);
    int minuteOfDay = tm.tm_hour * 60 + tm.tm_min;
    if (!(month_ & (1ULL << (tm.tm_mon + 1)))) {
      // To the first of the next month (local), whatever today is.
      static const int kDaysIn[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
      int y = tm.tm_year + 1900;
      int days = kDaysIn[tm.tm_mon] +
                 (tm.tm_mon == 1 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 1 : 0);
      cur += (static_cast<std::int64_t>(days - tm.tm_mday + 1) * 1440 - minuteOfDay) * 60;
      continue;
    }
    bool domMatch = dom_ & (1ULL << tm.tm_mday);
    bool dowMatch = dow_ & (1ULL << tm.tm_wday);
    bool dayMatch = (domStar_ || dowStar_) ? (domMatch && dowMatch) : (domMatch || dowMatch);
    if (!dayMatch) {
      cur += static_cast<std::int64_t>(1440 - minuteOfDay) * 60;
      continue;
    }
    if (!(hour_ & (1ULL << tm.tm_hour))) {
      cur += static_cast<std::int64_t>(60 - tm.tm_min) * 60;
      continue;
    }
    if (!(minute_ & (1ULL << tm.tm_min))) {
      cur += 60;
      continue;
    }
    return cur;
  }
  return std::nullopt;
}

}  // namespace berth::controllers::cronjob
