#include "controllers/ttlafterfinished/ttl_logic.h"

namespace berth::controllers::ttlafterfinished {

namespace json = boost::json;

namespace {
// lastTransitionTime of the True Complete/Failed condition, if any.
std::optional<SystemTime> finishTime(const json::value& job) {
  const json::value* conds = statusOf(job).if_contains("conditions");
  if (!conds || !conds->is_array()) return std::nullopt;
  for (const json::value& c : conds->get_array()) {
    if (!c.is_object() || strAt(c.get_object(), "status") != "True") continue;
    std::string type = strAt(c.get_object(), "type");
    if (type == "Complete" || type == "Failed") {
      return parseTime(strAt(c.get_object(), "lastTransitionTime"));
    }
  }
  return std::nullopt;
}
}  // namespace

bool needsCleanup(const json::value& job) {
  if (!intAt(specOf(job), "ttlSecondsAfterFinished")) return false;
  const json::value* conds = statusOf(job).if_contains("conditions");
  if (!conds || !conds->is_array()) return false;
  for (const json::value& c : conds->get_array()) {
    if (!c.is_object() || strAt(c.get_object(), "status") != "True") continue;
    std::string type = strAt(c.get_object(), "type");
    if (type == "Complete" || type == "Failed") return true;
  }
  return false;
}

std::optional<std::chrono::seconds> timeLeft(const json::value& job, SystemTime now) {
  if (!needsCleanup(job)) return std::nullopt;
  auto finished = finishTime(job);
  if (!finished) return std::nullopt;
  auto expireAt = *finished + std::chrono::seconds(*intAt(specOf(job), "ttlSecondsAfterFinished"));
  return std::chrono::ceil<std::chrono::seconds>(expireAt - now);
}

}  // namespace berth::controllers::ttlafterfinished
