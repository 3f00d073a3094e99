#include "kubelet/streaming/cri_log.h"

#include <charconv>
#include <ctime>

namespace berth::kubelet::streaming {
namespace {

bool digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

std::optional<int64_t> parseInt(std::string_view s) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<int64_t> parseRfc3339(std::string_view t) {
  int year, month, day, hour, minute, second;
  if (t.size() < 20 || !digits(t, 0, 4, &year) || t[4] != '-' || !digits(t, 5, 2, &month) ||
      t[7] != '-' || !digits(t, 8, 2, &day) || (t[10] != 'T' && t[10] != 't') ||
      !digits(t, 11, 2, &hour) || t[13] != ':' || !digits(t, 14, 2, &minute) || t[16] != ':' ||
      !digits(t, 17, 2, &second))
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    int64_t scale = 100000000;
    size_t start = pos;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
      if (scale > 0) nanos += (t[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int64_t offsetSeconds = 0;
  if (pos >= t.size()) return std::nullopt;
  if (t[pos] == 'Z' || t[pos] == 'z') {
    ++pos;
  } else if (t[pos] == '+' || t[pos] == '-') {
    int oh, om;
    if (!digits(t, pos + 1, 2, &oh) || pos + 3 >= t.size() || t[pos + 3] != ':' ||
        !digits(t, pos + 4, 2, &om))
      return std::nullopt;
    offsetSeconds = (oh * 3600 + om * 60) * (t[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != t.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  int64_t seconds = static_cast<int64_t>(timegm(&tm)) - offsetSeconds;
  return seconds * 1000000000 + nanos;
}

std::string formatRfc3339Nano(int64_t unixNanos) {
  time_t seconds = static_cast<time_t>(unixNanos / 1000000000);
  int64_t nanos = unixNanos % 1000000000;
  if (nanos < 0) {
    nanos += 1000000000;
    --seconds;
  }
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(nanos));
  return buf;
}

std::string formatCriLogLine(int64_t unixNanos, std::string_view stream, bool partial,
                             std::string_view text) {
  std::string line = formatRfc3339Nano(unixNanos);
  line += ' ';
  line += stream;
  line += partial ? " P " : " F ";
  line += text;
  line += '\n';
  return line;
}

std::optional<CriLogEntry> parseCriLogLine(std::string_view line) {
  CriLogEntry e;
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return std::nullopt;
  e.timestamp = line.substr(0, sp1);
  auto nanos = parseRfc3339(e.timestamp);
  if (!nanos) return std::nullopt;
  e.unixNanos = *nanos;
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return std::nullopt;
  e.stream = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (e.stream != "stdout" && e.stream != "stderr") return std::nullopt;
  // The tag field may carry several ':'-separated tags; only P (partial) matters.
  size_t sp3 = line.find(' ', sp2 + 1);
  std::string_view tag =
      line.substr(sp2 + 1, sp3 == std::string_view::npos ? line.npos : sp3 - sp2 - 1);
  if (tag.empty()) return std::nullopt;
  e.partial = tag.substr(0, tag.find(':')) == "P";
  if (!e.partial && tag.substr(0, tag.find(':')) != "F") return std::nullopt;
  e.text = sp3 == std::string_view::npos ? std::string_view() : line.substr(sp3 + 1);
  return e;
}

core::Result<LogOptions> parseLogOptions(const std::multimap<std::string, std::string>& query,
                                         int64_t nowNanos) {
  auto get = [&](const char* key) -> std::optional<std::string> {
    auto it = query.find(key);
    if (it == query.end()) return std::nullopt;
    return it->second;
  };
  auto boolean = [&](const char* key) {
    auto v = get(key);
    return v && *v != "" && *v != "0" && *v != "false" && *v != "False" && *v != "FALSE";
  };
  LogOptions o;
  if (auto c = get("container")) o.container = *c;
  o.follow = boolean("follow");
  o.previous = boolean("previous");
  o.timestamps = boolean("timestamps");
  auto number = [&](const char* key, std::optional<int64_t>* out) -> core::Status {
    auto v = get(key);
    if (!v) return {};
    auto n = parseInt(*v);
    if (!n) return core::Status::badRequest(std::string("invalid ") + key + ": " + *v);
    *out = n;
    return {};
  };
  std::optional<int64_t> sinceSeconds;
  for (auto [key, out] :
       {std::pair{"tailLines", &o.tailLines}, std::pair{"limitBytes", &o.limitBytes},
        std::pair{"sinceSeconds", &sinceSeconds}}) {
    if (auto st = number(key, out); !st.ok()) return st;
  }
  if (o.tailLines && *o.tailLines < 0)
    return core::Status::badRequest("tailLines: must be greater than or equal to 0");
  if (o.limitBytes && *o.limitBytes < 1)
    return core::Status::badRequest("limitBytes: must be greater than 0");
  auto sinceTime = get("sinceTime");
  if (sinceSeconds && sinceTime)
    return core::Status::badRequest(
        "at most one of `sinceTime` or `sinceSeconds` may be specified");
  if (sinceSeconds) {
    if (*sinceSeconds < 1) return core::Status::badRequest("sinceSeconds: must be greater than 0");
    o.sinceNanos = nowNanos - *sinceSeconds * 1000000000;
  } else if (sinceTime) {
    auto t = parseRfc3339(*sinceTime);
    if (!t) return core::Status::badRequest("invalid sinceTime: " + *sinceTime);
    o.sinceNanos = *t;
  }
  return o;
}

size_t tailStart(std::string_view content, int64_t lines) {
  if (lines <= 0) return content.size();
  size_t end = content.size();
  // A trailing newline ends the last line; it does not start another one.
  if (end > 0 && content[end - 1] == '\n') --end;
  int64_t seen = 0;
  for (size_t i = end; i > 0; --i) {
    if (content[i - 1] == '\n' && ++seen == lines) return i;
  }
  return 0;
}

std::string LogRenderer::render(std::string_view bytes) {
  std::string out;
  if (limitReached_) return out;
  carry_.append(bytes);
  size_t pos = 0;
  for (;;) {
    size_t nl = carry_.find('\n', pos);
    if (nl == std::string::npos) break;
    std::string_view line(carry_.data() + pos, nl - pos);
    pos = nl + 1;
    auto entry = parseCriLogLine(line);
    if (!entry) continue;
    if (options_.sinceNanos && entry->unixNanos < *options_.sinceNanos) continue;
    std::string piece;
    if (options_.timestamps) {
      piece.append(entry->timestamp);
      piece.push_back(' ');
    }
    piece.append(entry->text);
    if (!entry->partial) piece.push_back('\n');
    if (options_.limitBytes) {
      int64_t room = *options_.limitBytes - written_;
      if (static_cast<int64_t>(piece.size()) >= room) {
        out.append(piece, 0, static_cast<size_t>(room));
        written_ += room;
        limitReached_ = true;
        break;
      }
    }
    written_ += static_cast<int64_t>(piece.size());
    out += piece;
  }
  carry_.erase(0, pos);
  return out;
}

}  // namespace berth::kubelet::streaming
