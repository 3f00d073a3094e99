// Job spec.podFailurePolicy validation, as upstream's validatePodFailurePolicy
// (pkg/apis/batch/validation/validation.go): at most 20 rules; each rule has a supported action
// (FailIndex only with backoffLimitPerIndex) and exactly one of onExitCodes (operator In/NotIn,
// a known container name, 1..255 distinct ascending values, no 0 for In) and onPodConditions
// (at most 20, each a qualified condition type and a True/False/Unknown status).
#include <optional>
#include <set>

#include "core/kinds/internal.h"
#include "core/kinds/strategy.h"

namespace berth::core::kinds::detail {
namespace {

constexpr size_t kMaxRules = 20;
constexpr size_t kMaxPodConditionPatterns = 20;
constexpr size_t kMaxExitCodeValues = 255;

std::set<std::string> containerNames(const json::object& spec) {
  std::set<std::string> names;
  const json::object* tmpl = getObj(spec, "template");
  const json::object* ps = tmpl ? getObj(*tmpl, "spec") : nullptr;
  for (const char* list : {"containers", "initContainers"}) {
    const json::array* cs = ps ? getArr(*ps, list) : nullptr;
    if (!cs) continue;
    for (const auto& c : *cs) {
      if (c.is_object()) names.insert(std::string(getStr(c.get_object(), "name")));
    }
  }
  return names;
}

// Go's %#v of []int32: "[]int32{1, 2}".
std::string formatInt32s(const json::array& values) {
  std::string s = "[]int32{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) s += ", ";
    s += formatValue(values[i]);
  }
  return s + "}";
}

void validateOnExitCodes(const json::object& req, const std::string& path,
                         const std::set<std::string>& containers, FieldErrors& errs) {
  std::string_view op = getStr(req, "operator");
  if (op != "In" && op != "NotIn") {
    addNotSupported(errs, path + ".operator", goQuote(op), {"In", "NotIn"});
  }
  if (req.contains("containerName") &&
      !containers.count(std::string(getStr(req, "containerName")))) {
    addInvalidStr(errs, path + ".containerName", getStr(req, "containerName"),
                  "must be one of the container or initContainer names in the pod template");
  }
  std::string valuesPath = path + ".values";
  const json::array* values = getArr(req, "values");
  static const json::array kNone;
  if (!values) values = &kNone;
  if (values->empty()) {
    addInvalid(errs, valuesPath, "[]int32(nil)", "at least one value is required");
    return;
  }
  if (values->size() > kMaxExitCodeValues) {
    addTooMany(errs, valuesPath, values->size(), kMaxExitCodeValues);
    return;
  }
  bool ordered = true;
  std::set<int64_t> seen;
  std::optional<int64_t> previous;
  for (size_t j = 0; j < values->size(); ++j) {
    std::string valuePath = valuesPath + "[" + std::to_string(j) + "]";
    int64_t v = (*values)[j].is_int64() ? (*values)[j].get_int64() : 0;
    if (op == "In" && v == 0)
      addInvalidInt(errs, valuePath, v, "must not be 0 for the In operator");
    if (!seen.insert(v).second) addDuplicate(errs, valuePath, std::to_string(v));
    if (previous && *previous > v) ordered = false;
    previous = v;
  }
  if (!ordered) addInvalid(errs, valuesPath, formatInt32s(*values), "must be ordered");
}

void validateOnPodConditions(const json::array& patterns, const std::string& path,
                             FieldErrors& errs) {
  if (patterns.size() > kMaxPodConditionPatterns) {
    addTooMany(errs, path, patterns.size(), kMaxPodConditionPatterns);
  }
  for (size_t j = 0; j < patterns.size(); ++j) {
    std::string patternPath = path + "[" + std::to_string(j) + "]";
    static const json::object kNone;
    const json::object& p = patterns[j].is_object() ? patterns[j].get_object() : kNone;
    std::string_view type = getStr(p, "type");
    for (const auto& msg : isQualifiedName(type)) {
      addInvalidStr(errs, patternPath + ".type", type, msg);
    }
    std::string_view status = getStr(p, "status");
    if (status.empty()) {
      addRequired(errs, patternPath + ".status", "valid values: [\"False\" \"True\" \"Unknown\"]");
    } else if (status != "True" && status != "False" && status != "Unknown") {
      addNotSupported(errs, patternPath + ".status", goQuote(status), {"False", "True", "Unknown"});
    }
  }
}

}  // namespace

void validatePodFailurePolicy(const json::object& spec, const std::string& path,
                              FieldErrors& errs) {
  const json::object* policy = getObj(spec, "podFailurePolicy");
  if (!policy) return;
  std::string policyPath = path + ".podFailurePolicy";
  std::string rulesPath = policyPath + ".rules";
  const json::array* rules = getArr(*policy, "rules");
  static const json::array kNone;
  if (!rules) rules = &kNone;
  if (rules->size() > kMaxRules) addTooMany(errs, rulesPath, rules->size(), kMaxRules);
  std::set<std::string> containers = containerNames(spec);
  for (size_t i = 0; i < rules->size(); ++i) {
    std::string rulePath = rulesPath + "[" + std::to_string(i) + "]";
    static const json::object kNoRule;
    const json::object& rule = (*rules)[i].is_object() ? (*rules)[i].get_object() : kNoRule;
    std::string_view action = getStr(rule, "action");
    if (action == "FailIndex") {
      if (!spec.contains("backoffLimitPerIndex")) {
        addInvalidStr(errs, rulePath + ".action", action,
                      "requires the backoffLimitPerIndex to be set");
      }
    } else if (action != "FailJob" && action != "Ignore" && action != "Count") {
      addNotSupported(errs, rulePath + ".action", goQuote(action), {"Count", "FailJob", "Ignore"});
    }
    const json::object* onExitCodes = getObj(rule, "onExitCodes");
    const json::array* onConditions = getArr(rule, "onPodConditions");
    bool hasConditions = onConditions && !onConditions->empty();
    if (onExitCodes) validateOnExitCodes(*onExitCodes, rulePath + ".onExitCodes", containers, errs);
    if (hasConditions) validateOnPodConditions(*onConditions, rulePath + ".onPodConditions", errs);
    if (onExitCodes && hasConditions) {
      addInvalidOmitValue(errs, rulePath,
                          "specifying both OnExitCodes and OnPodConditions is not supported");
    }
    if (!onExitCodes && !hasConditions) {
      addInvalidOmitValue(errs, rulePath,
                          "specifying one of OnExitCodes and OnPodConditions is required");
    }
  }
  // upstream validateJobSpec: the policy needs pods that are never restarted in place.
  const json::object* tmpl = getObj(spec, "template");
  const json::object* ps = tmpl ? getObj(*tmpl, "spec") : nullptr;
  std::string_view restart = ps ? getStr(*ps, "restartPolicy") : "";
  if (restart == "OnFailure") {
    addInvalidStr(errs, path + ".template.spec.restartPolicy", restart,
                  "only \"Never\" is supported when podFailurePolicy is specified");
  }
}

}  // namespace berth::core::kinds::detail
