#include "controllers/disruption/budget.h"

#include <boost/json.hpp>

#include <cmath>
#include <ctime>

#include "core/json_access.h"

namespace berth::controllers::disruption {

namespace json = boost::json;
using core::Result;
using core::Status;

PodState podStateOf(const json::value& pod) {
  PodState p;
  if (!pod.is_object()) return p;
  if (const auto* m = core::objectField(pod.as_object(), "metadata")) {
    p.name = core::stringField(*m, "name");
    p.terminating = m->contains("deletionTimestamp");
  }
  const auto* st = core::objectField(pod.as_object(), "status");
  auto* conds = st ? st->if_contains("conditions") : nullptr;
  if (conds && conds->is_array())
    for (const auto& c : conds->as_array())
      if (c.is_object() && core::stringField(c.as_object(), "type") == "Ready")
        p.ready = core::stringField(c.as_object(), "status") == "True";
  return p;
}

Result<int> scaledValue(const json::value& v, int total, bool roundUp) {
  if (v.is_int64()) return static_cast<int>(v.as_int64());
  if (!v.is_string())
    return Status::badRequest("invalid value for IntOrString: not a string or int");
  std::string s(v.as_string());
  if (s.empty() || s.back() != '%')
    return Status::badRequest(
        "invalid value for IntOrString: invalid type: string is not a percentage");
  int pct = 0;
  try {
    pct = std::stoi(s.substr(0, s.size() - 1));
  } catch (...) {
    return Status::badRequest("invalid value \"" + s + "\"");
  }
  double scaled = double(pct) * total / 100.0;
  return static_cast<int>(roundUp ? std::ceil(scaled) : std::floor(scaled));
}

Result<Expectation> expectation(const json::object& spec, int podCount,
                                const std::function<Result<int>()>& scale) {
  Expectation e;
  if (auto* maxU = spec.if_contains("maxUnavailable")) {
    auto s = scale();
    if (!s.ok()) return s.status();
    e.expectedCount = *s;
    auto n = scaledValue(*maxU, e.expectedCount, true);
    if (!n.ok()) return n.status();
    e.desiredHealthy = std::max(0, e.expectedCount - *n);
  } else if (auto* minA = spec.if_contains("minAvailable")) {
    if (minA->is_int64()) {
      e.desiredHealthy = static_cast<int>(minA->as_int64());
      e.expectedCount = podCount;
    } else {
      auto s = scale();
      if (!s.ok()) return s.status();
      e.expectedCount = *s;
      auto n = scaledValue(*minA, e.expectedCount, true);
      if (!n.ok()) return n.status();
      e.desiredHealthy = *n;
    }
  }
  return e;
}

std::optional<TimePoint> parseRfc3339(const std::string& s) {
  std::tm tm{};
  const char* end = ::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end) return std::nullopt;
  return std::chrono::system_clock::from_time_t(::timegm(&tm));
}

DisruptedPods keptDisruptedPods(const std::vector<PodState>& pods,
                                const json::object* disruptedPods, TimePoint now) {
  DisruptedPods out;
  if (!disruptedPods) return out;
  for (const auto& p : pods) {
    if (p.terminating) continue;  // already being deleted: nothing left to expect
    auto* v = disruptedPods->if_contains(p.name);
    if (!v || !v->is_string()) continue;
    auto at = parseRfc3339(std::string(v->as_string()));
    if (!at) continue;
    auto expires = *at + kDeletionTimeout;
    if (expires < now) continue;  // the eviction never happened; count the pod again
    out.entries[p.name] = std::string(v->as_string());
    if (!out.recheckAt || expires < *out.recheckAt) out.recheckAt = expires;
  }
  return out;
}

int countHealthy(const std::vector<PodState>& pods, const DisruptedPods& disrupted) {
  int n = 0;
  for (const auto& p : pods)
    if (!p.terminating && !disrupted.entries.count(p.name) && p.ready) ++n;
  return n;
}

void setCondition(json::object& status, const std::string& type, bool isTrue,
                  const std::string& reason, const std::string& message, int64_t generation,
                  const std::string& now) {
  auto& condsV = status["conditions"];
  if (!condsV.is_array()) condsV = json::array();
  std::string st = isTrue ? "True" : "False";
  for (auto& c : condsV.as_array()) {
    if (!c.is_object() || core::stringField(c.as_object(), "type") != type) continue;
    auto& o = c.as_object();
    if (core::stringField(o, "status") != st) o["lastTransitionTime"] = now;
    o["status"] = st;
    o["reason"] = reason;
    o["message"] = message;
    o["observedGeneration"] = generation;
    return;
  }
  condsV.as_array().push_back(json::object{{"type", type},
                                           {"status", st},
                                           {"observedGeneration", generation},
                                           {"lastTransitionTime", now},
                                           {"reason", reason},
                                           {"message", message}});
}

namespace {

json::object baseStatus(const json::object& oldStatus) {
  json::object s;
  if (auto* c = oldStatus.if_contains("conditions"); c && c->is_array()) s["conditions"] = *c;
  return s;
}

}  // namespace

json::object statusFor(const json::object& oldStatus, int64_t generation, int currentHealthy,
                       const Expectation& e, const DisruptedPods& disrupted,
                       const std::string& now) {
  json::object s = baseStatus(oldStatus);
  // No disruption while no pods are expected: a budget whose pods have not appeared yet must
  // not allow evicting the first ones before this controller has seen them (upstream).
  int allowed = currentHealthy - e.desiredHealthy;
  if (e.expectedCount <= 0 || allowed <= 0) allowed = 0;
  s["observedGeneration"] = generation;
  if (!disrupted.entries.empty()) {
    json::object d;
    for (const auto& [pod, at] : disrupted.entries) d[pod] = at;
    s["disruptedPods"] = std::move(d);
  }
  s["disruptionsAllowed"] = allowed;
  s["currentHealthy"] = currentHealthy;
  s["desiredHealthy"] = e.desiredHealthy;
  s["expectedPods"] = e.expectedCount;
  if (allowed > 0)
    setCondition(s, "DisruptionAllowed", true, "SufficientPods", "", generation, now);
  else
    setCondition(s, "DisruptionAllowed", false, "InsufficientPods", "", generation, now);
  return s;
}

json::object failSafeStatus(const json::object& oldStatus, int64_t generation,
                            const std::string& message, const std::string& now) {
  json::object s = oldStatus;
  s["disruptionsAllowed"] = 0;
  s["observedGeneration"] = generation;
  setCondition(s, "DisruptionAllowed", false, "SyncFailed", message, generation, now);
  return s;
}

std::string goSelectorString(const boost::json::value* selector) {
  if (!selector || !selector->is_object()) return "nil";
  const auto& sel = selector->get_object();
  std::string out = "&LabelSelector{MatchLabels:map[string]string{";
  if (const auto* ml = sel.if_contains("matchLabels"); ml && ml->is_object()) {
    std::map<std::string, std::string> sorted;  // Go's generated String() sorts the keys
    for (const auto& [k, v] : ml->get_object()) {
      sorted[std::string(k)] = v.is_string() ? std::string(v.get_string()) : "";
    }
    for (const auto& [k, v] : sorted) out += k + ": " + v + ",";
  }
  out += "},MatchExpressions:[]LabelSelectorRequirement{";
  if (const auto* me = sel.if_contains("matchExpressions"); me && me->is_array()) {
    for (const auto& r : me->get_array()) {
      if (!r.is_object()) continue;
      const auto& req = r.get_object();
      auto str = [&](const char* f) {
        const auto* v = req.if_contains(f);
        return v && v->is_string() ? std::string(v->get_string()) : std::string();
      };
      std::string values = "[";
      if (const auto* vs = req.if_contains("values"); vs && vs->is_array()) {
        bool first = true;
        for (const auto& v : vs->get_array()) {
          if (!first) values += " ";
          first = false;
          values += v.is_string() ? std::string(v.get_string()) : "";
        }
      }
      values += "]";
      out += "LabelSelectorRequirement{Key:" + str("key") + ",Operator:" + str("operator") +
             ",Values:" + values + ",},";
    }
  }
  return out + "},}";
}

}  // namespace berth::controllers::disruption
