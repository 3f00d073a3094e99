// CEL's timestamps and durations (cel-spec's google.protobuf.Timestamp and Duration): RFC 3339
// and Go duration strings, the get* accessors (UTC, a fixed "+HH:MM" offset or a named zone,
// core/tzif.h), arithmetic with overflow checks and conversions, with cel-go's messages.
#include <cstdio>
#include <variant>

#include "cel/functions.h"
#include "cel/k8s_types.h"
#include "core/tzif.h"

namespace berth::cel::detail {
namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;
// cel-go's valid range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999999Z.
constexpr int64_t kMinSeconds = -62135596800;
constexpr int64_t kMaxSeconds = 253402300799;

using core::tz::daysFromCivil;

struct Civil {
  int64_t year;
  int month, day;  // 1-based
};

Civil civilFromDays(int64_t z) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {y + (m <= 2), m, d};
}

int64_t floorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool digits(const std::string& s, size_t at, size_t n, int* out) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

bool inRange(int64_t seconds) { return seconds >= kMinSeconds && seconds <= kMaxSeconds; }

Value timestampOrError(int64_t seconds, int64_t nanos) {
  seconds += floorDiv(nanos, kNanosPerSecond);
  nanos -= floorDiv(nanos, kNanosPerSecond) * kNanosPerSecond;
  if (!inRange(seconds)) return Value::error("timestamp overflow");
  return Value::timestamp(seconds, static_cast<int32_t>(nanos));
}

// An RFC 3339 zone suffix: "UTC", "Z" or a fixed offset "+05:30" / "-08:00", as seconds east
// of UTC.
std::optional<int64_t> zoneOffset(const std::string& tz) {
  if (tz == "UTC" || tz == "Z" || tz.empty()) return 0;
  int h = 0, m = 0;
  size_t at = tz[0] == '+' || tz[0] == '-' ? 1 : 0;
  if (tz.size() != at + 5 || tz[at + 2] != ':' || !digits(tz, at, 2, &h) ||
      !digits(tz, at + 3, 2, &m))
    return std::nullopt;
  int64_t off = h * 3600 + m * 60;
  return tz[0] == '-' ? -off : off;
}

// A zone argument as cel-go's inTimeZone reads it: with a colon, a numeric offset "[+-]HH:MM"
// (hours and minutes as Go's strconv.Atoi reads them); otherwise a zone name for
// time.LoadLocation ("UTC", "America/New_York"). Seconds east of UTC at `t`, or Go's error text.
std::variant<int64_t, std::string> zoneOffsetAt(const std::string& tz, int64_t t) {
  size_t colon = tz.find(':');
  if (colon == std::string::npos) {
    auto zone = core::tz::loadZone(tz);
    if (auto* err = std::get_if<std::string>(&zone)) return *err;
    return static_cast<int64_t>(core::tz::offsetAt(*std::get<0>(zone), t));
  }
  auto atoi = [](const std::string& s) -> std::variant<int64_t, std::string> {
    size_t i = s.size() > 0 && (s[0] == '+' || s[0] == '-') ? 1 : 0;
    int64_t v = 0;
    if (i == s.size()) return "strconv.Atoi: parsing " + goQuote(s) + ": invalid syntax";
    for (; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9')
        return "strconv.Atoi: parsing " + goQuote(s) + ": invalid syntax";
      v = v * 10 + (s[i] - '0');
      if (v > 1'000'000) return "strconv.Atoi: parsing " + goQuote(s) + ": value out of range";
    }
    return s[0] == '-' ? -v : v;
  };
  auto h = atoi(tz.substr(0, colon)), m = atoi(tz.substr(colon + 1));
  if (auto* err = std::get_if<std::string>(&h)) return *err;
  if (auto* err = std::get_if<std::string>(&m)) return *err;
  int64_t minutes =
      tz[0] == '-' ? std::get<0>(h) * 60 - std::get<0>(m) : std::get<0>(h) * 60 + std::get<0>(m);
  return minutes * 60;
}

Value timestampAccessor(const std::string& fn, const Value& ts, const std::string* tz) {
  int64_t offset = 0;
  if (tz) {
    auto o = zoneOffsetAt(*tz, ts.seconds());
    if (auto* err = std::get_if<std::string>(&o)) return Value::error(*err);
    offset = std::get<0>(o);
  }
  int64_t local = ts.seconds() + offset;
  int64_t days = floorDiv(local, 86400);
  int64_t secOfDay = local - days * 86400;
  Civil c = civilFromDays(days);
  if (fn == "getFullYear") return Value::integer(c.year);
  if (fn == "getMonth") return Value::integer(c.month - 1);
  if (fn == "getDate") return Value::integer(c.day);
  if (fn == "getDayOfMonth") return Value::integer(c.day - 1);
  if (fn == "getDayOfYear") return Value::integer(days - daysFromCivil(c.year, 1, 1));
  if (fn == "getDayOfWeek") return Value::integer(((days % 7) + 7 + 4) % 7);  // 1970-01-01: Thu
  if (fn == "getHours") return Value::integer(secOfDay / 3600);
  if (fn == "getMinutes") return Value::integer(secOfDay % 3600 / 60);
  if (fn == "getSeconds") return Value::integer(secOfDay % 60);
  if (fn == "getMilliseconds") return Value::integer(ts.nanos() / 1'000'000);
  return noSuchOverload(fn, {ts});
}

Value durationAccessor(const std::string& fn, const Value& d) {
  int64_t n = d.durationNanos();
  if (fn == "getHours") return Value::integer(n / (3600 * kNanosPerSecond));
  if (fn == "getMinutes") return Value::integer(n / (60 * kNanosPerSecond));
  if (fn == "getSeconds") return Value::integer(n / kNanosPerSecond);
  if (fn == "getMilliseconds") return Value::integer(n / 1'000'000);
  return noSuchOverload(fn, {d});
}

std::string formatDuration(int64_t nanos) {
  // cel-go: the seconds as the shortest decimal, then "s" ("1.5s", "3600s", "-0.001s").
  std::string sign = nanos < 0 ? "-" : "";
  uint64_t n = nanos < 0 ? 0 - static_cast<uint64_t>(nanos) : static_cast<uint64_t>(nanos);
  std::string out = sign + std::to_string(n / kNanosPerSecond);
  if (uint64_t frac = n % kNanosPerSecond) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%09llu", static_cast<unsigned long long>(frac));
    std::string f = buf;
    f.erase(f.find_last_not_of('0') + 1);
    out += "." + f;
  }
  return out + "s";
}

Value arithmetic(const std::string& fn, const Value& a, const Value& b) {
  Kind x = a.kind(), y = b.kind();
  int64_t r = 0;
  if (fn == "_+_" && x == Kind::kTimestamp && y == Kind::kDuration)
    return timestampOrError(a.seconds() + b.durationNanos() / kNanosPerSecond,
                            a.nanos() + b.durationNanos() % kNanosPerSecond);
  if (fn == "_+_" && x == Kind::kDuration && y == Kind::kTimestamp) return arithmetic(fn, b, a);
  if (fn == "_-_" && x == Kind::kTimestamp && y == Kind::kDuration)
    return timestampOrError(a.seconds() - b.durationNanos() / kNanosPerSecond,
                            a.nanos() - b.durationNanos() % kNanosPerSecond);
  if (fn == "_-_" && x == Kind::kTimestamp && y == Kind::kTimestamp) {
    int64_t secs = 0;
    if (__builtin_sub_overflow(a.seconds(), b.seconds(), &secs) ||
        __builtin_mul_overflow(secs, kNanosPerSecond, &r) ||
        __builtin_add_overflow(r, static_cast<int64_t>(a.nanos()) - b.nanos(), &r))
      return Value::error("duration overflow");
    return Value::duration(r);
  }
  if (x == Kind::kDuration && y == Kind::kDuration && (fn == "_+_" || fn == "_-_")) {
    bool overflow = fn == "_+_" ? __builtin_add_overflow(a.durationNanos(), b.durationNanos(), &r)
                                : __builtin_sub_overflow(a.durationNanos(), b.durationNanos(), &r);
    if (overflow) return Value::error("duration overflow");
    return Value::duration(r);
  }
  return noSuchOverload(fn, {a, b});
}

}  // namespace

std::optional<Value> parseTimestamp(const std::string& s) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!digits(s, 0, 4, &y) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, &mo) ||
      s[7] != '-' || !digits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
      !digits(s, 11, 2, &h) || s[13] != ':' || !digits(s, 14, 2, &mi) || s[16] != ':' ||
      !digits(s, 17, 2, &sec))
    return std::nullopt;
  size_t at = 19;
  int64_t nanos = 0;
  if (at < s.size() && s[at] == '.') {
    size_t start = ++at;
    int64_t scale = kNanosPerSecond;
    while (at < s.size() && s[at] >= '0' && s[at] <= '9') {
      if (scale > 1) nanos += (s[at] - '0') * (scale /= 10);
      ++at;
    }
    if (at == start) return std::nullopt;
  }
  int64_t offset = 0;
  if (at < s.size() && (s[at] == 'Z' || s[at] == 'z')) {
    ++at;
  } else {
    auto o = zoneOffset(s.substr(at));
    if (!o || (s[at] != '+' && s[at] != '-')) return std::nullopt;
    offset = *o;
    at = s.size();
  }
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (at != s.size() || mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] ||
      (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || sec > 59)
    return std::nullopt;
  int64_t seconds = daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
  if (!inRange(seconds)) return std::nullopt;
  return Value::timestamp(seconds, static_cast<int32_t>(nanos));
}

std::optional<int64_t> parseGoDuration(const std::string& s) {
  // Go's time.ParseDuration: [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+ or "0".
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  if (s.substr(i) == "0") return 0;
  if (i == s.size()) return std::nullopt;
  long double total = 0;
  while (i < s.size()) {
    size_t start = i;
    long double v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') v = v * 10 + (s[i++] - '0');
    bool pre = i > start;
    bool post = false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 1;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        scale /= 10;
        v += (s[i++] - '0') * scale;
        post = true;
      }
    }
    if (!pre && !post) return std::nullopt;
    size_t u = i;
    while (i < s.size() && s[i] != '.' && (s[i] < '0' || s[i] > '9')) ++i;
    std::string unit = s.substr(u, i - u);
    long double mult = 0;
    if (unit == "ns")
      mult = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs")
      mult = 1e3;
    else if (unit == "ms")
      mult = 1e6;
    else if (unit == "s")
      mult = 1e9;
    else if (unit == "m")
      mult = 60e9;
    else if (unit == "h")
      mult = 3600e9;
    else
      return std::nullopt;
    total += v * mult;
    if (total > 9.223372036854775807e18L) return std::nullopt;
  }
  int64_t n = static_cast<int64_t>(total);
  return neg ? -n : n;
}

std::string formatTimestamp(int64_t seconds, int32_t nanos) {
  int64_t days = floorDiv(seconds, 86400);
  int64_t sod = seconds - days * 86400;
  Civil c = civilFromDays(days);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02lld:%02lld:%02lld",
                static_cast<long long>(c.year), c.month, c.day, static_cast<long long>(sod / 3600),
                static_cast<long long>(sod % 3600 / 60), static_cast<long long>(sod % 60));
  std::string out = buf;
  if (nanos) {
    std::snprintf(buf, sizeof buf, ".%09d", nanos);
    std::string f = buf;
    f.erase(f.find_last_not_of('0') + 1);
    out += f;
  }
  return out + "Z";
}

std::optional<Value> callTimeFunction(const std::string& fn, bool member,
                                      const std::vector<Value>& a) {
  if (a.empty()) return std::nullopt;
  Kind k0 = a[0].kind();
  bool time0 = k0 == Kind::kTimestamp || k0 == Kind::kDuration;
  bool time1 = a.size() == 2 && (a[1].kind() == Kind::kTimestamp || a[1].kind() == Kind::kDuration);
  if (!member && (fn == "_+_" || fn == "_-_") && a.size() == 2 && (time0 || time1))
    return arithmetic(fn, a[0], a[1]);
  if (!member && a.size() == 1 && fn == "timestamp") {
    if (k0 == Kind::kTimestamp) return a[0];
    if (k0 == Kind::kInt) return timestampOrError(a[0].asInt(), 0);
    if (k0 == Kind::kString) {
      auto t = parseTimestamp(a[0].asString());
      if (!t)
        return Value::error("type conversion error from 'string' to 'google.protobuf.Timestamp'");
      return *t;
    }
    return noSuchOverload(fn, a);
  }
  if (!member && a.size() == 1 && fn == "duration") {
    if (k0 == Kind::kDuration) return a[0];
    if (k0 == Kind::kString) {
      auto d = parseGoDuration(a[0].asString());
      if (!d)
        return Value::error("type conversion error from 'string' to 'google.protobuf.Duration'");
      return Value::duration(*d);
    }
    return noSuchOverload(fn, a);
  }
  if (!member && a.size() == 1 && time0) {
    if (fn == "string") {
      return Value::string(k0 == Kind::kTimestamp ? formatTimestamp(a[0].seconds(), a[0].nanos())
                                                  : formatDuration(a[0].durationNanos()));
    }
    if (fn == "int")
      return Value::integer(k0 == Kind::kTimestamp ? a[0].seconds() : a[0].durationNanos());
    if (fn == "dyn") return a[0];
  }
  if (member && k0 == Kind::kTimestamp && fn.rfind("get", 0) == 0) {
    if (a.size() == 1) return timestampAccessor(fn, a[0], nullptr);
    if (a.size() == 2 && a[1].kind() == Kind::kString)
      return timestampAccessor(fn, a[0], &a[1].asString());
    return noSuchOverload(fn, a);
  }
  if (member && k0 == Kind::kDuration && fn.rfind("get", 0) == 0 && a.size() == 1)
    return durationAccessor(fn, a[0]);
  return std::nullopt;
}

}  // namespace berth::cel::detail
