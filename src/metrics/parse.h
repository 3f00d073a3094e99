#pragma once
// A strict reader of the Prometheus text exposition format, for tests of any component's
// /metrics: it checks what a Prometheus server would reject (malformed lines and label sets,
// samples of undeclared families, duplicate families, histogram buckets that are not cumulative
// or whose +Inf bucket differs from _count) and returns the samples.
//
// Thread-safety: pure functions.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::metrics {

struct ParsedSample {
  std::string name;  // as written: "x_bucket", "x_sum", ...
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct ParsedFamily {
  std::string name;
  std::string help;
  std::string type;  // "counter", "gauge", "histogram", ...
  std::vector<ParsedSample> samples;
};

struct ParsedText {
  std::vector<ParsedFamily> families;
  // The family named `name`, or nullptr.
  const ParsedFamily* family(std::string_view name) const;
  // The value of the sample `name` whose labels include all of `labels`; nullopt if none.
  std::optional<double> value(std::string_view name,
                              const std::map<std::string, std::string>& labels = {}) const;
};

// nullopt with *error set ("line N: ...") when the text is not valid exposition format.
std::optional<ParsedText> parseText(std::string_view text, std::string* error);

}  // namespace berth::metrics
