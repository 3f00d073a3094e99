#include "apiserver/printers/format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "apiserver/printers/table.h"

namespace berth::apiserver::printers {

// Mirrors k8s.io/apimachinery/pkg/util/duration.HumanDuration: about two significant figures,
// with up to one second of clock skew treated as "now".
std::string humanDuration(std::chrono::seconds d) {
  const std::int64_t seconds = d.count();
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return std::to_string(seconds) + "s";
  const std::int64_t minutes = seconds / 60;
  if (minutes < 10) {
    const std::int64_t s = seconds % 60;
    if (s == 0) return std::to_string(minutes) + "m";
    return std::to_string(minutes) + "m" + std::to_string(s) + "s";
  }
  if (minutes < 60 * 3) return std::to_string(minutes) + "m";
  const std::int64_t hours = seconds / 3600;
  if (hours < 8) {
    const std::int64_t m = minutes % 60;
    if (m == 0) return std::to_string(hours) + "h";
    return std::to_string(hours) + "h" + std::to_string(m) + "m";
  }
  if (hours < 48) return std::to_string(hours) + "h";
  if (hours < 24 * 8) {
    const std::int64_t h = hours % 24;
    if (h == 0) return std::to_string(hours / 24) + "d";
    return std::to_string(hours / 24) + "d" + std::to_string(h) + "h";
  }
  if (hours < 24 * 365 * 2) return std::to_string(hours / 24) + "d";
  if (hours < 24 * 365 * 8) {
    const std::int64_t dy = (hours / 24) % 365;
    if (dy == 0) return std::to_string(hours / 24 / 365) + "y";
    return std::to_string(hours / 24 / 365) + "y" + std::to_string(dy) + "d";
  }
  return std::to_string(hours / 24 / 365) + "y";
}

std::string ageOf(std::string_view rfc3339, std::chrono::system_clock::time_point now) {
  return internal::since(internal::parseTime(rfc3339), now);
}

namespace internal {
namespace json = boost::json;

const json::value* field(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() ? nullptr : &it->value();
}

const json::object* objectAt(const json::object& o, std::string_view key) {
  const json::value* v = field(o, key);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

const json::object* objectAt(const json::object& o, std::initializer_list<std::string_view> path) {
  const json::object* cur = &o;
  for (std::string_view key : path) {
    cur = objectAt(*cur, key);
    if (cur == nullptr) return nullptr;
  }
  return cur;
}

const json::array* arrayAt(const json::object& o, std::string_view key) {
  const json::value* v = field(o, key);
  return v != nullptr && v->is_array() ? &v->get_array() : nullptr;
}

std::string_view stringAt(const json::object& o, std::string_view key) {
  const json::value* v = field(o, key);
  if (v == nullptr || !v->is_string()) return {};
  const json::string& s = v->get_string();
  return {s.data(), s.size()};
}

std::string_view stringAt(const json::object* o, std::string_view key) {
  return o == nullptr ? std::string_view{} : stringAt(*o, key);
}

std::optional<std::int64_t> intAt(const json::object& o, std::string_view key) {
  const json::value* v = field(o, key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) {
    std::uint64_t u = v->get_uint64();
    return u > static_cast<std::uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(u);
  }
  if (v->is_double()) {
    double d = v->get_double();
    if (std::isfinite(d) && d >= -9.2e18 && d <= 9.2e18 && d == std::floor(d)) {
      return static_cast<std::int64_t>(d);
    }
  }
  return std::nullopt;
}

std::int64_t intOr(const json::object* o, std::string_view key, std::int64_t fallback) {
  if (o == nullptr) return fallback;
  return intAt(*o, key).value_or(fallback);
}

std::optional<bool> boolAt(const json::object& o, std::string_view key) {
  const json::value* v = field(o, key);
  if (v == nullptr || !v->is_bool()) return std::nullopt;
  return v->get_bool();
}

std::int64_t sizeAt(const json::object& o, std::string_view key) {
  const json::value* v = field(o, key);
  if (v == nullptr) return 0;
  if (v->is_object()) return static_cast<std::int64_t>(v->get_object().size());
  if (v->is_array()) return static_cast<std::int64_t>(v->get_array().size());
  return 0;
}

std::string_view metaString(const json::object& obj, std::string_view key) {
  return stringAt(objectAt(obj, "metadata"), key);
}

std::optional<std::string> intOrString(const json::object& o, std::string_view key) {
  const json::value* v = field(o, key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (v->is_string()) return std::string(v->get_string());
  if (auto i = intAt(o, key)) return std::to_string(*i);
  return std::nullopt;
}

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t daysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

}  // namespace

std::optional<TimePoint> parseTime(std::string_view s) {
  int year, month, day, hour, minute, second;
  if (!digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, month) ||
      s[7] != '-' || !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't') ||
      !digits(s, 11, 2, hour) || s[13] != ':' || !digits(s, 14, 2, minute) || s[16] != ':' ||
      !digits(s, 17, 2, second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  size_t pos = 19;
  std::int64_t micros = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int scale = 100000;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (scale > 0) micros += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  std::int64_t offsetSeconds = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(s, pos + 4, 2, om)) {
      return std::nullopt;
    }
    offsetSeconds = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const std::int64_t days =
      daysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const std::int64_t epochSeconds =
      days * 86400 + hour * 3600 + minute * 60 + second - offsetSeconds;
  // Go's zero time.Time: metav1.Time treats it as unset (IsZero).
  if (year == 1 && month == 1 && day == 1 && hour == 0 && minute == 0 && second == 0 &&
      micros == 0 && offsetSeconds == 0) {
    return std::nullopt;
  }
  return TimePoint(std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(epochSeconds) +
                                                               std::chrono::microseconds(micros)));
}

std::string formatTimeUtc(TimePoint t) {
  const std::int64_t total = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
  std::int64_t days = total >= 0 ? total / 86400 : (total - 86399) / 86400;
  std::int64_t rem = total - days * 86400;
  // civil_from_days (H. Hinnant).
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ",
                static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600),
                static_cast<long long>(rem % 3600 / 60), static_cast<long long>(rem % 60));
  return buf;
}

std::string since(std::optional<TimePoint> t, TimePoint now) {
  if (!t) return "<unknown>";
  // duration_cast truncates toward zero, as Go's int(d.Seconds()) does.
  return humanDuration(std::chrono::duration_cast<std::chrono::seconds>(now - *t));
}

std::string sinceField(const json::object* o, std::string_view key, TimePoint now) {
  if (o == nullptr) return "<unknown>";
  return since(parseTime(stringAt(*o, key)), now);
}

std::string formatLabels(const json::object* labels) {
  if (labels == nullptr || labels->empty()) return "<none>";
  std::map<std::string, std::string> sorted;
  for (const auto& kv : *labels) {
    const json::value& v = kv.value();
    sorted[std::string(kv.key())] = v.is_string() ? std::string(v.get_string()) : "";
  }
  std::string out;
  for (const auto& [k, v] : sorted) {
    if (!out.empty()) out += ',';
    out += k + "=" + v;
  }
  return out;
}

std::optional<std::string> labelSelectorString(const json::object* selector) {
  if (selector == nullptr) return std::string();
  // key → rendered requirement; upstream sorts requirements by key.
  std::vector<std::pair<std::string, std::string>> reqs;
  if (const json::object* ml = objectAt(*selector, "matchLabels")) {
    for (const auto& kv : *ml) {
      if (!kv.value().is_string()) return std::nullopt;
      reqs.emplace_back(std::string(kv.key()),
                        std::string(kv.key()) + "=" + std::string(kv.value().get_string()));
    }
  }
  if (const json::array* exprs = arrayAt(*selector, "matchExpressions")) {
    for (const json::value& ev : *exprs) {
      if (!ev.is_object()) return std::nullopt;
      const json::object& e = ev.get_object();
      std::string key(stringAt(e, "key"));
      std::string_view op = stringAt(e, "operator");
      std::vector<std::string> values;
      if (const json::array* vs = arrayAt(e, "values")) {
        for (const json::value& v : *vs) {
          if (!v.is_string()) return std::nullopt;
          values.emplace_back(v.get_string());
        }
      }
      std::sort(values.begin(), values.end());
      if (key.empty()) return std::nullopt;
      if (op == "In" || op == "NotIn") {
        if (values.empty()) return std::nullopt;
        reqs.emplace_back(key, key + (op == "In" ? " in (" : " notin (") + join(values, ",") + ")");
      } else if (op == "Exists" || op == "DoesNotExist") {
        if (!values.empty()) return std::nullopt;
        reqs.emplace_back(key, (op == "Exists" ? "" : "!") + key);
      } else {
        return std::nullopt;
      }
    }
  }
  std::stable_sort(reqs.begin(), reqs.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (const auto& r : reqs) {
    if (!out.empty()) out += ',';
    out += r.second;
  }
  return out;
}

std::string formatLabelSelector(const json::object* selector) {
  auto s = labelSelectorString(selector);
  if (!s) return "<error>";
  return s->empty() ? "<none>" : *s;
}

std::pair<std::string, std::string> containerCells(const json::object* podSpec) {
  std::string names, images;
  const json::array* containers = podSpec ? arrayAt(*podSpec, "containers") : nullptr;
  if (containers == nullptr) return {names, images};
  bool first = true;
  for (const json::value& cv : *containers) {
    if (!first) {
      names += ',';
      images += ',';
    }
    first = false;
    if (!cv.is_object()) continue;
    names += stringAt(cv.get_object(), "name");
    images += stringAt(cv.get_object(), "image");
  }
  return {names, images};
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

std::string toLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string trimSpace(std::string_view s) {
  auto isSpace = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  };
  size_t b = 0, e = s.size();
  while (b < e && isSpace(s[b])) ++b;
  while (e > b && isSpace(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

}  // namespace internal
}  // namespace berth::apiserver::printers
