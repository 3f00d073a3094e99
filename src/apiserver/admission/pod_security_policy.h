#pragma once
// The Pod Security Standards (upstream's k8s.io/pod-security-admission/policy): the checks of
// the baseline and restricted levels, each with upstream's forbidden reason and detail text,
// evaluated in upstream's order (baseline checks, then — for restricted — the restricted ones,
// which replace the baseline checks they tighten).
//
// Thread-safety: pure functions.
#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::apiserver::admission::podsecurity {

enum class Level { kPrivileged, kBaseline, kRestricted };

struct LevelVersion {
  Level level = Level::kPrivileged;
  int minor = -1;  // policy version v1.<minor>; -1 = "latest"
  // "restricted:latest", "baseline:v1.24"
  std::string str() const;
  bool operator==(const LevelVersion&) const = default;
};

std::string_view levelName(Level l);
// ParseLevel / ParseVersion: nullopt on a malformed value.
std::optional<Level> parseLevel(std::string_view s);
std::optional<int> parseVersion(std::string_view s);  // "latest" → -1, "v1.24" → 24

struct CheckResult {
  std::string reason;
  std::string detail;  // may be empty
};

// The checks `pod` fails at `lv` (empty: allowed). `meta` and `spec` are the pod's (or the pod
// template's) metadata and spec.
std::vector<CheckResult> evaluatePod(const LevelVersion& lv, const boost::json::object& meta,
                                     const boost::json::object& spec);
// "reason (detail), reason, ..." as upstream's AggregateCheckResult.ForbiddenDetail.
std::string forbiddenDetail(const std::vector<CheckResult>& failed);
// "reason, reason": the reasons only (for the warnings about existing pods).
std::string forbiddenReasons(const std::vector<CheckResult>& failed);

}  // namespace berth::apiserver::admission::podsecurity
