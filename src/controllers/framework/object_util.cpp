#include "controllers/framework/object_util.h"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <vector>

namespace berth::controllers {

namespace json = boost::json;

const json::value* valueAt(const json::value& obj, std::initializer_list<std::string_view> path) {
  const json::value* cur = &obj;
  for (std::string_view step : path) {
    const json::object* o = cur->if_object();
    if (!o) return nullptr;
    cur = o->if_contains(step);
    if (!cur) return nullptr;
  }
  return cur;
}

long long intAt(const json::value& obj, std::initializer_list<std::string_view> path,
                long long fallback) {
  const json::value* v = valueAt(obj, path);
  if (!v) return fallback;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<long long>(v->get_uint64());
  if (v->is_double()) return static_cast<long long>(v->get_double());
  return fallback;
}

std::string stringAt(const json::value& obj, std::initializer_list<std::string_view> path) {
  const json::value* v = valueAt(obj, path);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::string uidOf(const json::value& obj) { return stringAt(obj, {"metadata", "uid"}); }

core::Labels labelsOfObject(const json::value& obj) {
  const json::object* o = obj.if_object();
  return o ? core::labelsOf(*o) : core::Labels{};
}

std::optional<std::string> annotation(const json::value& obj, std::string_view key) {
  const json::value* v = valueAt(obj, {"metadata", "annotations", key});
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

bool isBeingDeleted(const json::value& obj) {
  const json::value* v = valueAt(obj, {"metadata", "deletionTimestamp"});
  return v && !v->is_null();
}

std::optional<ControllerRef> controllerOf(const json::value& obj) {
  const json::value* refs = valueAt(obj, {"metadata", "ownerReferences"});
  if (!refs || !refs->is_array()) return std::nullopt;
  for (const auto& r : refs->get_array()) {
    const json::value* c = r.is_object() ? r.get_object().if_contains("controller") : nullptr;
    if (!c || !c->is_bool() || !c->get_bool()) continue;
    return ControllerRef{stringAt(r, {"apiVersion"}), stringAt(r, {"kind"}), stringAt(r, {"name"}),
                         stringAt(r, {"uid"})};
  }
  return std::nullopt;
}

json::object newControllerRef(const json::value& owner, std::string_view apiVersion,
                              std::string_view kind) {
  return json::object{{"apiVersion", apiVersion},
                      {"kind", kind},
                      {"name", stringAt(owner, {"metadata", "name"})},
                      {"uid", uidOf(owner)},
                      {"controller", true},
                      {"blockOwnerDeletion", true}};
}

namespace {
bool readInt(std::string_view s, size_t pos, size_t len, int& out) {
  if (pos + len > s.size()) return false;
  auto [p, ec] = std::from_chars(s.data() + pos, s.data() + pos + len, out);
  return ec == std::errc() && p == s.data() + pos + len;
}
}  // namespace

std::optional<SystemTime> parseTime(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
  std::tm tm{};
  int year, mon, day, hour, min, sec;
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':')
    return std::nullopt;
  if (!readInt(s, 0, 4, year) || !readInt(s, 5, 2, mon) || !readInt(s, 8, 2, day) ||
      !readInt(s, 11, 2, hour) || !readInt(s, 14, 2, min) || !readInt(s, 17, 2, sec))
    return std::nullopt;
  size_t pos = 19;
  long long nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    long long scale = 100000000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      nanos += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
  }
  long long offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos + 6 == s.size() && (s[pos] == '+' || s[pos] == '-') && s[pos + 3] == ':') {
    int oh, om;
    if (!readInt(s, pos + 1, 2, oh) || !readInt(s, pos + 4, 2, om)) return std::nullopt;
    offset = (oh * 3600LL + om * 60LL) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  time_t t = timegm(&tm);
  return SystemTime(std::chrono::seconds(t - offset)) +
         std::chrono::duration_cast<SystemTime::duration>(std::chrono::nanoseconds(nanos));
}

std::string formatTime(SystemTime t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

namespace {
void writeCanonical(const json::value& v, std::string& out) {
  if (const json::object* o = v.if_object()) {
    std::vector<std::pair<std::string_view, const json::value*>> items;
    for (const auto& kv : *o) items.emplace_back(kv.key(), &kv.value());
    std::sort(items.begin(), items.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    out += '{';
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out += ',';
      out += json::serialize(json::value(items[i].first));
      out += ':';
      writeCanonical(*items[i].second, out);
    }
    out += '}';
  } else if (const json::array* a = v.if_array()) {
    out += '[';
    for (size_t i = 0; i < a->size(); ++i) {
      if (i) out += ',';
      writeCanonical((*a)[i], out);
    }
    out += ']';
  } else {
    out += json::serialize(v);
  }
}
}  // namespace

std::string canonicalJson(const json::value& v) {
  std::string out;
  writeCanonical(v, out);
  return out;
}

}  // namespace berth::controllers
