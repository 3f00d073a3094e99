// Conditions and status of deployment_util.h (upstream deployment_util.go's condition helpers,
// DeploymentComplete/Progressing/TimedOut, and sync.go's calculateStatus).
#include <boost/json.hpp>

#include <climits>

#include "controllers/deployment/deployment_util.h"

namespace berth::controllers::deployment {

namespace json = boost::json;

json::object newCondition(std::string_view type, std::string_view status, std::string_view reason,
                          std::string message, SystemTime now) {
  std::string t = formatTime(now);
  return json::object{{"type", type},        {"status", status},
                      {"lastUpdateTime", t}, {"lastTransitionTime", t},
                      {"reason", reason},    {"message", std::move(message)}};
}

const json::object* getCondition(const json::object& status, std::string_view type) {
  const json::value* conds = status.if_contains("conditions");
  if (!conds || !conds->is_array()) return nullptr;
  for (const auto& c : conds->get_array())
    if (c.is_object() && stringAt(c, {"type"}) == type) return &c.get_object();
  return nullptr;
}

void removeCondition(json::object& status, std::string_view type) {
  json::value* conds = status.if_contains("conditions");
  if (!conds || !conds->is_array()) return;
  json::array kept;
  for (const auto& c : conds->get_array())
    if (stringAt(c, {"type"}) != type) kept.push_back(c);
  if (kept.empty()) {
    status.erase("conditions");
  } else {
    *conds = std::move(kept);
  }
}

void setCondition(json::object& status, json::object condition) {
  std::string type = stringAt(condition, {"type"});
  if (const json::object* cur = getCondition(status, type)) {
    std::string curStatus = stringAt(*cur, {"status"});
    if (curStatus == stringAt(condition, {"status"}) &&
        stringAt(*cur, {"reason"}) == stringAt(condition, {"reason"}))
      return;
    if (curStatus == stringAt(condition, {"status"}))
      condition["lastTransitionTime"] = cur->at("lastTransitionTime");
  }
  removeCondition(status, type);
  json::value& conds = status["conditions"];
  if (!conds.is_array()) conds = json::array();
  conds.as_array().push_back(std::move(condition));
}

bool hasProgressDeadline(const json::value& d) {
  const json::value* v = valueAt(d, {"spec", "progressDeadlineSeconds"});
  return v && v->is_number() && intAt(d, {"spec", "progressDeadlineSeconds"}) != INT_MAX;
}

bool hasRevisionHistoryLimit(const json::value& d) {
  const json::value* v = valueAt(d, {"spec", "revisionHistoryLimit"});
  return v && v->is_number() && intAt(d, {"spec", "revisionHistoryLimit"}) != INT_MAX;
}

bool deploymentComplete(const json::value& d, const json::object& status) {
  long long want = specReplicas(d);
  return intAt(status, {"updatedReplicas"}) == want && intAt(status, {"replicas"}) == want &&
         intAt(status, {"availableReplicas"}) == want &&
         intAt(status, {"observedGeneration"}) >= intAt(d, {"metadata", "generation"});
}

bool deploymentProgressing(const json::value& d, const json::object& status) {
  long long oldOld = statusInt(d, "replicas") - statusInt(d, "updatedReplicas");
  long long newOld = intAt(status, {"replicas"}) - intAt(status, {"updatedReplicas"});
  return intAt(status, {"updatedReplicas"}) > statusInt(d, "updatedReplicas") || newOld < oldOld ||
         intAt(status, {"readyReplicas"}) > statusInt(d, "readyReplicas") ||
         intAt(status, {"availableReplicas"}) > statusInt(d, "availableReplicas");
}

bool deploymentTimedOut(const json::value& d, const json::object& status, SystemTime now) {
  if (!hasProgressDeadline(d)) return false;
  const json::object* cond = getCondition(status, "Progressing");
  if (!cond) return false;
  // After a finished rollout a resync may come before the cache shows the new ReplicaSet's
  // condition: never time out from a completed state.
  std::string reason = stringAt(*cond, {"reason"});
  if (reason == kNewRSAvailableReason) return false;
  if (reason == kTimedOutReason) return true;
  auto from = parseTime(stringAt(*cond, {"lastUpdateTime"}));
  if (!from) return false;
  return *from + std::chrono::seconds(intAt(d, {"spec", "progressDeadlineSeconds"})) < now;
}

json::object calculateStatus(const RSList& allRSs, const client::ObjectPtr& newRS,
                             const json::value& d, SystemTime now) {
  long long available = sumStatus(allRSs, "availableReplicas");
  long long unavailable = std::max(0LL, sumSpecReplicas(allRSs) - available);
  json::object status;
  // upstream's fields are omitempty: zeros stay out.
  auto put = [&status](std::string_view field, long long v) {
    if (v != 0) status[field] = v;
  };
  put("observedGeneration", intAt(d, {"metadata", "generation"}));
  put("replicas", sumStatus(allRSs, "replicas"));
  put("updatedReplicas", newRS ? statusInt(*newRS, "replicas") : 0);
  put("readyReplicas", sumStatus(allRSs, "readyReplicas"));
  put("availableReplicas", available);
  put("unavailableReplicas", unavailable);
  if (const json::value* cc = valueAt(d, {"status", "collisionCount"}))
    status["collisionCount"] = *cc;
  if (const json::value* conds = valueAt(d, {"status", "conditions"}); conds && conds->is_array())
    status["conditions"] = *conds;
  if (available >= specReplicas(d) - maxUnavailable(d)) {
    setCondition(status, newCondition("Available", "True", kMinimumReplicasAvailable,
                                      "Deployment has minimum availability.", now));
  } else {
    setCondition(status, newCondition("Available", "False", kMinimumReplicasUnavailable,
                                      "Deployment does not have minimum availability.", now));
  }
  return status;
}

}  // namespace berth::controllers::deployment
