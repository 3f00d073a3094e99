#pragma once
// Controller flags: upstream kube-controller-manager flags by name without dashes
// ("node-monitor-grace-period" → "40s"), as `berth server` / `berth controller-manager` got them
// (ControllerContext::flags). A controller reads its own and keeps upstream's default for absent
// ones; the commands check values with these same parsers, so a controller never sees a bad one.
//
// Thread-safety: stateless functions.
#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>

namespace berth::controllers {

// A Go time.Duration of one or more <number><unit> parts: "40s", "1m30s", "500ms", "2h".
inline std::optional<std::chrono::milliseconds> parseGoDuration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (text == "0") return std::chrono::milliseconds(0);
  double total = 0;
  size_t i = 0;
  while (i < text.size()) {
    char* end = nullptr;
    double n = std::strtod(text.c_str() + i, &end);
    size_t numEnd = static_cast<size_t>(end - text.c_str());
    if (numEnd == i || n < 0) return std::nullopt;
    size_t unitEnd = numEnd;
    while (unitEnd < text.size() && std::isalpha(static_cast<unsigned char>(text[unitEnd])))
      ++unitEnd;
    std::string unit = text.substr(numEnd, unitEnd - numEnd);
    static const std::map<std::string, double> kMillis = {
        {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
    auto it = kMillis.find(unit);
    if (it == kMillis.end()) return std::nullopt;
    total += n * it->second;
    i = unitEnd;
  }
  return std::chrono::milliseconds(static_cast<long long>(total));
}

inline std::chrono::milliseconds durationFlag(const std::map<std::string, std::string>& flags,
                                              const std::string& name,
                                              std::chrono::milliseconds fallback) {
  auto it = flags.find(name);
  if (it == flags.end()) return fallback;
  return parseGoDuration(it->second).value_or(fallback);
}

inline std::string stringFlag(const std::map<std::string, std::string>& flags,
                              const std::string& name, const std::string& fallback) {
  auto it = flags.find(name);
  return it == flags.end() ? fallback : it->second;
}

}  // namespace berth::controllers
