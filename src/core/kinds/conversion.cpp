// HorizontalPodAutoscaler conversion between autoscaling/v1 (served) and autoscaling/v2
// (stored), after upstream pkg/apis/autoscaling/v1/conversion.go: the v1 CPU target maps to a
// Resource/cpu/Utilization metric; what v1 cannot express travels in the annotations upstream
// uses (autoscaling.alpha.kubernetes.io/{metrics,behavior,conditions,current-metrics}), here
// holding the v2 JSON so a round trip through v1 is lossless within Berth.
#include "core/kinds/internal.h"

namespace berth::core::kinds::detail {
namespace {

constexpr const char* kMetricsAnnotation = "autoscaling.alpha.kubernetes.io/metrics";
constexpr const char* kBehaviorAnnotation = "autoscaling.alpha.kubernetes.io/behavior";
constexpr const char* kConditionsAnnotation = "autoscaling.alpha.kubernetes.io/conditions";
constexpr const char* kCurrentMetricsAnnotation =
    "autoscaling.alpha.kubernetes.io/current-metrics";

// Removes and parses a JSON annotation; null when absent or malformed.
json::value takeAnnotation(json::object& obj, const char* k) {
  json::object* meta = getObjMut(obj, "metadata");
  json::object* ann = meta ? getObjMut(*meta, "annotations") : nullptr;
  if (ann == nullptr) return nullptr;
  json::value out;
  if (const json::value* v = ann->if_contains(k); v && v->is_string()) {
    boost::system::error_code ec;
    out = json::parse(v->get_string(), ec);
    if (ec) out = nullptr;
  }
  ann->erase(k);
  if (ann->empty()) meta->erase("annotations");
  return out;
}

void putAnnotation(json::object& obj, const char* k, const json::value& v) {
  ensureObj(ensureObj(obj, "metadata"), "annotations")[k] = json::serialize(v);
}

bool isCpuUtilization(const json::object& m, const char* valueKey) {
  if (getStr(m, "type") != "Resource") return false;
  const json::object* r = getObj(m, "resource");
  if (r == nullptr || getStr(*r, "name") != "cpu") return false;
  const json::object* t = getObj(*r, valueKey);
  return t != nullptr && has(*t, "averageUtilization") &&
         (std::string_view(valueKey) == "current" || getStr(*t, "type") == "Utilization");
}

}  // namespace

void hpaV1ToV2(json::object& obj) {
  json::object& spec = ensureObj(obj, "spec");
  json::array metrics;
  if (const json::value* cpu = getVal(spec, "targetCPUUtilizationPercentage")) {
    metrics.push_back(json::object{
        {"type", "Resource"},
        {"resource", json::object{{"name", "cpu"},
                                  {"target", json::object{{"type", "Utilization"},
                                                          {"averageUtilization", *cpu}}}}}});
  }
  spec.erase("targetCPUUtilizationPercentage");
  if (json::value extra = takeAnnotation(obj, kMetricsAnnotation); extra.is_array()) {
    for (auto& m : extra.get_array()) metrics.push_back(m);
  }
  if (!metrics.empty()) spec["metrics"] = std::move(metrics);
  if (json::value behavior = takeAnnotation(obj, kBehaviorAnnotation); behavior.is_object()) {
    spec["behavior"] = std::move(behavior);
  }
  json::value conditions = takeAnnotation(obj, kConditionsAnnotation);
  json::value currentExtra = takeAnnotation(obj, kCurrentMetricsAnnotation);
  json::object* status = getObjMut(obj, "status");
  if (status == nullptr) return;
  json::array current;
  if (const json::value* cpu = getVal(*status, "currentCPUUtilizationPercentage")) {
    current.push_back(json::object{
        {"type", "Resource"},
        {"resource", json::object{{"name", "cpu"},
                                  {"current", json::object{{"averageUtilization", *cpu}}}}}});
  }
  status->erase("currentCPUUtilizationPercentage");
  if (currentExtra.is_array()) {
    for (auto& m : currentExtra.get_array()) current.push_back(m);
  }
  if (!current.empty()) (*status)["currentMetrics"] = std::move(current);
  if (conditions.is_array()) (*status)["conditions"] = std::move(conditions);
  setDefault(*status, "desiredReplicas", 0);
}

void hpaV2ToV1(json::object& obj) {
  ensureObj(obj, "metadata");  // first, so that `spec` below stays valid
  json::object& spec = ensureObj(obj, "spec");
  json::array rest;
  if (const json::array* metrics = getArr(spec, "metrics")) {
    bool cpuTaken = false;
    for (const auto& mv : *metrics) {
      const json::object* m = mv.if_object();
      if (m != nullptr && !cpuTaken && isCpuUtilization(*m, "target")) {
        // isCpuUtilization guarantees resource.target.averageUtilization exists.
        spec["targetCPUUtilizationPercentage"] =
            getObj(*getObj(*m, "resource"), "target")->at("averageUtilization");
        cpuTaken = true;
      } else {
        rest.push_back(mv);
      }
    }
  }
  spec.erase("metrics");
  if (!rest.empty()) putAnnotation(obj, kMetricsAnnotation, rest);
  if (const json::value* behavior = getVal(spec, "behavior")) {
    putAnnotation(obj, kBehaviorAnnotation, *behavior);
    spec.erase("behavior");
  }
  json::object* status = getObjMut(obj, "status");
  if (status == nullptr) return;
  json::array currentRest;
  if (const json::array* current = getArr(*status, "currentMetrics")) {
    bool cpuTaken = false;
    for (const auto& mv : *current) {
      const json::object* m = mv.if_object();
      if (m != nullptr && !cpuTaken && isCpuUtilization(*m, "current")) {
        (*status)["currentCPUUtilizationPercentage"] =
            getObj(*getObj(*m, "resource"), "current")->at("averageUtilization");
        cpuTaken = true;
      } else {
        currentRest.push_back(mv);
      }
    }
  }
  status->erase("currentMetrics");
  if (!currentRest.empty()) putAnnotation(obj, kCurrentMetricsAnnotation, currentRest);
  if (const json::value* conditions = getVal(*status, "conditions")) {
    putAnnotation(obj, kConditionsAnnotation, *conditions);
    status->erase("conditions");
  }
}

}  // namespace berth::core::kinds::detail
