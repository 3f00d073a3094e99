#include "controllers/framework/pod_util.h"

#include <boost/json.hpp>

namespace berth::controllers {

namespace json = boost::json;

namespace {
const json::value* readyCondition(const json::value& pod) {
  const json::value* conds = valueAt(pod, {"status", "conditions"});
  if (!conds || !conds->is_array()) return nullptr;
  for (const auto& c : conds->get_array()) {
    if (stringAt(c, {"type"}) == "Ready") return &c;
  }
  return nullptr;
}
}  // namespace

bool isPodActive(const json::value& pod) {
  std::string phase = stringAt(pod, {"status", "phase"});
  return phase != "Succeeded" && phase != "Failed" && !isBeingDeleted(pod);
}

bool isPodReady(const json::value& pod) {
  const json::value* c = readyCondition(pod);
  return c && stringAt(*c, {"status"}) == "True";
}

std::optional<SystemTime> podReadyTime(const json::value& pod) {
  const json::value* c = readyCondition(pod);
  if (!c || stringAt(*c, {"status"}) != "True") return std::nullopt;
  return parseTime(stringAt(*c, {"lastTransitionTime"}));
}

bool isPodAvailable(const json::value& pod, long long minReadySeconds, SystemTime now) {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds == 0) return true;
  auto readySince = podReadyTime(pod);
  return readySince && *readySince + std::chrono::seconds(minReadySeconds) < now;
}

}  // namespace berth::controllers
