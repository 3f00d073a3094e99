#include "controllers/nodelifecycle/node_health.h"

#include <boost/json.hpp>

#include <set>
#include <utility>

#include "core/json_access.h"

namespace berth::controllers::nodelifecycle {

namespace json = boost::json;
using core::objectField;
using core::stringField;

namespace {

constexpr const char* kNotReady = "node.kubernetes.io/not-ready";
constexpr const char* kUnreachable = "node.kubernetes.io/unreachable";

const json::array* arrayAt(const json::object& o, const char* section, const char* field) {
  const json::object* s = objectField(o, section);
  const json::value* v = s ? s->if_contains(field) : nullptr;
  return v && v->is_array() ? &v->as_array() : nullptr;
}

json::object* findCondition(json::array& conditions, std::string_view type) {
  for (auto& c : conditions)
    if (c.is_object() && stringField(c.as_object(), "type") == type) return &c.as_object();
  return nullptr;
}

}  // namespace

HealthVerdict assessNodeHealth(const json::object& node, const std::string& leaseRenewTime,
                               NodeHealth& health, SteadyTime now, const HealthOptions& options,
                               const std::string& nowRfc3339) {
  HealthVerdict v;
  if (const json::array* cs = arrayAt(node, "status", "conditions")) v.conditions = *cs;
  json::object* ready = findCondition(v.conditions, "Ready");
  std::string heartbeat = ready ? stringField(*ready, "lastHeartbeatTime") : "";
  v.readyStatus = ready ? stringField(*ready, "status") : "";
  if (!health.known) {
    // First sight (also after a controller restart): the kubelet gets a full grace period.
    health = NodeHealth{true, heartbeat, leaseRenewTime, now};
  }
  if (heartbeat != health.heartbeat) {
    health.heartbeat = heartbeat;
    health.probeTime = now;
  }
  if (!leaseRenewTime.empty() && leaseRenewTime != health.leaseRenew) {
    health.leaseRenew = leaseRenewTime;
    health.probeTime = now;
  }
  auto grace = ready ? options.monitorGracePeriod : options.startupGracePeriod;
  if (now - health.probeTime <= grace) return v;

  const json::object* meta = objectField(node, "metadata");
  std::string created = meta ? stringField(*meta, "creationTimestamp") : "";
  for (const char* type : {"Ready", "MemoryPressure", "DiskPressure", "PIDPressure"}) {
    json::object* c = findCondition(v.conditions, type);
    if (c == nullptr) {
      v.conditions.push_back(json::object{{"type", type},
                                          {"status", "Unknown"},
                                          {"lastHeartbeatTime", created},
                                          {"lastTransitionTime", nowRfc3339},
                                          {"reason", "NodeStatusNeverUpdated"},
                                          {"message", "Kubelet never posted node status."}});
      v.changed = true;
    } else if (stringField(*c, "status") != "Unknown") {
      (*c)["status"] = "Unknown";
      (*c)["reason"] = "NodeStatusUnknown";
      (*c)["message"] = "Kubelet stopped posting node status.";
      (*c)["lastTransitionTime"] = nowRfc3339;
      v.changed = true;
    }
  }
  v.readyStatus = "Unknown";
  return v;
}

TaintVerdict desiredTaints(const json::object& node, const std::string& nowRfc3339) {
  // (key, effect) pairs this controller manages, from conditions and spec.unschedulable.
  std::set<std::pair<std::string, std::string>> want;
  if (const json::array* cs = arrayAt(node, "status", "conditions")) {
    for (const auto& cv : *cs) {
      if (!cv.is_object()) continue;
      std::string type = stringField(cv.as_object(), "type");
      std::string status = stringField(cv.as_object(), "status");
      if (type == "Ready" && (status == "False" || status == "Unknown")) {
        const char* key = status == "False" ? kNotReady : kUnreachable;
        want.insert({key, "NoSchedule"});
        want.insert({key, "NoExecute"});
      }
      if (status != "True") continue;
      if (type == "MemoryPressure")
        want.insert({"node.kubernetes.io/memory-pressure", "NoSchedule"});
      if (type == "DiskPressure") want.insert({"node.kubernetes.io/disk-pressure", "NoSchedule"});
      if (type == "PIDPressure") want.insert({"node.kubernetes.io/pid-pressure", "NoSchedule"});
      if (type == "NetworkUnavailable")
        want.insert({"node.kubernetes.io/network-unavailable", "NoSchedule"});
    }
  }
  const json::object* spec = objectField(node, "spec");
  if (spec)
    if (const auto* u = spec->if_contains("unschedulable"); u && u->is_bool() && u->as_bool())
      want.insert({"node.kubernetes.io/unschedulable", "NoSchedule"});
  static const std::set<std::string> kManaged = {kNotReady,
                                                 kUnreachable,
                                                 "node.kubernetes.io/memory-pressure",
                                                 "node.kubernetes.io/disk-pressure",
                                                 "node.kubernetes.io/pid-pressure",
                                                 "node.kubernetes.io/network-unavailable",
                                                 "node.kubernetes.io/unschedulable"};

  TaintVerdict v;
  const json::array* have = arrayAt(node, "spec", "taints");
  std::set<std::pair<std::string, std::string>> kept;
  for (size_t i = 0; have && i < have->size(); ++i) {
    const json::object* t = (*have)[i].if_object();
    if (!t) continue;
    std::pair<std::string, std::string> id{stringField(*t, "key"), stringField(*t, "effect")};
    if (kManaged.count(id.first) && !want.count(id)) {
      v.changed = true;  // a condition taint whose condition is gone
      continue;
    }
    if (want.count(id)) kept.insert(id);
    v.taints.push_back(*t);
  }
  for (const auto& [key, effect] : want) {
    if (kept.count({key, effect})) continue;
    json::object t{{"key", key}, {"effect", effect}};
    if (effect == "NoExecute") t["timeAdded"] = nowRfc3339;
    v.taints.push_back(std::move(t));
    v.changed = true;
  }
  return v;
}

bool tolerates(const json::object& toleration, const json::object& taint) {
  std::string effect = stringField(toleration, "effect");
  if (!effect.empty() && effect != stringField(taint, "effect")) return false;
  std::string key = stringField(toleration, "key");
  std::string op = stringField(toleration, "operator");
  if (key.empty()) return op == "Exists";  // an empty key with Exists tolerates everything
  if (key != stringField(taint, "key")) return false;
  if (op == "Exists") return true;
  return (op.empty() || op == "Equal") &&
         stringField(toleration, "value") == stringField(taint, "value");
}

std::optional<long long> evictionDelaySeconds(const json::object& pod,
                                              const json::array& nodeTaints) {
  const json::array* tolerations = arrayAt(pod, "spec", "tolerations");
  bool anyNoExecute = false;
  std::optional<long long> minSeconds;  // over the tolerations in use that have a limit
  for (const auto& tv : nodeTaints) {
    const json::object* taint = tv.if_object();
    if (!taint || stringField(*taint, "effect") != "NoExecute") continue;
    anyNoExecute = true;
    bool tolerated = false;
    for (size_t i = 0; tolerations && i < tolerations->size(); ++i) {
      const json::object* tol = (*tolerations)[i].if_object();
      if (!tol || !tolerates(*tol, *taint)) continue;
      tolerated = true;
      const json::value* secs = tol->if_contains("tolerationSeconds");
      if (secs && secs->is_int64()) {
        long long s = std::max<long long>(0, secs->as_int64());
        minSeconds = minSeconds ? std::min(*minSeconds, s) : s;
      }
    }
    if (!tolerated) return 0;
  }
  if (!anyNoExecute) return std::nullopt;
  return minSeconds;
}

std::optional<json::object> podNotReadyPatch(const json::object& pod, const std::string& now) {
  const json::array* cs = arrayAt(pod, "status", "conditions");
  bool readyTrue = false;
  for (size_t i = 0; cs && i < cs->size(); ++i) {
    const json::object* c = (*cs)[i].if_object();
    if (c && stringField(*c, "type") == "Ready") readyTrue = stringField(*c, "status") == "True";
  }
  if (!readyTrue) return std::nullopt;
  const json::object* meta = objectField(pod, "metadata");
  return json::object{{"metadata", {{"uid", meta ? stringField(*meta, "uid") : ""}}},
                      {"status",
                       {{"conditions", json::array{json::object{{"type", "Ready"},
                                                                {"status", "False"},
                                                                {"lastTransitionTime", now}}}}}}};
}

}  // namespace berth::controllers::nodelifecycle
