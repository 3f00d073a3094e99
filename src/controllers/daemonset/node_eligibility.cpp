#include "controllers/daemonset/node_eligibility.h"

#include <algorithm>
#include <cstdlib>
#include <optional>

#include "controllers/framework/workload_util.h"

namespace berth::controllers::daemonset {

namespace json = boost::json;

namespace {

json::object toleration(const char* key, const char* effect) {
  return json::object{{"key", key}, {"operator", "Exists"}, {"effect", effect}};
}

// v1.Toleration.MatchToleration: same key, operator, value and effect.
bool sameToleration(const json::object& a, const json::object& b) {
  for (const char* f : {"key", "operator", "value", "effect"}) {
    if (strAt(a, f) != strAt(b, f)) return false;
  }
  return true;
}

void addOrUpdateToleration(json::object& podSpec, const json::object& t) {
  json::value& slot = podSpec["tolerations"];
  if (!slot.is_array()) slot = json::array();
  json::array& list = slot.as_array();
  for (json::value& existing : list) {
    if (existing.is_object() && sameToleration(existing.get_object(), t)) {
      existing = t;  // equal or differing only in tolerationSeconds: upstream replaces
      return;
    }
  }
  list.push_back(t);
}

std::optional<long long> parseInt(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return v;
}

// One NodeSelectorRequirement against a value that may be absent.
bool requirementMatches(const json::object& req, const std::optional<std::string>& value) {
  std::string op = strAt(req, "operator");
  std::vector<std::string> values;
  if (const json::value* vs = req.if_contains("values"); vs && vs->is_array()) {
    for (const json::value& v : vs->get_array()) {
      if (v.is_string()) values.emplace_back(v.get_string());
    }
  }
  auto in = [&] {
    return value && std::find(values.begin(), values.end(), *value) != values.end();
  };
  if (op == "In") return in();
  if (op == "NotIn") return !in();
  if (op == "Exists") return value.has_value();
  if (op == "DoesNotExist") return !value.has_value();
  if (op == "Gt" || op == "Lt") {
    if (!value || values.size() != 1) return false;
    auto have = parseInt(*value);
    auto want = parseInt(values[0]);
    if (!have || !want) return false;
    return op == "Gt" ? *have > *want : *have < *want;
  }
  return false;
}

bool termMatches(const json::object& term, const json::value& node) {
  const json::value* exprs = term.if_contains("matchExpressions");
  const json::value* fields = term.if_contains("matchFields");
  bool anyExpr = exprs && exprs->is_array() && !exprs->get_array().empty();
  bool anyField = fields && fields->is_array() && !fields->get_array().empty();
  if (!anyExpr && !anyField) return false;
  const json::object& labels = objAt(node, "metadata", "labels");
  if (anyExpr) {
    for (const json::value& r : exprs->get_array()) {
      if (!r.is_object()) return false;
      std::optional<std::string> value;
      const json::value* v = labels.if_contains(strAt(r.get_object(), "key"));
      if (v && v->is_string()) value = std::string(v->get_string());
      if (!requirementMatches(r.get_object(), value)) return false;
    }
  }
  if (anyField) {
    for (const json::value& r : fields->get_array()) {
      if (!r.is_object()) return false;
      // metadata.name is the only field a node selector may use.
      if (strAt(r.get_object(), "key") != "metadata.name") return false;
      if (!requirementMatches(r.get_object(), strAt(metaOf(node), "name"))) return false;
    }
  }
  return true;
}

bool untoleratedTaint(const json::value& node, const json::object& podSpec, bool noExecuteOnly) {
  const json::value* taints = specOf(node).if_contains("taints");
  if (!taints || !taints->is_array()) return false;
  const json::value* tols = podSpec.if_contains("tolerations");
  for (const json::value& t : taints->get_array()) {
    if (!t.is_object()) continue;
    std::string effect = strAt(t.get_object(), "effect");
    bool relevant =
        noExecuteOnly ? effect == "NoExecute" : (effect == "NoExecute" || effect == "NoSchedule");
    if (!relevant) continue;
    bool tolerated = false;
    if (tols && tols->is_array()) {
      for (const json::value& tol : tols->get_array()) {
        if (tol.is_object() && tolerates(tol.get_object(), t.get_object())) {
          tolerated = true;
          break;
        }
      }
    }
    if (!tolerated) return true;
  }
  return false;
}

}  // namespace

void addDaemonTolerations(json::object& podSpec) {
  addOrUpdateToleration(podSpec, toleration("node.kubernetes.io/not-ready", "NoExecute"));
  addOrUpdateToleration(podSpec, toleration("node.kubernetes.io/unreachable", "NoExecute"));
  addOrUpdateToleration(podSpec, toleration("node.kubernetes.io/disk-pressure", "NoSchedule"));
  addOrUpdateToleration(podSpec, toleration("node.kubernetes.io/memory-pressure", "NoSchedule"));
  addOrUpdateToleration(podSpec, toleration("node.kubernetes.io/pid-pressure", "NoSchedule"));
  addOrUpdateToleration(podSpec, toleration("node.kubernetes.io/unschedulable", "NoSchedule"));
  if (boolAt(podSpec, "hostNetwork").value_or(false)) {
    addOrUpdateToleration(podSpec,
                          toleration("node.kubernetes.io/network-unavailable", "NoSchedule"));
  }
}

bool tolerates(const json::object& tol, const json::object& taint) {
  std::string effect = strAt(tol, "effect");
  if (!effect.empty() && effect != strAt(taint, "effect")) return false;
  std::string key = strAt(tol, "key");
  if (!key.empty() && key != strAt(taint, "key")) return false;
  std::string op = strAt(tol, "operator");
  if (op.empty() || op == "Equal") return strAt(tol, "value") == strAt(taint, "value");
  return op == "Exists";
}

bool matchesNodeSelectorTerms(const json::array& terms, const json::value& node) {
  for (const json::value& t : terms) {
    if (t.is_object() && termMatches(t.get_object(), node)) return true;
  }
  return false;
}

bool matchesNodeAffinity(const json::object& podSpec, const json::value& node) {
  const json::object& labels = objAt(node, "metadata", "labels");
  if (const json::value* sel = podSpec.if_contains("nodeSelector"); sel && sel->is_object()) {
    for (const auto& [k, v] : sel->get_object()) {
      const json::value* have = labels.if_contains(k);
      if (!have || *have != v) return false;
    }
  }
  const json::value* affinity = podSpec.if_contains("affinity");
  if (!affinity) return true;
  const json::object& required =
      objAt(*affinity, "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution");
  const json::object& nodeAffinity = objAt(*affinity, "nodeAffinity");
  if (!nodeAffinity.contains("requiredDuringSchedulingIgnoredDuringExecution")) return true;
  const json::value* terms = required.if_contains("nodeSelectorTerms");
  if (!terms || !terms->is_array()) return false;
  return matchesNodeSelectorTerms(terms->get_array(), node);
}

Placement nodeShouldRunDaemonPod(const json::value& node, const json::value& ds) {
  json::object podSpec = objAt(ds, "spec", "template", "spec");
  std::string nodeName = strAt(metaOf(node), "name");
  std::string pinned = strAt(podSpec, "nodeName");
  if (!pinned.empty() && pinned != nodeName) return {};
  addDaemonTolerations(podSpec);
  if (!matchesNodeAffinity(podSpec, node)) return {};
  if (untoleratedTaint(node, podSpec, /*noExecuteOnly=*/false)) {
    // A pod already there may stay as long as it tolerates every NoExecute taint.
    return {false, !untoleratedTaint(node, podSpec, /*noExecuteOnly=*/true)};
  }
  return {true, true};
}

std::string targetNodeName(const json::value& pod) {
  std::string name = strAt(specOf(pod), "nodeName");
  if (!name.empty()) return name;
  const json::object& required = objAt(objAt(pod, "spec", "affinity"), "nodeAffinity",
                                       "requiredDuringSchedulingIgnoredDuringExecution");
  const json::value* terms = required.if_contains("nodeSelectorTerms");
  if (!terms || !terms->is_array()) return {};
  for (const json::value& t : terms->get_array()) {
    const json::value* fields = t.is_object() ? t.get_object().if_contains("matchFields") : nullptr;
    if (!fields || !fields->is_array()) continue;
    for (const json::value& f : fields->get_array()) {
      if (!f.is_object() || strAt(f.get_object(), "key") != "metadata.name" ||
          strAt(f.get_object(), "operator") != "In") {
        continue;
      }
      const json::value* vs = f.get_object().if_contains("values");
      if (vs && vs->is_array() && vs->get_array().size() == 1 && vs->get_array()[0].is_string()) {
        return std::string(vs->get_array()[0].get_string());
      }
      return {};
    }
  }
  return {};
}

void pinToNode(json::object& podSpec, const std::string& nodeName) {
  json::array terms{json::object{
      {"matchFields", json::array{json::object{{"key", "metadata.name"},
                                               {"operator", "In"},
                                               {"values", json::array{json::value(nodeName)}}}}}}};
  json::value& affinity = podSpec["affinity"];
  if (!affinity.is_object()) affinity = json::object();
  json::value& nodeAffinity = affinity.as_object()["nodeAffinity"];
  if (!nodeAffinity.is_object()) nodeAffinity = json::object();
  json::value& required =
      nodeAffinity.as_object()["requiredDuringSchedulingIgnoredDuringExecution"];
  if (!required.is_object()) required = json::object();
  required.as_object()["nodeSelectorTerms"] = std::move(terms);
}

}  // namespace berth::controllers::daemonset
