#include "apiserver/protobuf/special_types.h"

#include <array>
#include <limits>

namespace berth::apiserver::protobuf::internal {
namespace {

constexpr std::int64_t kSecondsPerDay = 86400;
// Unix seconds of 0000-01-01T00:00:00Z and of 10000-01-01T00:00:00Z.
constexpr std::int64_t kMinSeconds = -62167219200;
constexpr std::int64_t kMaxSeconds = 253402300800;

// Days since 1970-01-01 → civil date (proleptic Gregorian), after H. Hinnant's algorithm.
void civilFromDays(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
}

std::int64_t daysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void appendPadded(std::string& out, std::int64_t v, int width) {
  std::string digits = std::to_string(v);
  if (static_cast<int>(digits.size()) < width) out.append(width - digits.size(), '0');
  out += digits;
}

bool readDigits(std::string_view s, std::size_t& pos, int count, int& value) {
  if (pos + count > s.size()) return false;
  value = 0;
  for (int i = 0; i < count; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  pos += count;
  return true;
}

// Go's fmtFrac + fmtInt: v / scale with the fraction's trailing zeros trimmed.
std::string fraction(std::uint64_t v, std::uint64_t scale) {
  std::string out = std::to_string(v / scale);
  std::uint64_t frac = v % scale;
  if (frac != 0) {
    std::string digits;
    for (std::uint64_t s = scale / 10; s > 0; s /= 10) {
      digits += static_cast<char>('0' + (frac / s) % 10);
    }
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
    out += "." + digits;
  }
  return out;
}

}  // namespace

std::optional<std::string> formatRfc3339(UnixTime t, bool micro) {
  if (t.seconds < kMinSeconds || t.seconds >= kMaxSeconds) return std::nullopt;
  std::int64_t days = t.seconds / kSecondsPerDay;
  std::int64_t secs = t.seconds % kSecondsPerDay;
  if (secs < 0) {
    secs += kSecondsPerDay;
    --days;
  }
  std::int64_t y;
  unsigned m, d;
  civilFromDays(days, y, m, d);
  std::string out;
  out.reserve(27);
  appendPadded(out, y, 4);
  out += '-';
  appendPadded(out, m, 2);
  out += '-';
  appendPadded(out, d, 2);
  out += 'T';
  appendPadded(out, secs / 3600, 2);
  out += ':';
  appendPadded(out, secs / 60 % 60, 2);
  out += ':';
  appendPadded(out, secs % 60, 2);
  if (micro) {
    out += '.';
    appendPadded(out, t.nanos / 1000, 6);
  }
  out += 'Z';
  return out;
}

std::optional<UnixTime> parseRfc3339(std::string_view s) {
  std::size_t pos = 0;
  int year, month, day, hour, minute, second;
  auto expect = [&](char c) {
    if (pos < s.size() && (s[pos] == c || (c == 'T' && s[pos] == 't'))) {
      ++pos;
      return true;
    }
    return false;
  };
  if (!readDigits(s, pos, 4, year) || !expect('-') || !readDigits(s, pos, 2, month) ||
      !expect('-') || !readDigits(s, pos, 2, day) || !expect('T') || !readDigits(s, pos, 2, hour) ||
      !expect(':') || !readDigits(s, pos, 2, minute) || !expect(':') ||
      !readDigits(s, pos, 2, second)) {
    return std::nullopt;
  }
  static constexpr std::array<int, 12> kDaysIn = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDaysIn[month - 1] || hour > 23 || minute > 59 ||
      second > 59) {
    return std::nullopt;
  }
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap) return std::nullopt;
  std::int32_t nanos = 0;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    ++pos;
    std::size_t start = pos;
    std::int64_t scale = 100000000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      nanos += static_cast<std::int32_t>((s[pos] - '0') * scale);
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  std::int64_t offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int oh, om;
    if (!readDigits(s, pos, 2, oh) || !expect(':') || !readDigits(s, pos, 2, om) || oh > 23 ||
        om > 59) {
      return std::nullopt;
    }
    offset = sign * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  std::int64_t days = daysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return UnixTime{days * kSecondsPerDay + hour * 3600 + minute * 60 + second - offset, nanos};
}

std::string formatGoDuration(std::int64_t d) {
  if (d == 0) return "0s";
  const bool negative = d < 0;
  std::uint64_t u = negative ? 0 - static_cast<std::uint64_t>(d) : static_cast<std::uint64_t>(d);
  std::string out;
  if (u < 1000000000) {
    if (u < 1000) {
      out = std::to_string(u) + "ns";
    } else if (u < 1000000) {
      out = fraction(u, 1000) + "\u00b5s";
    } else {
      out = fraction(u, 1000000) + "ms";
    }
  } else {
    out = fraction(u % 60000000000ULL, 1000000000) + "s";
    std::uint64_t minutes = u / 60000000000ULL;
    if (minutes > 0) {
      out = std::to_string(minutes % 60) + "m" + out;
      if (minutes / 60 > 0) out = std::to_string(minutes / 60) + "h" + out;
    }
  }
  return negative ? "-" + out : out;
}

std::optional<std::int64_t> parseGoDuration(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return 0;
  if (s.empty()) return std::nullopt;
  constexpr std::uint64_t kLimit = std::uint64_t{1} << 63;
  std::uint64_t total = 0;
  while (!s.empty()) {
    std::uint64_t whole = 0;
    std::size_t i = 0;
    bool digits = false;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (whole > (kLimit - 9) / 10) return std::nullopt;
      whole = whole * 10 + static_cast<std::uint64_t>(s[i] - '0');
      ++i;
      digits = true;
    }
    std::uint64_t fracDigits = 0, fracScale = 1;
    if (i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        if (fracScale < 1000000000000000000ULL) {
          fracDigits = fracDigits * 10 + static_cast<std::uint64_t>(s[i] - '0');
          fracScale *= 10;
        }
        ++i;
        digits = true;
      }
    }
    if (!digits) return std::nullopt;
    std::size_t unitStart = i;
    while (i < s.size() && s[i] != '.' && (s[i] < '0' || s[i] > '9')) ++i;
    std::string_view unit = s.substr(unitStart, i - unitStart);
    std::uint64_t scale;
    if (unit == "ns") {
      scale = 1;
    } else if (unit == "us" || unit == "\u00b5s" || unit == "\u03bcs") {
      scale = 1000;
    } else if (unit == "ms") {
      scale = 1000000;
    } else if (unit == "s") {
      scale = 1000000000ULL;
    } else if (unit == "m") {
      scale = 60000000000ULL;
    } else if (unit == "h") {
      scale = 3600000000000ULL;
    } else {
      return std::nullopt;
    }
    if (whole > kLimit / scale) return std::nullopt;
    std::uint64_t v = whole * scale;
    // Fraction: fracDigits/fracScale of a unit (Go rounds down).
    long double f = static_cast<long double>(fracDigits) * static_cast<long double>(scale) /
                    static_cast<long double>(fracScale);
    v += static_cast<std::uint64_t>(f);
    total += v;
    if (v > kLimit || total > kLimit) return std::nullopt;
    s.remove_prefix(i);
  }
  if (!negative && total == kLimit) return std::nullopt;
  return negative ? static_cast<std::int64_t>(0 - total) : static_cast<std::int64_t>(total);
}

}  // namespace berth::apiserver::protobuf::internal
