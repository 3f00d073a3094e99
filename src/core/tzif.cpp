// The TZif reader and POSIX TZ rules of core/tzif.h (RFC 8536 and POSIX.1-2017 section 8.3).
#include "core/tzif.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

namespace berth::core::tz {

int64_t daysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

namespace {

constexpr int64_t kDay = 86400;

int64_t floorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool isLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int daysInMonth(int64_t y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && isLeap(y) ? 29 : kDays[m - 1];
}

// The year of a day number (days since 1970-01-01), after Hinnant's civil_from_days.
int64_t yearOfDay(int64_t z) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  return yoe + era * 400 + (mp >= 10);
}

// ---- POSIX TZ rules ------------------------------------------------------------------------

class RuleParser {
 public:
  explicit RuleParser(std::string_view s) : s_(s) {}

  bool done() const { return i_ == s_.size(); }
  bool peek(char c) const { return i_ < s_.size() && s_[i_] == c; }
  bool accept(char c) {
    if (!peek(c)) return false;
    ++i_;
    return true;
  }

  // A zone abbreviation: three or more letters, or <...> with letters, digits, + and -.
  bool name() {
    if (accept('<')) {
      size_t start = i_;
      while (i_ < s_.size() && s_[i_] != '>') ++i_;
      if (i_ - start < 3 || !accept('>')) return false;
      return true;
    }
    size_t start = i_;
    while (i_ < s_.size() && std::isalpha(static_cast<unsigned char>(s_[i_]))) ++i_;
    return i_ - start >= 3;
  }

  std::optional<int> number(int max) {
    size_t start = i_;
    int v = 0;
    while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_])) && i_ - start < 3)
      v = v * 10 + (s_[i_++] - '0');
    if (i_ == start || v > max) return std::nullopt;
    return v;
  }

  // [+-]hh[:mm[:ss]] as seconds; hours up to 167 (RFC 8536's extension of POSIX).
  std::optional<int32_t> duration() {
    bool neg = false;
    if (peek('+') || peek('-')) neg = s_[i_++] == '-';
    auto h = number(167);
    if (!h) return std::nullopt;
    int32_t secs = *h * 3600;
    if (accept(':')) {
      auto m = number(59);
      if (!m) return std::nullopt;
      secs += *m * 60;
      if (accept(':')) {
        auto sec = number(59);
        if (!sec) return std::nullopt;
        secs += *sec;
      }
    }
    return neg ? -secs : secs;
  }

  std::optional<PosixRule::Date> date() {
    PosixRule::Date d;
    if (accept('M')) {
      auto m = number(12), w = accept('.') ? number(5) : std::nullopt;
      auto wd = w && accept('.') ? number(6) : std::nullopt;
      if (!m || *m < 1 || !w || *w < 1 || !wd) return std::nullopt;
      d.kind = PosixRule::Date::Kind::kMonthWeekDay;
      d.month = *m;
      d.week = *w;
      d.day = *wd;
    } else if (accept('J')) {
      auto n = number(365);
      if (!n || *n < 1) return std::nullopt;
      d.kind = PosixRule::Date::Kind::kJulian1;
      d.day = *n;
    } else {
      auto n = number(365);
      if (!n) return std::nullopt;
      d.kind = PosixRule::Date::Kind::kJulian0;
      d.day = *n;
    }
    if (accept('/')) {
      auto t = duration();
      if (!t) return std::nullopt;
      d.time = *t;
    }
    return d;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

// The day number (since 1970-01-01) of a rule date in year `y`.
int64_t dayOf(const PosixRule::Date& d, int64_t y) {
  int64_t jan1 = daysFromCivil(y, 1, 1);
  switch (d.kind) {
    case PosixRule::Date::Kind::kJulian1:
      return jan1 + d.day - 1 + (isLeap(y) && d.day >= 60 ? 1 : 0);
    case PosixRule::Date::Kind::kJulian0:
      return jan1 + d.day;
    case PosixRule::Date::Kind::kMonthWeekDay:
      break;
  }
  int64_t first = daysFromCivil(y, d.month, 1);
  int dow = static_cast<int>(((first % 7) + 7 + 4) % 7);  // 1970-01-01 was a Thursday
  int day = 1 + (d.day - dow + 7) % 7 + (d.week - 1) * 7;
  while (day > daysInMonth(y, d.month)) day -= 7;
  return first + day - 1;
}

}  // namespace

std::optional<PosixRule> parsePosixRule(std::string_view text) {
  RuleParser p(text);
  PosixRule r;
  if (!p.name()) return std::nullopt;
  auto standard = p.duration();
  if (!standard) return std::nullopt;
  r.stdOffset = -*standard;
  if (p.done()) return r;
  if (!p.name()) return std::nullopt;
  r.hasDst = true;
  r.dstOffset = r.stdOffset + 3600;
  if (!p.done() && !p.peek(',')) {
    auto dst = p.duration();
    if (!dst) return std::nullopt;
    r.dstOffset = -*dst;
  }
  if (p.done()) {
    // No dates: POSIX leaves them to the implementation; Go uses the US rule since 2007.
    r.start = *RuleParser("M3.2.0").date();
    r.end = *RuleParser("M11.1.0").date();
    return r;
  }
  if (!p.accept(',')) return std::nullopt;
  auto start = p.date();
  if (!start || !p.accept(',')) return std::nullopt;
  auto end = p.date();
  if (!end || !p.done()) return std::nullopt;
  r.start = *start;
  r.end = *end;
  return r;
}

int32_t posixOffsetAt(const PosixRule& rule, int64_t t) {
  if (!rule.hasDst) return rule.stdOffset;
  // Beyond any representable timestamp the rule still answers, without overflowing.
  constexpr int64_t kLimit = int64_t{1} << 50;
  t = std::clamp(t, -kLimit, kLimit);
  int64_t year = yearOfDay(floorDiv(t + rule.stdOffset, kDay));
  // The start is given in local standard time, the end in local daylight time.
  int64_t start = dayOf(rule.start, year) * kDay + rule.start.time - rule.stdOffset;
  int64_t end = dayOf(rule.end, year) * kDay + rule.end.time - rule.dstOffset;
  bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
  return dst ? rule.dstOffset : rule.stdOffset;
}

namespace {

// ---- TZif ----------------------------------------------------------------------------------

class Reader {
 public:
  explicit Reader(std::string_view d) : d_(d) {}
  bool has(size_t n) const { return d_.size() - i_ >= n; }
  uint64_t be(size_t n) {
    uint64_t v = 0;
    for (size_t k = 0; k < n; ++k) v = v << 8 | static_cast<unsigned char>(d_[i_++]);
    return v;
  }
  void skip(size_t n) { i_ += n; }
  std::string_view rest() const { return d_.substr(i_); }

 private:
  std::string_view d_;
  size_t i_ = 0;
};

struct Header {
  char version = 0;
  uint64_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;
};

std::optional<Header> header(Reader& r) {
  if (!r.has(44) || r.rest().substr(0, 4) != "TZif") return std::nullopt;
  r.skip(4);
  Header h;
  h.version = static_cast<char>(r.be(1));
  r.skip(15);
  h.isutcnt = r.be(4);
  h.isstdcnt = r.be(4);
  h.leapcnt = r.be(4);
  h.timecnt = r.be(4);
  h.typecnt = r.be(4);
  h.charcnt = r.be(4);
  return h;
}

// The size of a data block of `h` with `timeSize`-byte times.
uint64_t blockSize(const Header& h, uint64_t timeSize) {
  return h.timecnt * timeSize + h.timecnt + h.typecnt * 6 + h.charcnt + h.leapcnt * (timeSize + 4) +
         h.isstdcnt + h.isutcnt;
}

}  // namespace

std::variant<Zone, std::string> parseTzif(std::string_view data) {
  Reader r(data);
  auto h = header(r);
  if (!h) return std::string("not a TZif file");
  if (h->version != 0 && (h->version < '2' || h->version > '9') && h->version != '1')
    return std::string("unsupported TZif version");
  // Counts are bounded by the file size before anything is allocated from them.
  constexpr uint64_t kMaxCount = 1 << 20;
  auto sane = [&](const Header& x) {
    return x.timecnt < kMaxCount && x.typecnt < 256 && x.typecnt > 0 && x.charcnt < kMaxCount &&
           x.leapcnt < kMaxCount && (x.isutcnt == 0 || x.isutcnt == x.typecnt) &&
           (x.isstdcnt == 0 || x.isstdcnt == x.typecnt);
  };
  if (!sane(*h)) return std::string("malformed TZif header");
  uint64_t timeSize = 4;
  if (h->version >= '2') {
    // Skip the 32-bit block; the 64-bit one follows with its own header.
    if (!r.has(blockSize(*h, 4))) return std::string("truncated TZif data");
    r.skip(blockSize(*h, 4));
    h = header(r);
    if (!h || !sane(*h)) return std::string("malformed TZif header");
    timeSize = 8;
  }
  if (!r.has(blockSize(*h, timeSize))) return std::string("truncated TZif data");
  Zone z;
  for (uint64_t i = 0; i < h->timecnt; ++i) {
    uint64_t raw = r.be(timeSize);
    int64_t t = timeSize == 4 ? static_cast<int32_t>(raw) : static_cast<int64_t>(raw);
    if (!z.transitions.empty() && t <= z.transitions.back())
      return std::string("TZif transitions out of order");
    z.transitions.push_back(t);
  }
  for (uint64_t i = 0; i < h->timecnt; ++i) {
    uint8_t idx = static_cast<uint8_t>(r.be(1));
    if (idx >= h->typecnt) return std::string("TZif transition of an unknown type");
    z.typeOfTransition.push_back(idx);
  }
  for (uint64_t i = 0; i < h->typecnt; ++i) {
    LocalType lt;
    lt.utcOffset = static_cast<int32_t>(r.be(4));
    uint64_t dst = r.be(1), desig = r.be(1);
    if (dst > 1 || (h->charcnt > 0 && desig >= h->charcnt) || lt.utcOffset == INT32_MIN ||
        lt.utcOffset < -89999 || lt.utcOffset > 93599)
      return std::string("malformed TZif local time type");
    lt.dst = dst == 1;
    z.types.push_back(lt);
  }
  r.skip(h->charcnt + h->leapcnt * (timeSize + 4) + h->isstdcnt + h->isutcnt);
  if (timeSize == 8) {
    std::string_view footer = r.rest();
    if (footer.size() >= 2 && footer[0] == '\n') {
      size_t end = footer.find('\n', 1);
      if (end == std::string_view::npos) return std::string("malformed TZif footer");
      std::string_view rule = footer.substr(1, end - 1);
      if (!rule.empty()) {
        z.footer = parsePosixRule(rule);
        if (!z.footer) return std::string("malformed TZif footer");
      }
    }
  }
  return z;
}

int32_t offsetAt(const Zone& zone, int64_t t) {
  const auto& ts = zone.transitions;
  if (ts.empty() || t < ts.front()) {
    if (ts.empty() && zone.footer) return posixOffsetAt(*zone.footer, t);
    return zone.types.front().utcOffset;
  }
  if (t >= ts.back() && zone.footer) return posixOffsetAt(*zone.footer, t);
  size_t i = static_cast<size_t>(std::upper_bound(ts.begin(), ts.end(), t) - ts.begin()) - 1;
  return zone.types[zone.typeOfTransition[i]].utcOffset;
}

namespace {

using Loaded = std::variant<std::shared_ptr<const Zone>, std::string>;

const std::shared_ptr<const Zone>& utcZone() {
  static const auto kUtc = std::make_shared<const Zone>(Zone{{}, {}, {LocalType{}}, {}});
  return kUtc;
}

// The zone in the file at `path`, cached by path; `name` words the error.
Loaded loadFile(const std::string& path, const std::string& name) {
  static std::mutex mu;
  static std::map<std::string, Loaded> cache;
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = cache.find(path); it != cache.end()) {
    if (std::holds_alternative<std::string>(it->second)) return "unknown time zone " + name;
    return it->second;
  }
  Loaded out = std::string("unknown time zone " + name);
  std::ifstream in(path, std::ios::binary);
  if (in) {
    std::ostringstream buf;
    buf << in.rdbuf();
    std::string bytes = buf.str();
    if (bytes.size() <= 1 << 20) {
      auto parsed = parseTzif(bytes);
      if (auto* z = std::get_if<Zone>(&parsed)) out = std::make_shared<const Zone>(std::move(*z));
    }
  }
  if (cache.size() < 1024) cache.emplace(path, out);  // names are user input: bound the cache
  return out;
}

std::string zoneDir(const std::string& dir) {
  if (!dir.empty()) return dir;
  const char* env = std::getenv("ZONEINFO");
  return env && *env ? env : "/usr/share/zoneinfo";
}

// Go's time.Local (initLocal): $TZ unset reads /etc/localtime; $TZ empty or "UTC" is UTC;
// otherwise $TZ (a leading ':' dropped) is an absolute file or a zone name. Any failure is UTC.
std::shared_ptr<const Zone> localZone(const std::string& dir) {
  const char* env = std::getenv("TZ");
  Loaded z = std::string();
  if (env == nullptr) {
    z = loadFile("/etc/localtime", "Local");
  } else {
    std::string tz = env;
    if (!tz.empty() && tz[0] == ':') tz.erase(0, 1);
    if (!tz.empty() && tz[0] == '/') {
      z = loadFile(tz, tz);
    } else if (!tz.empty() && tz != "UTC" && tz.find("..") == std::string::npos) {
      z = loadFile(zoneDir(dir) + "/" + tz, tz);
    }
  }
  auto* zone = std::get_if<std::shared_ptr<const Zone>>(&z);
  return zone ? *zone : utcZone();
}

}  // namespace

Loaded loadZone(const std::string& name, const std::string& dir) {
  if (name.empty() || name == "UTC") return utcZone();
  if (name == "Local") return localZone(dir);
  // Go's containsDotDot and absolute-path checks.
  if (name[0] == '/' || name[0] == '\\' || name.find("..") != std::string::npos)
    return std::string("time: invalid location name");
  return loadFile(zoneDir(dir) + "/" + name, name);
}

Location Location::utc() { return Location("UTC", utcZone()); }

Result<Location> Location::load(const std::string& name, const std::string& dir) {
  auto z = loadZone(name, dir);
  if (auto* err = std::get_if<std::string>(&z)) return Status::badRequest(*err);
  return Location(name.empty() ? "UTC" : name, std::get<0>(std::move(z)));
}

}  // namespace berth::core::tz
