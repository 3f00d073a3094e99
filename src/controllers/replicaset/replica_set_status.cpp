#include "controllers/replicaset/replica_set_status.h"

#include <boost/json.hpp>

#include "controllers/framework/pod_util.h"

namespace berth::controllers::replicaset {

namespace json = boost::json;

namespace {

// upstream omits these when zero (omitempty); replicas is always written.
void setCount(json::object& status, std::string_view field, long long n) {
  if (n == 0 && field != "replicas") {
    status.erase(field);
  } else {
    status[field] = n;
  }
}

bool templateLabelsMatch(const json::value& rs, const json::value& pod) {
  const json::value* tl = valueAt(rs, {"spec", "template", "metadata", "labels"});
  if (!tl || !tl->is_object()) return true;
  const json::value* pl = valueAt(pod, {"metadata", "labels"});
  for (const auto& kv : tl->get_object()) {
    const json::value* v = pl && pl->is_object() ? pl->get_object().if_contains(kv.key()) : nullptr;
    if (!v || *v != kv.value()) return false;
  }
  return true;
}

}  // namespace

json::object calculateStatus(const json::value& rs, const std::vector<client::ObjectPtr>& pods,
                             const core::Status& manageError, SystemTime now) {
  json::object status;
  if (const json::value* s = valueAt(rs, {"status"}); s && s->is_object()) status = s->get_object();
  long long minReady = intAt(rs, {"spec", "minReadySeconds"});
  long long labeled = 0, ready = 0, available = 0;
  for (const auto& p : pods) {
    if (templateLabelsMatch(rs, *p)) ++labeled;
    if (isPodReady(*p)) {
      ++ready;
      if (isPodAvailable(*p, minReady, now)) ++available;
    }
  }
  setCount(status, "replicas", static_cast<long long>(pods.size()));
  setCount(status, "fullyLabeledReplicas", labeled);
  setCount(status, "readyReplicas", ready);
  setCount(status, "availableReplicas", available);

  // The ReplicaFailure condition: set once on a failed create/delete, cleared on success.
  json::array conditions;
  bool hadFailure = false;
  if (auto* c = status.if_contains("conditions"); c && c->is_array()) {
    for (const auto& cond : c->get_array()) {
      if (stringAt(cond, {"type"}) == "ReplicaFailure") {
        hadFailure = true;
        if (manageError.ok()) continue;
      }
      conditions.push_back(cond);
    }
  }
  if (!manageError.ok() && !hadFailure) {
    long long diff = static_cast<long long>(pods.size()) - intAt(rs, {"spec", "replicas"}, 1);
    conditions.push_back(json::object{{"type", "ReplicaFailure"},
                                      {"status", "True"},
                                      {"lastTransitionTime", formatTime(now)},
                                      {"reason", diff < 0 ? "FailedCreate" : "FailedDelete"},
                                      {"message", manageError.message()}});
  }
  if (conditions.empty()) {
    status.erase("conditions");
  } else {
    status["conditions"] = std::move(conditions);
  }
  return status;
}

bool statusNeedsUpdate(const json::value& rs, const json::object& next) {
  static const json::value kNull;
  for (const char* f : {"replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas"})
    if (intAt(rs, {"status", f}) != intAt(next, {f})) return true;
  if (intAt(rs, {"metadata", "generation"}) != intAt(rs, {"status", "observedGeneration"}))
    return true;
  const json::value* oldConds = valueAt(rs, {"status", "conditions"});
  const json::value* newConds = next.if_contains("conditions");
  return (oldConds ? *oldConds : kNull) != (newConds ? *newConds : kNull);
}

}  // namespace berth::controllers::replicaset
