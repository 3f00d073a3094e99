// Strict Prometheus text format reader (see parse.h).
#include "metrics/parse.h"

#include <cmath>
#include <cstdlib>
#include <set>

namespace berth::metrics {
namespace {

bool isNameStart(char c, bool colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}
bool isNameChar(char c, bool colon) { return isNameStart(c, colon) || (c >= '0' && c <= '9'); }

// Reads a metric (colon allowed) or label name at `pos`.
std::optional<std::string> readName(std::string_view line, size_t& pos, bool colon) {
  size_t start = pos;
  if (pos >= line.size() || !isNameStart(line[pos], colon)) return std::nullopt;
  while (pos < line.size() && isNameChar(line[pos], colon)) ++pos;
  return std::string(line.substr(start, pos - start));
}

std::optional<double> readValue(std::string_view text) {
  if (text == "+Inf" || text == "Inf") return HUGE_VAL;
  if (text == "-Inf") return -HUGE_VAL;
  if (text == "NaN") return NAN;
  if (text.empty()) return std::nullopt;
  std::string s(text);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return v;
}

// {a="x",b="y"} at `pos` (which is at '{').
bool readLabels(std::string_view line, size_t& pos, std::map<std::string, std::string>& labels,
                std::string& error) {
  ++pos;
  while (pos < line.size() && line[pos] != '}') {
    auto name = readName(line, pos, false);
    if (!name) return (error = "bad label name", false);
    if (pos + 1 >= line.size() || line[pos] != '=' || line[pos + 1] != '"') {
      return (error = "expected =\" after label " + *name, false);
    }
    pos += 2;
    std::string value;
    for (;;) {
      if (pos >= line.size()) return (error = "unterminated label value", false);
      char c = line[pos++];
      if (c == '"') break;
      if (c == '\\') {
        if (pos >= line.size()) return (error = "dangling escape", false);
        char e = line[pos++];
        if (e == 'n') {
          value += '\n';
        } else if (e == '\\' || e == '"') {
          value += e;
        } else {
          return (error = "bad escape in label value", false);
        }
      } else {
        value += c;
      }
    }
    if (!labels.emplace(*name, value).second) return (error = "duplicate label " + *name, false);
    if (pos < line.size() && line[pos] == ',') ++pos;
  }
  if (pos >= line.size()) return (error = "unterminated label set", false);
  ++pos;  // '}'
  return true;
}

bool belongsTo(const std::string& sample, const ParsedFamily& family) {
  if (sample == family.name) return family.type != "histogram";
  auto suffixed = [&](const char* suffix) { return sample == family.name + suffix; };
  if (family.type == "histogram")
    return suffixed("_bucket") || suffixed("_sum") || suffixed("_count");
  if (family.type == "summary") return suffixed("_sum") || suffixed("_count");
  return false;
}

// Buckets per label set (without le): increasing le, non-decreasing counts, +Inf == _count.
bool checkHistogram(const ParsedFamily& family, std::string& error) {
  std::map<std::map<std::string, std::string>, std::vector<std::pair<double, double>>> buckets;
  std::map<std::map<std::string, std::string>, double> counts;
  for (const auto& s : family.samples) {
    auto labels = s.labels;
    if (s.name == family.name + "_bucket") {
      auto le = labels.find("le");
      if (le == labels.end()) return (error = family.name + ": bucket without le", false);
      auto bound = readValue(le->second);
      if (!bound) return (error = family.name + ": bad le " + le->second, false);
      labels.erase(le);
      buckets[labels].emplace_back(*bound, s.value);
    } else if (s.name == family.name + "_count") {
      counts[labels] = s.value;
    }
  }
  for (const auto& [labels, series] : buckets) {
    for (size_t i = 1; i < series.size(); ++i) {
      if (series[i].first <= series[i - 1].first || series[i].second < series[i - 1].second) {
        return (error = family.name + ": buckets not increasing and cumulative", false);
      }
    }
    if (series.empty() || !std::isinf(series.back().first)) {
      return (error = family.name + ": no +Inf bucket", false);
    }
    auto count = counts.find(labels);
    if (count == counts.end() || count->second != series.back().second) {
      return (error = family.name + ": +Inf bucket differs from _count", false);
    }
  }
  return true;
}

}  // namespace

const ParsedFamily* ParsedText::family(std::string_view name) const {
  for (const auto& f : families) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::optional<double> ParsedText::value(std::string_view name,
                                        const std::map<std::string, std::string>& labels) const {
  for (const auto& f : families) {
    for (const auto& s : f.samples) {
      if (s.name != name) continue;
      bool match = true;
      for (const auto& [k, v] : labels) {
        auto it = s.labels.find(k);
        if (it == s.labels.end() || it->second != v) match = false;
      }
      if (match) return s.value;
    }
  }
  return std::nullopt;
}

std::optional<ParsedText> parseText(std::string_view text, std::string* error) {
  ParsedText out;
  std::set<std::string> seen;
  std::map<std::string, std::string> pendingHelp;
  size_t lineNo = 0;
  std::string why;
  auto fail = [&](const std::string& message) {
    if (error) *error = "line " + std::to_string(lineNo) + ": " + message;
    return std::nullopt;
  };
  while (!text.empty()) {
    ++lineNo;
    size_t nl = text.find('\n');
    if (nl == std::string_view::npos) return fail("missing final newline");
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    if (line.empty()) continue;
    if (line[0] == '#') {
      size_t pos = 0;
      if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
        bool help = line[2] == 'H';
        pos = 7;
        auto name = readName(line, pos, true);
        if (!name || pos >= line.size() || line[pos] != ' ') return fail("bad comment line");
        std::string rest(line.substr(pos + 1));
        if (help) {
          pendingHelp[*name] = rest;
          continue;
        }
        static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary",
                                                     "untyped"};
        if (!kTypes.count(rest)) return fail("unknown type " + rest);
        if (!seen.insert(*name).second) return fail("family " + *name + " declared twice");
        out.families.push_back(ParsedFamily{*name, pendingHelp[*name], rest, {}});
      }
      continue;  // other comments are allowed
    }
    size_t pos = 0;
    ParsedSample sample;
    auto name = readName(line, pos, true);
    if (!name) return fail("bad metric name");
    sample.name = *name;
    if (pos < line.size() && line[pos] == '{' && !readLabels(line, pos, sample.labels, why)) {
      return fail(why);
    }
    if (pos >= line.size() || line[pos] != ' ') return fail("expected a space before the value");
    std::string_view rest = line.substr(pos + 1);
    size_t space = rest.find(' ');
    auto value = readValue(rest.substr(0, space));
    if (!value) return fail("bad value " + std::string(rest.substr(0, space)));
    if (space != std::string_view::npos && !readValue(rest.substr(space + 1))) {
      return fail("bad timestamp");
    }
    sample.value = *value;
    if (out.families.empty() || !belongsTo(sample.name, out.families.back())) {
      return fail("sample " + sample.name + " outside its family's block");
    }
    out.families.back().samples.push_back(std::move(sample));
  }
  for (const auto& f : out.families) {
    if (f.type == "histogram" && !checkHistogram(f, why)) {
      if (error) *error = why;
      return std::nullopt;
    }
  }
  return out;
}

}  // namespace berth::metrics
